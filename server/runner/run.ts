// Runs discovered processors: one BullMQ Worker each, plus background services (outbox relay, …).
// Logs start-up, failures, stalls and a periodic summary; `limit` stops after N jobs, or as soon as
// nothing is runnable now (only delayed jobs left, e.g. held by the ESI guard); shutdown lets
// active jobs finish within a bounded wait and returns the rest to their queue, so none is lost
// and none is left active.
import { DelayedError, type Job, type Processor, UnrecoverableError, WaitingError, type Worker } from "bullmq";
import { log } from "../helpers/logger.ts";
import { onStopSignals } from "../helpers/signals.ts";
import { instrumentWorker } from "../metrics/workers.ts";
import type { ProcessorModule } from "../queues/processor.ts";
import { getQueue } from "../queues/queue.ts";
import type { QueueName } from "../queues/registry.ts";
import { registerDefaultSchedulers } from "../queues/schedulers.ts";

/** Something that runs beside the workers for the life of the runner. */
export interface RunnerService {
  name: string;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}

export interface RunOptions {
  modules: ProcessorModule[];
  /** Process this many jobs in all (completed or failed for good), then stop; stop sooner when nothing is
   * runnable now: no job waiting or active in the processors' queues, only delayed ones or none (debugging). */
  limit?: number;
  /** Period of the summary log line; 0 disables. */
  summaryIntervalMs?: number;
  /** How long shutdown waits for active jobs before returning them to their queue. */
  shutdownTimeoutMs?: number;
  services?: RunnerService[];
  /** Install SIGINT/SIGTERM handlers (a second signal forces). */
  handleSignals?: boolean;
  /** Register the processors' default job schedulers that do not exist yet. */
  registerSchedulers?: boolean;
}

export interface RunningWorkers {
  workers: Worker[];
  /** Stops taking jobs, waits for active ones (bounded), stops services, closes connections. */
  stop(reason?: string): Promise<void>;
  /** Resolves when the runner has stopped (after stop(), a signal or the limit). */
  done: Promise<void>;
}

interface QueueTally {
  completed: number;
  failed: number;
}

/** With a limit: how often the runner looks whether anything is runnable now. */
const IDLE_CHECK_MS = 1_000;

