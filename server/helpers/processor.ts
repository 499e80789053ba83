// The contract of a queue/<name>.ts module and the factory that builds one: name, worker options,
// processor (payload validated before the domain function sees it) and createWorker() with the
// per-queue overrides from the environment applied.
import { type Job, type Processor, UnrecoverableError, Worker, type WorkerOptions } from "bullmq";
import { config, type QueueName } from "./config.ts";
import { InvalidPayloadError, type PayloadOf, parsePayload } from "./job-payloads.ts";
import { createRedis } from "./redis.ts";

export interface ProcessorOptions {
  /** Jobs in flight per process. */
  concurrency: number;
  /** At most `max` jobs started per `duration` ms across all workers of the queue. */
  limiter?: { max: number; duration: number };
  /** Lock duration in ms (default 30 s); raise it for long jobs. */
  lockDuration?: number;
}

export type ProcessorWrapper = <T>(processor: Processor<T>) => Processor<T>;

export type JobHandler<Q extends QueueName> = (payload: PayloadOf<Q>, job: Job<PayloadOf<Q>>) => Promise<unknown>;

/** A job scheduler a processor brings: registered by `bun queue` when missing (see registerSchedulers). */
export interface SchedulerSpec<Q extends QueueName = QueueName> {
  id: string;
  data: PayloadOf<Q>;
  /** Cron pattern (UTC) or interval in ms: exactly one. */
  cron?: string;
  every?: number;
  priority?: number;
}

export interface ProcessorModule<Q extends QueueName = QueueName> {
  name: Q;
  options: ProcessorOptions;
  /** Default job schedulers of this queue (optional export of a processor file). */
  schedulers?: SchedulerSpec<Q>[];
  processor: Processor<PayloadOf<Q>>;
  /** A Worker for this queue (not yet running: call run()); `wrap` decorates the processor (runner bookkeeping). */
  createWorker(overrides?: Partial<WorkerOptions>, wrap?: ProcessorWrapper): Worker<PayloadOf<Q>>;
}

/** Options after QUEUE_<NAME>_CONCURRENCY / QUEUE_<NAME>_RATE from the environment. */
export function effectiveOptions(name: QueueName, options: ProcessorOptions): ProcessorOptions {
  const override = config().queues[name] ?? {};
  return {
    ...options,
    concurrency: override.concurrency ?? options.concurrency,
    limiter: override.ratePerSecond ? { max: override.ratePerSecond, duration: 1_000 } : options.limiter,
    lockDuration: override.lockSeconds ? override.lockSeconds * 1000 : options.lockDuration,
  };
}

export function defineProcessor<Q extends QueueName>(def: {
  name: Q;
  options: ProcessorOptions;
  handle: JobHandler<Q>;
  schedulers?: SchedulerSpec<Q>[];
}): ProcessorModule<Q> {
  const processor: Processor<PayloadOf<Q>> = async (job) => {
    let payload: PayloadOf<Q>;
    try {
      payload = parsePayload(def.name, job.data);
    } catch (err) {
      // A payload that does not validate will never validate: fail without retries.
      if (err instanceof InvalidPayloadError) throw new UnrecoverableError(err.message);
      throw err;
    }
    return def.handle(payload, job);
  };

  return {
    name: def.name,
    options: def.options,
    schedulers: def.schedulers ?? [],
    processor,
    createWorker(overrides = {}, wrap) {
      const opts = effectiveOptions(def.name, def.options);
      const workerOptions: WorkerOptions = {
        connection: createRedis(),
        prefix: config().queuePrefix,
        concurrency: opts.concurrency,
        autorun: false,
        ...overrides,
      };
      // BullMQ merges options with Object.assign: an undefined value would erase its default.
      if (opts.limiter) workerOptions.limiter = opts.limiter;
      if (opts.lockDuration) {
        workerOptions.lockDuration = opts.lockDuration;
        // Stalled jobs (their worker died) are looked for at least once per lock period.
        workerOptions.stalledInterval = Math.min(30_000, opts.lockDuration);
      }
      return new Worker<PayloadOf<Q>>(def.name, wrap ? wrap(processor) : processor, workerOptions);
    },
  };
}

/** True when a module's exports look like a processor module (the runner ignores anything else). */
export function isProcessorModule(mod: unknown): mod is ProcessorModule {
  if (!mod || typeof mod !== "object") return false;
  const m = mod as Record<string, unknown>;
  return (
    typeof m.name === "string" &&
    typeof m.processor === "function" &&
    typeof m.createWorker === "function" &&
    typeof m.options === "object" &&
    m.options !== null
  );
}
