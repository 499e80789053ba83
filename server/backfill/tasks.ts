// The backfill queue's tasks, one handler each: values (recompute one id range of a value-backfill
// run), values-run (plan a run and enqueue its ranges: what the flagged scheduler enqueues),
// alliance-corporations and alliance-snapshot (enrichment workflows). Adding a task is adding its
// payload to the registry's schema and one handler to TASKS. Each task logs what it does and how it
// ended in the job's log (the dashboard's job view).
import { type Job, UnrecoverableError } from "bullmq";
import { sql } from "../db/client.ts";
import { allianceCorporationsTask } from "../enrichment/alliances.ts";
import { allianceSnapshotTask } from "../enrichment/snapshots.ts";
import { isPermanentDatabaseError } from "../helpers/transient.ts";
import { jobLog, jobProgress } from "../queues/job-report.ts";
import { isFinalAttempt } from "../queues/outcome.ts";
import type { PayloadOf } from "../queues/registry.ts";
import { recordRangeFailure, UnknownRangeError, valueRangeJob } from "./values-range.ts";
import { startValuesRun } from "./values-run.ts";

type Backfill = PayloadOf<"backfill">;
type Task = Backfill["task"];
type Handler<T extends Task> = (payload: Extract<Backfill, { task: T }>, job: Job) => Promise<unknown>;

async function values(payload: Extract<Backfill, { task: "values" }>, job: Job): Promise<unknown> {
  const range = `kills ${payload.fromId}–${payload.toId} (mode ${payload.mode}${payload.runId ? `, run ${payload.runId}` : ""})`;
  await jobLog(job, `valuing ${range}`);
  const started = performance.now();
  try {
    const result = await valueRangeJob(sql(), payload);
    const took = ((performance.now() - started) / 1000).toFixed(1);
    await jobProgress(
      job,
      100,
      result.alreadyDone
        ? "range already done by an earlier attempt: nothing written"
        : `valued ${result.updated} kills, ${result.skipped} skipped, in ${took} s`,
    );
    return result;
  } catch (err) {
    // A range the database refuses to value (bad data, a trigger saying no) fails at once; the rest retries.
    const failure =
      err instanceof UnknownRangeError || isPermanentDatabaseError(err) ? new UnrecoverableError((err as Error).message) : err;
    const message = failure instanceof Error ? failure.message : String(failure);
    // The range's record says why; the last attempt marks it failed so the run can finish (as failed).
    await recordRangeFailure(sql(), payload, message, isFinalAttempt(job, failure)).catch(() => {});
    await jobLog(job, `failed: ${message}`);
    throw failure;
  }
}

async function valuesRun(payload: Extract<Backfill, { task: "values-run" }>, job: Job): Promise<unknown> {
  const { mode, fromDate, toDate } = payload;
  await jobLog(job, `planning a value backfill run (mode ${mode}${fromDate ? ` from ${fromDate}` : ""}${toDate ? ` to ${toDate}` : ""})`);
  const result = await startValuesRun(
    sql(),
    { mode, ...(fromDate ? { fromDate } : {}), ...(toDate ? { toDate } : {}) },
    { source: "scheduler" },
  );
  await jobProgress(
    job,
    100,
    `run ${result.run.runId} ${result.created ? "planned" : "resumed"}: ${result.run.total} kills in ${result.ranges} ranges, ${result.enqueued} range jobs enqueued`,
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
