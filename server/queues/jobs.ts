// Operator actions on single jobs and on a queue's jobs, shared by the admin API (server/routes/admin-jobs.ts)
// and the CLI (job:*, jobs:list, queue:retry, queue:clean): list by state (paged), one job in detail (logs,
// cut stack trace), retry with the de-duplication rule (a fresh set of attempts; skipped when the same
// work is pending again in a newer job), remove, promote, clean. Nothing here prints or answers HTTP.
import type { Job, JobType } from "bullmq";
import { redis } from "../helpers/redis.ts";
import { isTransientReason } from "../helpers/transient.ts";
import { getQueue } from "./queue.ts";
import { QUEUE_NAMES, type QueueName } from "./registry.ts";
import { type CleanState, type ListState, MAX_PAGE } from "./states.ts";

export { CLEAN_STATES, type CleanState, LIST_STATES, type ListState, MAX_PAGE } from "./states.ts";

/** A job as a listing shows it. */
export interface JobSummary {
  id: string;
  name: string;
  data: unknown;
  priority: number;
  attemptsMade: number;
  attempts: number;
  progress: unknown;
  failedReason: string | null;
  /** Epoch ms: added, started, finished; and when a delayed job is due. */
  timestamp: number;
  processedOn: number | null;
  finishedOn: number | null;
  dueAt: number | null;
  /** The job scheduler that made it, if any. */
  scheduler: string | null;
}

/** One job in full: its state, the work key, the cut stack trace of the last failure, its log lines. */
export interface JobDetail extends JobSummary {
  queue: QueueName;
  state: string;
  workKey: string | null;
  returnValue: unknown;
  stacktrace: string | null;
  logs: { total: number; lines: string[] };
}

/** Lines of a stack trace kept (the message and the innermost frames tell what happened). */
const STACK_LINES = 15;
/** Log lines a job view shows (the newest). */
const LOG_LINES = 200;

function summary(job: Job): JobSummary {
  return {
    id: String(job.id),
    name: job.name,
    data: job.data as unknown,
    priority: job.priority,
    attemptsMade: job.attemptsMade,
    attempts: job.opts.attempts ?? 1,
    progress: job.progress as unknown,
    failedReason: job.failedReason || null,
    timestamp: job.timestamp,
    processedOn: job.processedOn ?? null,
    finishedOn: job.finishedOn ?? null,
    dueAt: job.delay ? job.timestamp + job.delay : null,
    scheduler: job.repeatJobKey ?? null,
  };
}

/** The last failure's stack trace, cut to its first lines. */
export function cutStack(stacktrace: readonly string[] | null | undefined): string | null {
  const last = stacktrace?.at(-1);
  if (!last) return null;
  const lines = last.split("\n");
  return lines.length > STACK_LINES ? [...lines.slice(0, STACK_LINES), `    … ${lines.length - STACK_LINES} more lines`].join("\n") : last;
}

/** A page of a queue's jobs in one state, newest first for finished ones, next-to-run first otherwise. */
export async function listJobs(
  queue: QueueName,
  state: ListState,
  start = 0,
  limit = 50,
): Promise<{ queue: QueueName; state: ListState; total: number; start: number; jobs: JobSummary[] }> {
  const q = getQueue(queue);
  const take = Math.min(Math.max(1, limit), MAX_PAGE);
  if (state === "paused" && !(await q.isPaused())) return { queue, state, total: 0, start, jobs: [] };
  const types: JobType[] = state === "paused" ? ["waiting", "prioritized"] : [state];
  const asc = state !== "completed" && state !== "failed";
  const [jobs, total] = await Promise.all([q.getJobs(types, start, start + take - 1, asc), q.getJobCountByTypes(...types)]);
  return { queue, state, total, start, jobs: jobs.filter((j): j is Job => Boolean(j)).map(summary) };
}

/** Failed or active jobs of every queue, newest first, at most `limit` of each queue. */
export async function jobsAcrossQueues(
  state: "failed" | "active",
  limit = 50,
): Promise<{ state: string; total: number; jobs: (JobSummary & { queue: QueueName })[] }> {
  const pages = await Promise.all(QUEUE_NAMES.map((queue) => listJobs(queue, state, 0, limit)));
  const jobs = pages.flatMap((p) => p.jobs.map((j) => ({ queue: p.queue, ...j })));
  jobs.sort((a, b) => (b.finishedOn ?? b.processedOn ?? b.timestamp) - (a.finishedOn ?? a.processedOn ?? a.timestamp));
  return { state, total: pages.reduce((n, p) => n + p.total, 0), jobs };
}

/** One job in full, or null when the queue has no such job. */
export async function jobDetail(queue: QueueName, id: string): Promise<JobDetail | null> {
  const q = getQueue(queue);
  const job = await q.getJob(id);
  if (!job) return null;
  const [state, logs] = await Promise.all([job.getState(), q.getJobLogs(id, -LOG_LINES, -1, true)]);
  return {
    queue,
    state,
    ...summary(job),
    workKey: job.deduplicationId ?? null,
    returnValue: (job.returnvalue ?? null) as unknown,
    stacktrace: cutStack(job.stacktrace),
    logs: { total: logs.count, lines: logs.logs },
  };
}

