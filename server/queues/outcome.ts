// What a job's failure means, asked in one place by processors and the runner: is it permanent (no
// retry will help), is this failed attempt the last one, or is it BullMQ control flow (the job was
// delayed, rate-limited or moved back to waiting: no attempt was spent, nothing failed).
import { type Job, UnrecoverableError } from "bullmq";

const CONTROL_FLOW = new Set(["DelayedError", "RateLimitError", "WaitingError"]);

/** BullMQ's signals that a job was moved (delayed, rate-limited, back to waiting), not failed. */
export function isControlFlowError(err: unknown): boolean {
  return CONTROL_FLOW.has((err as Error | undefined)?.name ?? "");
}

/** A failure no retry can fix (BullMQ's UnrecoverableError and its subclasses; the name survives Redis). */
export function isPermanentFailure(err: unknown): boolean {
  return err instanceof UnrecoverableError || (err as Error | undefined)?.name === "UnrecoverableError";
}

/**
 * Whether this failure ends the job: permanent, or its attempts are used up. Called while the attempt
 * is failing (attemptsMade does not count it yet), or after it with `counted`.
 */
export function isFinalAttempt(job: Job, err: unknown, counted = false): boolean {
  if (isControlFlowError(err)) return false;
  const made = job.attemptsMade + (counted ? 0 : 1);
  return isPermanentFailure(err) || made >= (job.opts.attempts ?? 1);
}