/** After the shutdown timeout, how long closing services and connections may take before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 15_000;

export async function runWorkers(opts: RunOptions): Promise<RunningWorkers> {
  const logger = log("queue");
  const limit = opts.limit;
  const shutdownTimeoutMs = opts.shutdownTimeoutMs ?? 30_000;
  const services = opts.services ?? [];
  const active = new Map<string, { job: Job; token: string | undefined }>();
  const tally = new Map<string, QueueTally>();
  let started = 0;
  let finished = 0;
  let delayed = 0;
  let pausedByLimit = false;
  let stopping: Promise<void> | undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));

  const workers: Worker[] = opts.modules.map((mod) => {
    // The wrapper tracks active jobs (for shutdown) and enforces the limit.
    const track =
      <T>(processor: Processor<T>): Processor<T> =>
      async (job, token) => {
        if (limit !== undefined && started >= limit) {
          await job.moveToWait(token);
          throw new WaitingError();
        }
        started++;
        if (limit !== undefined && started >= limit) {
          pausedByLimit = true;
          for (const w of workers) void w.pause(true);
        }
        active.set(`${mod.name}/${job.id}`, { job, token });
        try {
          return await processor(job, token);
        } catch (err) {
          // Delayed (the ESI guard, a bucket): the run does not count; the job comes back later.
          if (err instanceof DelayedError) {
            delayed++;
            release();
          }
          throw err;
        } finally {
          active.delete(`${mod.name}/${job.id}`);
        }
      };
    const worker: Worker = mod.createWorker({}, track);
    instrumentWorker(worker, mod.name);
    tally.set(mod.name, { completed: 0, failed: 0 });

    worker.on("completed", () => {
      tally.get(mod.name)!.completed++;
      onFinished();
    });
    worker.on("failed", (job, err) => {
      tally.get(mod.name)!.failed++;
      const attempts = job?.opts.attempts ?? 1;
      const final = !job || job.attemptsMade >= attempts || err instanceof UnrecoverableError || err.name === "UnrecoverableError";
      const fields = {
        queue: mod.name,
        jobId: job?.id,
        workKey: job?.opts.deduplication?.id,
        attemptsMade: job?.attemptsMade,
        attempts,
        reason: err.message,
      };
      // A job that failed for good is an error an operator must see; a retry on the way is a warning.
      if (final) logger.error(fields, "job failed for good");
      else logger.warn(fields, "job failed, will retry");
      if (final) onFinished();
      else release(); // a retry: the run does not count toward the limit
    });
    worker.on("stalled", (jobId) => logger.warn({ queue: mod.name, jobId }, "job stalled (its worker died?); returned to the queue"));
    worker.on("error", (err) => logger.error({ queue: mod.name, err: err.message }, "worker error"));
    return worker;
  });

  function onFinished(): void {
    finished++;
    if (limit !== undefined && finished >= limit) void stop(`limit of ${limit} jobs reached`);
  }

  /** A run that ended without finishing its job (delayed, or failed with a retry to come) frees its place. */
  function release(): void {
    started--;
    if (limit === undefined || !pausedByLimit || started >= limit || stopping) return;
    pausedByLimit = false;
    for (const w of workers) w.resume();
  }

  // With a limit, stop as soon as nothing is runnable now (seen twice in a row, a second apart): jobs held
  // by the ESI guard sit in the delayed set and would otherwise keep the runner waiting for them.
  let idleSeen = 0;
  const idleTimer =
    limit !== undefined
      ? setInterval(() => {
          void runnableNow().then(
            (runnable) => {
              idleSeen = runnable.total === 0 && active.size === 0 ? idleSeen + 1 : 0;
              if (idleSeen >= 2) {
                void stop(
                  `nothing runnable now: ${finished} of the limit of ${limit} jobs processed, ${runnable.delayed} delayed (${delayed} runs delayed here)`,
                );
              }
            },
            () => (idleSeen = 0),
          );
        }, IDLE_CHECK_MS)
      : undefined;
  idleTimer?.unref();

  /** Jobs of the processors' queues a worker could take now (waiting, prioritized, active), and delayed ones. */
  async function runnableNow(): Promise<{ total: number; delayed: number }> {
    const counts = await Promise.all(
      opts.modules.map((m) => getQueue(m.name as QueueName).getJobCounts("waiting", "prioritized", "active", "delayed")),
    );
    return {
      total: counts.reduce((n, c) => n + (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.active ?? 0), 0),
      delayed: counts.reduce((n, c) => n + (c.delayed ?? 0), 0),
    };
  }

  const summaryMs = opts.summaryIntervalMs ?? 30_000;
  let lastSummary = Date.now();
  const summaryTimer =
    summaryMs > 0
      ? setInterval(() => {
          const seconds = (Date.now() - lastSummary) / 1000;
          lastSummary = Date.now();
          const queues = Object.fromEntries(
            [...tally].map(([name, t]) => [
              name,
              { done: t.completed, failed: t.failed, perSecond: Math.round((t.completed / seconds) * 10) / 10 },
            ]),
          );
          for (const t of tally.values()) {
            t.completed = 0;
            t.failed = 0;
          }
          logger.info({ queues, active: active.size }, "summary");
        }, summaryMs)
      : undefined;
  summaryTimer?.unref();

  async function stop(reason = "stop requested"): Promise<void> {
    if (stopping) return stopping;
    stopping = (async () => {
      logger.info({ reason, active: active.size }, "shutting down: no new jobs; waiting for active ones");
      if (summaryTimer) clearInterval(summaryTimer);
      if (idleTimer) clearInterval(idleTimer);
      const closing = Promise.all(workers.map((w) => w.close()));
      const timedOut = await Promise.race([
        closing.then(() => false),
        new Promise<boolean>((r) => setTimeout(() => r(true), shutdownTimeoutMs).unref()),
      ]);
      if (timedOut) await returnActiveJobs(`still running after ${shutdownTimeoutMs} ms`);
      for (const service of services.toReversed()) {
        try {
          await service.stop();
        } catch (err) {
          logger.error({ service: service.name, err: (err as Error).message }, "service failed to stop");
        }
      }
      logger.info("stopped");
      resolveDone();
    })();
    return stopping;
  }

  /** Moves jobs still active in this process back to waiting (their processors are abandoned). */
  async function returnActiveJobs(why: string): Promise<void> {
    const jobs = [...active.values()];
    logger.warn({ jobs: jobs.map((j) => j.job.id), why }, "returning active jobs to their queue");
    await Promise.all(
      jobs.map(({ job, token }) =>
        job.moveToWait(token).catch((err: Error) => logger.error({ jobId: job.id, err: err.message }, "could not return job")),
      ),
    );
    active.clear();
    // The abandoned processors may still be running: the caller exits the process next.
  }

  if (opts.handleSignals) {
    const removeHandlers = onStopSignals(
      (signal) => {
        logger.info({ signal }, "signal received; send it again to force");
        // The first signal always ends the process: if closing hangs (Redis or Postgres gone), it exits anyway.
        setTimeout(() => {
          logger.error({ signal }, "shutdown did not finish in time: exiting");
          process.exit(1);
        }, shutdownTimeoutMs + SHUTDOWN_GRACE_MS).unref();
        void stop(signal);
      },
      (signal) => {
        logger.warn({ signal }, "second signal: forcing shutdown");
        void returnActiveJobs("forced by a second signal").finally(() => process.exit(130));
      },
    );
    void done.then(removeHandlers);
  }

  if (opts.registerSchedulers) await registerDefaultSchedulers(opts.modules.map((m) => m.name));
  for (const service of services) {
    await service.start();
    logger.info({ service: service.name }, "service started");
  }
  for (const [i, worker] of workers.entries()) {
    const mod = opts.modules[i]!;
    const o = mod.options();
    logger.info({ queue: mod.name, concurrency: o.concurrency, limiter: o.limiter ?? null, limit: limit ?? null }, "worker started");
    void worker.run().catch((err: Error) => logger.error({ queue: mod.name, err: err.message }, "worker stopped on error"));
  }

  return { workers, stop, done };
}
