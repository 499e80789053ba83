// Value-backfill runs: a run (batch_runs, kind 'values') is a mode + filters, cut into id ranges of
// about `rangeSize` MATCHING kills (batch_ranges; kills are sparse in id space, so ranges are cut by
// counting kills, not by id width). Starting a run with the parameters of an unfinished one resumes
// it: ranges already done are skipped, failed ones are retried, the rest is enqueued again (job ids
// come from the work key `backfill-values-<mode>-<from>-<to>-<runId>`, so a range whose job is still
// pending is not added twice). Progress is read back from batch_runs.
import { randomBytes } from "node:crypto";
import type { PendingQuery, Row, Sql, TransactionSql } from "postgres";
import type { ValueMode } from "../killmails/value-modes.ts";
import { enqueueValidated } from "../queues/enqueue.ts";
import { missingWorkKeys } from "../queues/queue.ts";
import { workKey } from "../queues/registry.ts";

/** Matching kills per range (one job each); measured by bench:backfill as the best rate on 2 cores. */
export const DEFAULT_RANGE_SIZE = 10_000;

export interface ValuesRunParams {
  mode: ValueMode;
  /** Inclusive UTC dates (YYYY-MM-DD) on killmail_time. */
  fromDate?: string;
  toDate?: string;
  /** Inclusive killmail id bounds. */
  fromId?: number;
  toId?: number;
  /** At most this many matching kills (lowest ids first). */
  limit?: number;
}

export interface ValuesRun {
  runId: string;
  params: ValuesRunParams & { rangeSize: number };
  status: "running" | "done" | "failed";
  total: number;
  done: number;
  updated: number;
  skipped: number;
  errors: number;
  startedAt: Date;
  finishedAt: Date | null;
}

export interface StartResult {
  run: ValuesRun;
  /** False when an unfinished run with the same parameters was resumed. */
  created: boolean;
  ranges: number;
  /** Ranges still to do (pending, and failed ones reset for a retry). */
  pendingRanges: number;
  /** Range jobs added to the queue (the others were still pending there). */
  enqueued: number;
  /** Failed ranges reset for a retry when resuming. */
  retried: number;
}

export interface StartOptions {
  rangeSize?: number;
  /** Resume this run (its parameters win). */
  resume?: string;
  /** Always plan a new run, even if an unfinished one has the same parameters. */
  fresh?: boolean;
  /** Who asked (kept in params for operators): cli | scheduler | … */
  source?: string;
}

type AnySql = Sql | TransactionSql;

/** The parameters as stored (no undefined keys, so jsonb equality finds the same run; rangeSize is not compared). */
function normalize(p: ValuesRunParams, rangeSize: number): ValuesRun["params"] {
  const out: Record<string, unknown> = { mode: p.mode };
  for (const key of ["fromDate", "toDate", "fromId", "toId", "limit"] as const) if (p[key] !== undefined) out[key] = p[key];
  out.rangeSize = rangeSize;
  return out as unknown as ValuesRun["params"];
}

function newRunId(mode: ValueMode): string {
  return `${mode}-${Date.now().toString(36)}${randomBytes(2).toString("hex")}`;
}

/** Ids of the kills that match a mode and the filters now (the planning side of valueRange's re-check). */
function matchingIds(sql: AnySql, p: ValuesRunParams): PendingQuery<Row[]> {
  const filters = sql`
    ${p.fromDate ? sql`and k.killmail_time >= ${p.fromDate}::date::timestamp at time zone 'UTC'` : sql``}
    ${p.toDate ? sql`and k.killmail_time < (${p.toDate}::date + 1)::timestamp at time zone 'UTC'` : sql``}
    ${p.fromId !== undefined ? sql`and k.killmail_id >= ${p.fromId}` : sql``}
    ${p.toId !== undefined ? sql`and k.killmail_id <= ${p.toId}` : sql``}`;
  const limit = p.limit !== undefined ? sql`limit ${p.limit}` : sql``;
  switch (p.mode) {
    case "all":
      return sql`select k.killmail_id as id from killmails k where true ${filters} order by 1 ${limit}`;
    case "null":
      return sql`select k.killmail_id as id from killmails k
                 where not exists (select 1 from killmail_values v where v.killmail_id = k.killmail_id) ${filters}
                 order by 1 ${limit}`;
    case "zero":
      return sql`select k.killmail_id as id from killmail_values v join killmails k on k.killmail_id = v.killmail_id
                 where v.total_value = 0 ${filters} order by 1 ${limit}`;
    case "flagged":
      return sql`select k.killmail_id as id from killmail_values v join killmails k on k.killmail_id = v.killmail_id
                 where v.revalue ${filters} order by 1 ${limit}`;
  }
}