export type RetryOutcome = "retried" | "skipped" | "not-failed" | "not-found";

/**
 * Moves one failed job back to its queue with a fresh set of attempts and its priority. The work key
 * was released when the job failed; it is taken again first, so when a newer job holds it (the same work
 * is pending again) the job is skipped, never doubled.
 */
export async function retryJob(queue: QueueName, id: string): Promise<RetryOutcome> {
  const q = getQueue(queue);
  const job = await q.getJob(id);
  if (!job) return "not-found";
  if (!(await job.isFailed())) return "not-failed";
  const client = redis();
  const dedupKey = job.deduplicationId ? `${q.keys.de!}:${job.deduplicationId}` : undefined;
  if (dedupKey && (await client.set(dedupKey, id, "NX")) === null && (await client.get(dedupKey)) !== id) return "skipped";
  try {
    await job.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
    return "retried";
  } catch {
    // No longer failed (retried by someone else, removed): give the work key back unless it names another job.
    if (dedupKey && (await client.get(dedupKey)) === id) await client.del(dedupKey);
    return (await q.getJob(id)) ? "not-failed" : "not-found";
  }
}

export interface RetryFailedResult {
  queue: QueueName;
  /** Moved back to waiting/prioritized. */
  retried: number;
  /** Left failed: the same work is pending in a newer job. */
  skipped: number;
  /** Left failed: not a transient failure (only with transientOnly). */
  notTransient: number;
  /** Gone meanwhile (removed by retention, or retried by someone else). */
  gone: number;
}

/**
 * Retries the jobs that were failed when it started (later failures are left for the next run), by
 * retryJob's rule. With transientOnly, only jobs whose last failure is a transient one (see
 * isTransientReason) — an outage a retry can outlive, not a permanent refusal.
 */
export async function retryFailed(queue: QueueName, opts: { transientOnly?: boolean } = {}): Promise<RetryFailedResult> {
  const q = getQueue(queue);
  const result: RetryFailedResult = { queue, retried: 0, skipped: 0, notTransient: 0, gone: 0 };
  // The failed set is scored by time of failure.
  const ids = await redis().zrangebyscore(q.keys.failed!, "-inf", Date.now());
  const retryOne = async (id: string) => {
    if (opts.transientOnly) {
      const job = await q.getJob(id);
      if (!job) return void result.gone++;
      if (!isFailedTransiently(job)) return void result.notTransient++;
    }
    const outcome = await retryJob(queue, id);
    if (outcome === "retried") result.retried++;
    else if (outcome === "skipped") result.skipped++;
    else result.gone++;
  };
  for (let start = 0; start < ids.length; start += 100) await Promise.all(ids.slice(start, start + 100).map(retryOne));
  return result;
}

/**
 * Whether a failed job's last failure was transient. A job that failed before its attempts were used up
 * was failed at once as permanent (UnrecoverableError); otherwise the failure's error name (the first
 * line of its stack trace) and message decide.
 */
export function isFailedTransiently(job: Job): boolean {
  if (job.attemptsMade < (job.opts.attempts ?? 1)) return false;
  const firstLine = job.stacktrace?.at(-1)?.split("\n")[0] ?? "";
  const name = /^([A-Za-z]+(?:Error|Exception)?):/.exec(firstLine)?.[1] ?? "Error";
  return isTransientReason(name, job.failedReason ?? "");
}

export type RemoveOutcome = "removed" | "active" | "not-found";

/** Removes one job (not an active one: its worker holds it; it can be removed once it ends). */
export async function removeJob(queue: QueueName, id: string): Promise<RemoveOutcome> {
  const q = getQueue(queue);
  const job = await q.getJob(id);
  if (!job) return "not-found";
  if (await job.isActive()) return "active";
  // 0: locked by a worker meanwhile; the job stays.
  return (await q.remove(id)) === 1 ? "removed" : (await q.getJob(id)) ? "active" : "not-found";
}

export type PromoteOutcome = "promoted" | "not-delayed" | "not-found";

/** Runs a delayed job now (moves it to waiting/prioritized). */
export async function promoteJob(queue: QueueName, id: string): Promise<PromoteOutcome> {
  const job = await getQueue(queue).getJob(id);
  if (!job) return "not-found";
  if (!(await job.isDelayed())) return "not-delayed";
  try {
    await job.promote();
    return "promoted";
  } catch {
    return (await getQueue(queue).getJob(id)) ? "not-delayed" : "not-found";
  }
}

/** Removes up to `limit` jobs of a state older than `graceSeconds` (by their finish or creation time); returns how many. */
export async function cleanQueue(queue: QueueName, state: CleanState, graceSeconds: number, limit: number): Promise<number> {
  const removed = await getQueue(queue).clean(graceSeconds * 1000, limit, state === "waiting" ? "wait" : state);
  return removed.length;
}
