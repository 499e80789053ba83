// Runs a job that a stored kill's outbox asked for, and closes the loop in Postgres: the outbox row is
// deleted when the work is done and marked failed when the job fails for good (reconcile then leaves
// it for the operator instead of re-enqueueing it forever).
import { type Job, UnrecoverableError } from "bullmq";
import type { QueueName } from "../helpers/queue.ts";
import { closeOutbox, failOutbox } from "../outbox/relay.ts";

const CONTROL_FLOW = new Set(["DelayedError", "RateLimitError", "WaitingError"]);

export async function runOutboxJob<T>(queue: QueueName, key: string, job: Job, work: () => Promise<T>): Promise<T> {
  try {
    const result = await work();
    await closeOutbox(queue, key);
    return result;
  } catch (err) {
    const e = err as Error;
    const final = err instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (final && !CONTROL_FLOW.has(e.name)) await failOutbox(queue, key, e.message);
    throw err;
  }
}