const RUN_COLUMNS = (sql: AnySql) => sql`run_id as "runId", params, status, total, done, updated, skipped, errors,
  started_at as "startedAt", finished_at as "finishedAt"`;

export async function getRun(sql: AnySql, runId: string): Promise<ValuesRun | undefined> {
  const [run] = await sql<ValuesRun[]>`select ${RUN_COLUMNS(sql)} from batch_runs where run_id = ${runId} and kind = 'values'`;
  return run;
}

/**
 * Creates (plans) or resumes a run and enqueues its ranges still to do. Planning and the choice between
 * resuming and creating happen under an advisory lock, so two starts with the same parameters make one run.
 */
export async function startValuesRun(sql: Sql, params: ValuesRunParams, opts: StartOptions = {}): Promise<StartResult> {
  const rangeSize = opts.rangeSize ?? DEFAULT_RANGE_SIZE;
  if (!Number.isInteger(rangeSize) || rangeSize < 1) throw new Error(`range size must be a whole number ≥ 1 (got ${rangeSize})`);
  const wanted = normalize(params, rangeSize);

  const { run, created, retried } = await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext('backfill-values-runs'))`;
    let existing: ValuesRun | undefined;
    if (opts.resume) {
      existing = await getRun(tx, opts.resume);
      if (!existing) throw new Error(`no value backfill run '${opts.resume}'`);
    } else if (!opts.fresh) {
      [existing] = await tx<ValuesRun[]>`
        select ${RUN_COLUMNS(tx)} from batch_runs
        where kind = 'values' and status <> 'done'
          and params - 'source' - 'rangeSize' = ${tx.json(normalize(params, 0) as never)}::jsonb - 'rangeSize'
        order by started_at desc limit 1`;
    }
    if (existing) {
      // Failed ranges get another chance: back to pending, their kills no longer count as errors.
      const reset = await tx<{ kills: number }[]>`
        update batch_ranges set status = 'pending', attempts = 0 where run_id = ${existing.runId} and status = 'failed'
        returning kills`;
      const resetKills = reset.reduce((n, r) => n + r.kills, 0);
      const [run] = await tx<ValuesRun[]>`
        update batch_runs set errors = greatest(0, errors - ${resetKills}),
               status = case when done >= total then 'done' else 'running' end,
               finished_at = case when done >= total then finished_at end
        where run_id = ${existing.runId} returning ${RUN_COLUMNS(tx)}`;
      return { run: run!, created: false, retried: reset.length };
    }

    const runId = newRunId(params.mode);
    await tx`insert into batch_runs (run_id, kind, params, status)
             values (${runId}, 'values', ${tx.json({ ...wanted, source: opts.source ?? "cli" } as never)}, 'running')`;
    await tx.unsafe(`set local work_mem = '256MB'`);
    // Buckets of rangeSize consecutive matching ids; a range spans its bucket's first to last id.
    await tx`
      insert into batch_ranges (run_id, from_id, to_id, kills)
      select ${runId}, min(id), max(id), count(*)::int
      from (select id, (row_number() over (order by id) - 1) / ${rangeSize} as bucket
            from (${matchingIds(tx, params)}) m) b
      group by bucket`;
    const [run] = await tx<ValuesRun[]>`
      update batch_runs set total = coalesce((select sum(kills) from batch_ranges where run_id = ${runId}), 0),
             status = case when exists (select 1 from batch_ranges where run_id = ${runId}) then 'running' else 'done' end,
             finished_at = case when exists (select 1 from batch_ranges where run_id = ${runId}) then null else now() end
      where run_id = ${runId} returning ${RUN_COLUMNS(tx)}`;
    return { run: run!, created: true, retried: 0 };
  });

  const ranges = await sql<{ fromId: number; toId: number; status: string }[]>`
    select from_id as "fromId", to_id as "toId", status from batch_ranges where run_id = ${run.runId} order by from_id`;
  const pending = ranges.filter((r) => r.status === "pending");
  const enqueued = await enqueueRanges(run, pending);
  return { run, created, ranges: ranges.length, pendingRanges: pending.length, enqueued, retried };
}

/** Enqueues the range jobs of a run (de-duplicated by range: a range with a pending job is not added again). */
async function enqueueRanges(run: ValuesRun, ranges: { fromId: number; toId: number }[]): Promise<number> {
  const p = run.params;
  const payloads = ranges.map((r) => ({
    task: "values" as const,
    mode: p.mode,
    fromId: r.fromId,
    toId: r.toId,
    runId: run.runId,
    ...(p.fromDate ? { fromDate: p.fromDate } : {}),
    ...(p.toDate ? { toDate: p.toDate } : {}),
  }));
  const added = await enqueueValidated("backfill", payloads, { priority: "backfill" });
  return added.added;
}

/**
 * For reconcile: re-enqueues the pending ranges of every running value run that have no job in Redis
 * (a FLUSHALL, a lost job), so a run finishes without its command being rerun. Returns [checked, requeued].
 */
export async function requeueOrphanedRanges(sql: AnySql): Promise<[number, number]> {
  const runs = await sql<ValuesRun[]>`select ${RUN_COLUMNS(sql)} from batch_runs where kind = 'values' and status = 'running'`;
  let checked = 0;
  let requeued = 0;
  for (const run of runs) {
    checked++;
    const orphans = await orphanedRanges(sql, run);
    if (orphans.length > 0) requeued += await enqueueRanges(run, orphans);
  }
  return [checked, requeued];
}

export interface FailedRange {
  fromId: number;
  toId: number;
  kills: number;
  error: string | null;
}

export async function failedRanges(sql: AnySql, runId: string, limit = 20): Promise<FailedRange[]> {
  return sql<FailedRange[]>`
    select from_id as "fromId", to_id as "toId", kills, error from batch_ranges
    where run_id = ${runId} and status = 'failed' order by from_id limit ${limit}`;
}

/** Pending ranges of a run that have no job waiting, delayed or active in the queue (lost, or failed by stalling). */
export async function orphanedRanges(sql: AnySql, run: ValuesRun): Promise<{ fromId: number; toId: number }[]> {
  const pending = await sql<{ fromId: number; toId: number }[]>`
    select from_id as "fromId", to_id as "toId" from batch_ranges where run_id = ${run.runId} and status = 'pending' order by from_id`;
  const keyOf = (r: { fromId: number; toId: number }) =>
    workKey("backfill", { task: "values", mode: run.params.mode, fromId: r.fromId, toId: r.toId, runId: run.runId })!;
  const missing = await missingWorkKeys("backfill", pending.map(keyOf));
  const orphans = pending.filter((r) => missing.has(keyOf(r)));
  if (orphans.length === 0) return orphans;
  // A range whose job finished between the two reads is done by now, not orphaned.
  const still = new Set(
    (
      await sql<{ fromId: number }[]>`
      select from_id as "fromId" from batch_ranges where run_id = ${run.runId} and status = 'pending'`
    ).map((r) => r.fromId),
  );
  return orphans.filter((r) => still.has(r.fromId));
}

export interface FollowOptions {
  /** Called on every poll with the run as it stands. */
  onProgress?: (run: ValuesRun) => void;
  pollMs?: number;
  /** With no progress for this long, look for pending ranges without a job (default 20 s). */
  stallCheckMs?: number;
}

export interface FollowResult {
  run: ValuesRun;
  /** Pending ranges left without a job: the run cannot finish by itself (rerun to resume). */
  orphans: { fromId: number; toId: number }[];
}

/** Polls the run until it is done or failed, or until ranges are found with no job left to do them. */
export async function followValuesRun(sql: Sql, runId: string, opts: FollowOptions = {}): Promise<FollowResult> {
  const pollMs = opts.pollMs ?? 250;
  const stallCheckMs = opts.stallCheckMs ?? 20_000;
  let lastChange = Date.now();
  let last = -1;
  for (;;) {
    const run = await getRun(sql, runId);
    if (!run) throw new Error(`value backfill run '${runId}' disappeared`);
    opts.onProgress?.(run);
    if (run.status !== "running") return { run, orphans: [] };
    const settled = run.done + run.errors;
    if (settled !== last) {
      last = settled;
      lastChange = Date.now();
    } else if (Date.now() - lastChange >= stallCheckMs) {
      const orphans = await orphanedRanges(sql, run);
      if (orphans.length > 0) return { run, orphans };
      lastChange = Date.now();
    }
    await Bun.sleep(pollMs);
  }
}
