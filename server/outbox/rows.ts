// The end of an outbox row's life, called by the processor of the work it asked for: deleted when the
// work is done; marked failed (with the reason) when it failed for good on a permanent fault, which no
// longer blocks the fan-out of the same key (only outstanding rows are unique per key); left outstanding
// with the reason noted when retries ran out on a transient one, so reconcile hands it to the relay again.
import { sql } from "../db/client.ts";

/** Deletes the outbox rows of finished work (an earlier failed one included). */
export async function closeOutbox(queue: string, jobKey: string): Promise<void> {
  await sql()`delete from outbox where queue = ${queue} and job_key = ${jobKey}`;
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
