// One value-backfill job: recomputes the kills of one id range set-based (valueRange, the mode
// re-checked at execution time, its own session settings) and, for a range of a run, marks the range done and adds its counts
// to the run IN THE SAME TRANSACTION. So a crash anywhere leaves either nothing or the whole range
// done; a job that runs again for a done range (a stalled job retried, a duplicate) changes nothing.
import type { Sql } from "postgres";
import { valueRange } from "../killmails/values.ts";
import type { PayloadOf } from "../queues/registry.ts";

export type ValuesRangePayload = Extract<PayloadOf<"backfill">, { task: "values" }>;

export interface RangeResult {
  /** Kills written. */
  updated: number;
  /** Kills expected (planned for the run, or in the id range) that no longer matched the mode. */
  skipped: number;
  /** The range was already done by an earlier attempt: nothing was written. */
  alreadyDone?: boolean;
}

const scopeOf = (p: ValuesRangePayload) => ({
  fromId: p.fromId,
  toId: p.toId,
  mode: p.mode,
  ...(p.fromDate ? { fromDate: p.fromDate } : {}),
  ...(p.toDate ? { toDate: p.toDate } : {}),
});

/** Thrown for a run range that does not exist (a job that outlived its run): never retried. */
export class UnknownRangeError extends Error {
  override name = "UnknownRangeError";
}

/** Values one range; with a runId, records the range's outcome in batch_ranges and batch_runs atomically. */
export async function valueRangeJob(sql: Sql, p: ValuesRangePayload): Promise<RangeResult> {
  if (p.fromId > p.toId) return { updated: 0, skipped: 0 };
  if (!p.runId) {
    return sql.begin(async (tx) => {
      const [row] = await tx<{ kills: number }[]>`
        select count(*)::int as kills from killmails k
        where k.killmail_id between ${p.fromId} and ${p.toId}
          ${p.fromDate ? tx`and k.killmail_time >= ${p.fromDate}::date::timestamp at time zone 'UTC'` : tx``}
          ${p.toDate ? tx`and k.killmail_time < (${p.toDate}::date + 1)::timestamp at time zone 'UTC'` : tx``}`;
      const updated = await valueRange(tx, scopeOf(p));
      return { updated, skipped: Math.max(0, (row?.kills ?? 0) - updated) };
    });
  }
  const runId = p.runId;
  return sql.begin(async (tx) => {
    // The row lock makes a duplicate job of the same range wait, then see it done.
    const [range] = await tx<{ kills: number; status: string }[]>`
      select kills, status from batch_ranges where run_id = ${runId} and from_id = ${p.fromId} for update`;
    if (!range) throw new UnknownRangeError(`run ${runId} has no range starting at ${p.fromId}`);
    if (range.status === "done") return { updated: 0, skipped: 0, alreadyDone: true };
    const updated = await valueRange(tx, scopeOf(p));
    const skipped = Math.max(0, range.kills - updated);
    await tx`
      update batch_ranges set status = 'done', updated = ${updated}, skipped = ${skipped}, error = null,
                              attempts = attempts + 1, finished_at = now()
      where run_id = ${runId} and from_id = ${p.fromId}`;
    // Row-locked increments: concurrent ranges serialize here, and the last one closes the run.
    await tx`
      update batch_runs set done = done + ${range.kills}, updated = updated + ${updated}, skipped = skipped + ${skipped},
             status = case when done + ${range.kills} + errors >= total then (case when errors > 0 then 'failed' else 'done' end)
                           else status end,
             finished_at = case when done + ${range.kills} + errors >= total then now() else finished_at end
      where run_id = ${runId}`;
    return { updated, skipped };
  });
}

/**
 * Records an attempt that failed. `final`: no retry follows, so the range is marked failed and its kills
 * count as errors of the run (a rerun of the same backfill resets and retries it).
 */
export async function recordRangeFailure(sql: Sql, p: ValuesRangePayload, error: string, final: boolean): Promise<void> {
  if (!p.runId) return;
  const runId = p.runId;
  const message = error.slice(0, 2000);
  await sql.begin(async (tx) => {
    const [range] = await tx<{ kills: number }[]>`
      update batch_ranges set attempts = attempts + 1, error = ${message},
             status = case when ${final} then 'failed' else status end
      where run_id = ${runId} and from_id = ${p.fromId} and status = 'pending'
      returning kills`;
    if (!range || !final) return;
    await tx`
      update batch_runs set errors = errors + ${range.kills},
             status = case when done + errors + ${range.kills} >= total then 'failed' else status end,
             finished_at = case when done + errors + ${range.kills} >= total then now() else finished_at end
      where run_id = ${runId}`;
  });
}
