// The end of an outbox row's life, called by the processor of the work it asked for: deleted when the
// work is done, marked failed (with the reason) when the job fails for good.
import { sql } from "../db/client.ts";

/** Deletes the outbox row of finished work. */
export async function closeOutbox(queue: string, jobKey: string): Promise<void> {
  await sql()`delete from outbox where queue = ${queue} and job_key = ${jobKey}`;
}

/** Marks the outbox row of work that failed for good; reconcile leaves it for the operator. */
export async function failOutbox(queue: string, jobKey: string, error: string): Promise<void> {
  await sql()`update outbox set failed_at = now(), error = ${error.slice(0, 1000)}
              where queue = ${queue} and job_key = ${jobKey}`;
}
