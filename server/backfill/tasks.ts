// The backfill queue's tasks, one handler each: values (recompute one id range of a value-backfill
// run), values-run (plan a run and enqueue its ranges: what the flagged scheduler enqueues),
// alliance-corporations and alliance-snapshot (enrichment workflows). Adding a task is adding its
// payload to the registry's schema and one handler to TASKS.
import { type Job, UnrecoverableError } from "bullmq";
import { sql } from "../db/client.ts";
import { allianceCorporationsTask } from "../enrichment/alliances.ts";
import { allianceSnapshotTask } from "../enrichment/snapshots.ts";
import { isPermanentDatabaseError } from "../helpers/transient.ts";
import { isFinalAttempt } from "../queues/outcome.ts";
import type { PayloadOf } from "../queues/registry.ts";
import { recordRangeFailure, UnknownRangeError, valueRangeJob } from "./values-range.ts";
import { startValuesRun } from "./values-run.ts";

type Backfill = PayloadOf<"backfill">;
type Task = Backfill["task"];
type Handler<T extends Task> = (payload: Extract<Backfill, { task: T }>, job: Job) => Promise<unknown>;

async function values(payload: Extract<Backfill, { task: "values" }>, job: Job): Promise<unknown> {
  try {
    return await valueRangeJob(sql(), payload);
  } catch (err) {
    // A range the database refuses to value (bad data, a trigger saying no) fails at once; the rest retries.
    const failure =
      err instanceof UnknownRangeError || isPermanentDatabaseError(err) ? new UnrecoverableError((err as Error).message) : err;
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

const TASKS: { [T in Task]: Handler<T> } = {
  values,
  "values-run": valuesRun,
  "alliance-corporations": allianceCorporationsTask,
  "alliance-snapshot": allianceSnapshotTask,
};

export function backfillTask(payload: Backfill, job: Job): Promise<unknown> {
  return (TASKS[payload.task] as Handler<Task>)(payload, job);
}
