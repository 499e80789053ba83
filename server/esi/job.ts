// The one helper processors wrap their upstream calls in: when ESI (or zKillboard) must not be called
// yet — the shared guard is up, a 420/429 came back, a bucket is empty, the pace or the live reserve holds
// the call back, Tranquility is down — the job is moved to delayed until then and BullMQ is told so with
// DelayedError: it waits without spending an attempt. Every other error passes through
// (NotFoundError/InvalidError fail at once, RetryableError retries). The job's priority decides its
// caller class (caller.ts): the user and live tiers may spend the error budget's live reserve.
import { DelayedError, type Job } from "bullmq";
import { log } from "../helpers/logger.ts";
import { classOfPriority, withEsiClass } from "./caller.ts";
import { EsiBlockedError } from "./errors.ts";

/** Spreads jobs that were blocked together over a little time, so they do not all return at once. */
function jitter(waitMs: number): number {
  return Math.floor(Math.random() * Math.min(5_000, 250 + waitMs * 0.1));
}

/**
 * Runs `fn` as the job's caller class (from job.opts.priority); if it throws EsiBlockedError, moves the
 * job to delayed until the upstream may be called again and throws DelayedError (attemptsMade does not
 * grow). `token` defaults to the job's lock token.
 */
export async function withEsi<T>(job: Job, fn: () => Promise<T>, token: string | undefined = job.token): Promise<T> {
  try {
    return await withEsiClass(classOfPriority(job.opts.priority), fn);
  } catch (err) {
    if (!(err instanceof EsiBlockedError)) throw err;
    const waitMs = Math.max(0, err.until - Date.now());
    const until = Date.now() + waitMs + jitter(waitMs);
    log("esi").debug({ jobId: job.id, queue: job.queueName, reason: err.reason, until }, "job waits for upstream budget");
    await job.moveToDelayed(until, token);
    throw new DelayedError(`waiting for ${err.where.upstream} (${err.reason}) until ${new Date(until).toISOString()}`);
  }
}
