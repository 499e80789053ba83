// backfill processor: long batch work cut into jobs, dispatched by `task`. Adding a task is adding one
// handler to TASKS. values: recompute the values of one id range (server/backfill/values-range.ts);
// values-run: plan a value-backfill run and enqueue its ranges (what the flagged scheduler enqueues);
// alliance-corporations, alliance-snapshot: enrichment workflows (server/enrichment/).
import { type Job, UnrecoverableError } from "bullmq";
import { recordRangeFailure, UnknownRangeError, valueRangeJob } from "../server/backfill/values-range.ts";
import { FLAGGED_EVERY_MS, FLAGGED_SCHEDULER_ID, startValuesRun } from "../server/backfill/values-run.ts";
import { sql } from "../server/db/client.ts";
import { allianceCorporationsTask } from "../server/enrichment/alliances.ts";
import { allianceSnapshotTask, SNAPSHOT_DEFAULT_CRON, SNAPSHOT_SCHEDULER_ID } from "../server/enrichment/snapshots.ts";
import type { PayloadOf } from "../server/helpers/job-payloads.ts";
import { defineProcessor, type SchedulerSpec } from "../server/helpers/processor.ts";
import { JobPriority } from "../server/helpers/queue.ts";

type Backfill = PayloadOf<"backfill">;
type Task = Backfill["task"];
type Handler<T extends Task> = (payload: Extract<Backfill, { task: T }>, job: Job<Backfill>) => Promise<unknown>;

/** Whether this failed attempt is the last one (no retry follows). */
function isFinalAttempt(job: Job, err: unknown): boolean {
  return err instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

async function values(payload: Extract<Backfill, { task: "values" }>, job: Job<Backfill>): Promise<unknown> {
  try {
    return await valueRangeJob(sql(), payload);
  } catch (err) {
    const failure = err instanceof UnknownRangeError ? new UnrecoverableError(err.message) : err;
    const message = failure instanceof Error ? failure.message : String(failure);
    // The range's record says why; the last attempt marks it failed so the run can finish (as failed).
    await recordRangeFailure(sql(), payload, message, isFinalAttempt(job, failure)).catch(() => {});
    throw failure;
  }
}

async function valuesRun(payload: Extract<Backfill, { task: "values-run" }>): Promise<unknown> {
  const { mode, fromDate, toDate } = payload;
  const result = await startValuesRun(
    sql(),
    { mode, ...(fromDate ? { fromDate } : {}), ...(toDate ? { toDate } : {}) },
    { source: "scheduler" },
  );
  return { runId: result.run.runId, created: result.created, ranges: result.ranges, enqueued: result.enqueued, kills: result.run.total };
}

const TASKS: { [T in Task]?: Handler<T> } = {
  values,
  "values-run": valuesRun,
  "alliance-corporations": allianceCorporationsTask,
  "alliance-snapshot": allianceSnapshotTask,
};

export const { name, options, processor, createWorker } = defineProcessor({
  name: "backfill",
  // Each job is one set-based statement over a range of 10k kills; three at once per process kept two
  // cores busiest in bench:backfill (QUEUE_BACKFILL_CONCURRENCY overrides).
  options: { concurrency: 3, lockDuration: 60_000 },
  handle: (payload, job) => {
    const handler = TASKS[payload.task] as Handler<Task> | undefined;
    if (!handler) throw new UnrecoverableError(`backfill task '${payload.task}' is not supported yet`);
    return handler(payload, job);
  },
});

/**
 * Default job schedulers of this queue, created by `bun queue` when missing (an operator's change, e.g.
 * `bun cli backfill:schedule --every 30`, survives restarts): the flagged value backfill every 10 min and
 * the daily alliance snapshot (12:00 UTC).
 */
export const schedulers: SchedulerSpec<"backfill">[] = [
  { id: FLAGGED_SCHEDULER_ID, data: { task: "values-run", mode: "flagged" }, every: FLAGGED_EVERY_MS, priority: JobPriority.LOW },
  { id: SNAPSHOT_SCHEDULER_ID, data: { task: "alliance-snapshot" }, cron: SNAPSHOT_DEFAULT_CRON, priority: JobPriority.LOW },
];
