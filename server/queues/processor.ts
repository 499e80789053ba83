// The contract of a queue/<name>.ts file and the factory that builds one from the registry: the
// payload is validated before the handler sees it, outbox queues close (or fail) the outbox row of
// their work, and createWorker() applies the queue's declared worker options with the environment's
// overrides (QUEUE_<NAME>_CONCURRENCY / _RATE / _LOCK_SECONDS), a name saying where it runs (host:pid, shown
// by the dashboard) and BullMQ's per-minute metrics (the dashboard's charts).
import { hostname } from "node:os";
import { type Job, MetricsTime, type Processor, UnrecoverableError, Worker, type WorkerOptions } from "bullmq";
import { config } from "../helpers/config.ts";
import { createRedis } from "../helpers/redis.ts";
import { closeOutbox, failOutbox, noteOutboxError } from "../outbox/rows.ts";
import { cappedBackoff } from "./backoff.ts";
import { isFinalAttempt, isPermanentFailure } from "./outcome.ts";
import {
  InvalidPayloadError,
  type PayloadOf,
  parsePayload,
  type QueueName,
  queueDeclaration,
  type WorkerDeclaration,
  workKey,
} from "./registry.ts";
import { noteSchedulerRun } from "./schedulers.ts";

/** Who runs a worker, as the dashboard shows it: host and process id. */
export const WORKER_NAME = `${hostname()}:${process.pid}`;

export type ProcessorWrapper = <T>(processor: Processor<T>) => Processor<T>;

export type JobHandler<Q extends QueueName> = (payload: PayloadOf<Q>, job: Job<PayloadOf<Q>>) => Promise<unknown>;

export interface ProcessorModule<Q extends QueueName = QueueName> {
  name: Q;
  /** The queue's worker options with the environment's overrides applied. */
  options(): WorkerDeclaration;
  processor: Processor<PayloadOf<Q>>;
  /** A Worker for this queue (not yet running: call run()); `wrap` decorates the processor (runner bookkeeping). */
  createWorker(overrides?: Partial<WorkerOptions>, wrap?: ProcessorWrapper): Worker<PayloadOf<Q>>;
}

/** A queue's declared worker options after QUEUE_<NAME>_CONCURRENCY / _RATE / _LOCK_SECONDS. */
export function effectiveWorkerOptions(queue: QueueName): WorkerDeclaration {
  const declared = queueDeclaration(queue).worker;
  const override = config().queues[queue] ?? {};
  const options: WorkerDeclaration = { concurrency: override.concurrency ?? declared.concurrency };
  const limiter = override.ratePerSecond ? { max: override.ratePerSecond, duration: 1_000 } : declared.limiter;
  const lockDuration = override.lockSeconds ? override.lockSeconds * 1000 : declared.lockDuration;
  if (limiter) options.limiter = limiter;
  if (lockDuration) options.lockDuration = lockDuration;
  return options;
}

/** Runs the handler of an outbox queue's job and settles its outbox row. */
async function settlingOutbox<Q extends QueueName>(
  queue: Q,
  payload: PayloadOf<Q>,
  job: Job,
  run: () => Promise<unknown>,
): Promise<unknown> {
  const key = workKey(queue, payload);
  try {
    const result = await run();
    await closeOutbox(queue, key);
    return result;
  } catch (err) {
    const reason = (err as Error).message;
    // Permanent: the row is failed, for the operator (a new fan-out of the key opens a new one).
    // Transient, retries used up: the row stays outstanding; reconcile hands it to the relay again.
    if (isPermanentFailure(err)) await failOutbox(queue, key, reason);
    else if (isFinalAttempt(job, err)) await noteOutboxError(queue, key, `gave up after ${job.attemptsMade + 1} attempts: ${reason}`);
    throw err;
  }
}

export function defineProcessor<Q extends QueueName>(queue: Q, handle: JobHandler<Q>): ProcessorModule<Q> {
  const declaration = queueDeclaration(queue);
  const processor: Processor<PayloadOf<Q>> = async (job) => {
    // A scheduler's job: its start is the scheduler's "last run" (never worth failing the job for).
    if (job.repeatJobKey) await noteSchedulerRun(job.repeatJobKey).catch(() => {});
    let payload: PayloadOf<Q>;
    try {
      payload = parsePayload(queue, job.data);
    } catch (err) {
      // A payload that does not validate will never validate: fail without retries.
      if (err instanceof InvalidPayloadError) throw new UnrecoverableError(err.message);
      throw err;
    }
    if (declaration.outbox) return settlingOutbox(queue, payload, job, () => handle(payload, job));
    return handle(payload, job);
  };

  return {
    name: queue,
    options: () => effectiveWorkerOptions(queue),
    processor,
    createWorker(overrides = {}, wrap) {
      const opts = effectiveWorkerOptions(queue);
      const workerOptions: WorkerOptions = {
        connection: createRedis(),
        prefix: config().queuePrefix,
        concurrency: opts.concurrency,
        autorun: false,
        name: WORKER_NAME,
        metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
        settings: { backoffStrategy: cappedBackoff },
        ...overrides,
      };
      // BullMQ merges options with Object.assign: an undefined value would erase its default.
      if (opts.limiter) workerOptions.limiter = opts.limiter;
      if (opts.lockDuration) {
        workerOptions.lockDuration = opts.lockDuration;
        // Stalled jobs (their worker died) are looked for at least once per lock period.
        workerOptions.stalledInterval = Math.min(30_000, opts.lockDuration);
      }
      return new Worker<PayloadOf<Q>>(queue, wrap ? wrap(processor) : processor, workerOptions);
    },
  };
}

/** True when a module's default export is a processor module (the runner ignores anything else). */
export function isProcessorModule(mod: unknown): mod is ProcessorModule {
  if (!mod || typeof mod !== "object") return false;
  const m = mod as Record<string, unknown>;
  return (
    typeof m.name === "string" &&
    typeof m.processor === "function" &&
    typeof m.createWorker === "function" &&
    typeof m.options === "function"
  );
}
