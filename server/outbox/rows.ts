// The end of an outbox row's life, called by the processor of the work it asked for: deleted when the
// work is done; marked failed (with the reason) when it failed for good on a permanent fault, which no
// longer blocks the fan-out of the same key (only outstanding rows are unique per key); left outstanding
// with the reason noted when retries ran out on a transient one, so reconcile hands it to the relay again.
import { pgArray } from "../db/arrays.ts";
import { sql } from "../db/client.ts";

interface Closing {
  queue: string;
  jobKey: string;
  resolve(): void;
  reject(err: unknown): void;
}

let closing: Closing[] = [];
let flushTimer: ReturnType<typeof setTimeout> | undefined;

/** One DELETE for the rows of every job that finished in the last few milliseconds. */
async function flushCloses(): Promise<void> {
  flushTimer = undefined;
  const batch = closing;
  closing = [];
  try {
    await sql()`delete from outbox o using unnest(${pgArray(batch.map((c) => c.queue))}::text[], ${pgArray(batch.map((c) => c.jobKey))}::text[]) as u(queue, job_key)
                where o.queue = u.queue and o.job_key = u.job_key`;
    for (const c of batch) c.resolve();
  } catch (err) {
    for (const c of batch) c.reject(err);
  }
}

/**
 * Deletes the outbox rows of finished work (an earlier failed one included); resolves once deleted.
 * Jobs finishing together (a thousand names resolved at once) share one statement.
 */
export function closeOutbox(queue: string, jobKey: string): Promise<void> {
  return new Promise((resolve, reject) => {
    closing.push({ queue, jobKey, resolve, reject });
    if (closing.length >= 1_000) {
      if (flushTimer) clearTimeout(flushTimer);
      void flushCloses();
    } else flushTimer ??= setTimeout(() => void flushCloses(), 10);
  });
}

/** Marks the outstanding row of work that failed for good (a permanent fault); one failed row per key is kept. */
export async function failOutbox(queue: string, jobKey: string, error: string): Promise<void> {
  await sql().begin(async (tx) => {
    await tx`delete from outbox where queue = ${queue} and job_key = ${jobKey} and failed_at is not null`;
    await tx`update outbox set failed_at = now(), error = ${error.slice(0, 1000)}
             where queue = ${queue} and job_key = ${jobKey} and failed_at is null`;
  });
}

/** Notes why outstanding work is not done yet (its job gave up on a transient fault); reconcile redoes it. */
export async function noteOutboxError(queue: string, jobKey: string, error: string): Promise<void> {
  await sql()`update outbox set error = ${error.slice(0, 1000)}
              where queue = ${queue} and job_key = ${jobKey} and failed_at is null`;
}
