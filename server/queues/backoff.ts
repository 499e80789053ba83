// The retry delay of every job: exponential from the queue's declared delay, capped at its maxDelay, with
// jitter so jobs that failed together do not come back together. A custom BullMQ backoff strategy
// (job option `backoff: {type: "capped-exponential"}`), given to every Worker we create: with a cap, a
// queue can afford many attempts (minutes of an outage) without waiting hours between the last ones.
import type { BackoffOptions, BackoffStrategy } from "bullmq";
import { isQueueName, queueDeclaration, type RetryDeclaration } from "./registry.ts";

export const CAPPED_BACKOFF = "capped-exponential";

/** The job option that selects the strategy (BullMQ needs a delay > 0 to call it). */
export function backoffOption(retry: RetryDeclaration): BackoffOptions {
  return { type: CAPPED_BACKOFF, delay: retry.delay };
}

/** The delay before retry number `attemptsMade` (1 = the first retry). */
export function retryDelay(retry: RetryDeclaration, attemptsMade: number, random = Math.random()): number {
  const full = Math.min(retry.maxDelay, retry.delay * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(full * (1 - retry.jitter * random));
}

const FALLBACK: RetryDeclaration = { attempts: 3, delay: 1_000, maxDelay: 60_000, jitter: 0.5 };

export const cappedBackoff: BackoffStrategy = (attemptsMade, _type, _err, job) => {
  const queue = job?.queueName ?? "";
  return retryDelay(isQueueName(queue) ? queueDeclaration(queue).retry : FALLBACK, attemptsMade);
};
