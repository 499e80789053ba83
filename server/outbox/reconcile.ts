// Reconcile: Postgres says what work is outstanding (pending intake rows, relayed outbox rows, pending
// ranges of running value backfills); Redis
// says what is queued (BullMQ de-duplication keys of pending jobs). Whatever the first holds and the
// second lost — a FLUSHALL, an evicting Redis, a crash between commit and enqueue — is enqueued again,
// with the ESI body the intake kept, so nothing needs an ESI fetch (kills with bodies go back in batch jobs). Cheap when little is outstanding;
// walks big backlogs in keyset-paged chunks.
import { requeueOrphanedRanges } from "../backfill/values-run.ts";
import { pgArray } from "../db/arrays.ts";
import { sql } from "../db/client.ts";
import { log } from "../helpers/logger.ts";
import { type IntakeRow, intakeJobKey, requeueIntakeRows } from "../killmails/intake.ts";
import { dropOrphanBatchBodies } from "../killmails/intake-batches.ts";
import { missingWorkKeys } from "../queues/queue.ts";
import type { QueueName } from "../queues/registry.ts";
import { runRound } from "../runner/rounds.ts";
import type { RunnerService } from "../runner/run.ts";
import { requeueLostSyncs } from "../sso/jobs.ts";

export interface ReconcileResult {
  /** Pending intake rows examined / re-enqueued. */
  intakeChecked: number;
  intakeRequeued: number;
  /** Relayed outbox rows examined / handed back to the relay. */
  outboxChecked: number;
  outboxRequeued: number;
  /** Running value backfill runs examined / their range jobs re-enqueued. */
  valueRunsChecked: number;
  rangesRequeued: number;
  /** Kept batch bodies no ledger row names any more, dropped. */
  batchBodiesDropped: number;
  /** Active member syncs examined / their job re-created (server/sso/sync.ts). */
  syncsChecked: number;
  syncsRequeued: number;
}

const CHUNK = 2000;

export interface ReconcileOptions {
  /**
   * Leave intake rows received and outbox rows relayed less than this long ago alone (default 0: all):
   * a producer may still be enqueuing them. The periodic rounds use RECONCILE_MIN_AGE_MS.
   */
  minAgeMs?: number;
}

export async function reconcileIntake(
  onProgress?: (checked: number, requeued: number) => void,
  opts: ReconcileOptions = {},
): Promise<[number, number]> {
  const minAge = `${Math.max(0, Math.floor(opts.minAgeMs ?? 0))} milliseconds`;
  let after = 0;
  let checked = 0;
  let requeued = 0;
  for (;;) {
    const rows = await sql()<{ killmail_id: number; job_key: string | null }[]>`
      select killmail_id, job_key from killmail_intake
      where status = 'pending' and killmail_id > ${after} and received_at <= now() - ${minAge}::interval
      order by killmail_id limit ${CHUNK}`;
    if (rows.length === 0) break;
    after = rows.at(-1)!.killmail_id;
    checked += rows.length;
    const missing = await missingWorkKeys("killmail", [...new Set(rows.map(intakeJobKey))]);
    const ids = rows.filter((r) => missing.has(intakeJobKey(r))).map((r) => r.killmail_id);
    if (ids.length > 0) {
      // Bodies are read only for the lost ones; a kill stored meanwhile has no row any more.
      const lost = await sql()<IntakeRow[]>`
        select killmail_id, hash, priority, body, job_key from killmail_intake
        where killmail_id = any(${pgArray(ids)}::int8[]) and status = 'pending'`;
      requeued += await requeueIntakeRows(lost);
    }
    onProgress?.(checked, requeued);
  }
  return [checked, requeued];
}

interface OutboxRow {
  id: number;
  queue: QueueName;
  job_key: string;
}

export async function reconcileOutbox(opts: ReconcileOptions = {}): Promise<[number, number]> {
  const minAge = `${Math.max(0, Math.floor(opts.minAgeMs ?? 0))} milliseconds`;
  let after = 0;
  let checked = 0;
  let requeued = 0;
  for (;;) {
    const rows = await sql()<OutboxRow[]>`
      select id, queue, job_key from outbox
      where relayed_at is not null and relayed_at <= now() - ${minAge}::interval and failed_at is null and id > ${after}
      order by id limit ${CHUNK}`;
    if (rows.length === 0) break;
    after = rows.at(-1)!.id;
    checked += rows.length;
    const lostIds: number[] = [];
    for (const [queue, group] of Map.groupBy(rows, (r) => r.queue)) {
      const missing = await missingWorkKeys(
        queue,
        group.map((r) => r.job_key),
      );
      for (const row of group) if (missing.has(row.job_key)) lostIds.push(row.id);
    }
    if (lostIds.length > 0) {
      // Handing rows back to the relay (relayed_at = null) re-enqueues them with their priority.
      const res = await sql()`update outbox set relayed_at = null where id = any(${pgArray(lostIds)}::int8[])`;
      requeued += res.count;
    }
  }
  return [checked, requeued];
}

/** Re-enqueues every outstanding piece of work Redis does not hold. */
export async function reconcile(opts: ReconcileOptions = {}): Promise<ReconcileResult> {
  const [intakeChecked, intakeRequeued] = await reconcileIntake(undefined, opts);
  const [outboxChecked, outboxRequeued] = await reconcileOutbox(opts);
  const [valueRunsChecked, rangesRequeued] = await requeueOrphanedRanges(sql());
  const batchBodiesDropped = await dropOrphanBatchBodies();
  const [syncsChecked, syncsRequeued] = await requeueLostSyncs();
  return {
    intakeChecked,
    intakeRequeued,
    outboxChecked,
    outboxRequeued,
    valueRunsChecked,
    rangesRequeued,
    batchBodiesDropped,
    syncsChecked,
    syncsRequeued,
  };
}

/** A reconcile round holds its lease at most this long (a process that died mid-round frees it then). */
const RECONCILE_LEASE_MS = 10 * 60_000;
/** The periodic rounds leave intake rows younger than this alone: their producer may still be enqueuing them. */
export const RECONCILE_MIN_AGE_MS = 60_000;

/**
 * Runs reconcile at start-up and then every `everyMs` (0 = only at start-up), in one process at a time:
 * a round's lease is kept until 90 % of the interval after it began (10 s with no interval), so of the
 * processes started together, or ticking apart, one reconciles and the others skip (server/runner/rounds.ts).
 */
export function reconcileService(everyMs = 5 * 60_000): RunnerService {
  const logger = log("reconcile");
  let timer: ReturnType<typeof setInterval> | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const holdMs = everyMs > 0 ? Math.floor(everyMs * 0.9) : 10_000;
  const once = async () => {
    try {
      await runRound("reconcile", { maxRunMs: RECONCILE_LEASE_MS, holdMs, logger }, async () => {
        const result = await reconcile({ minAgeMs: RECONCILE_MIN_AGE_MS });
        if (result.intakeRequeued || result.outboxRequeued || result.rangesRequeued || result.syncsRequeued)
          logger.warn(result, "re-enqueued work Redis had lost");
        else logger.info(result, "reconcile: Redis holds all outstanding work");
      });
    } catch (err) {
      logger.error({ err: (err as Error).message }, "reconcile failed");
    }
  };
  return {
    name: "reconcile",
    start() {
      running = once();
      if (everyMs > 0) {
        timer = setInterval(() => {
          running = running.then(once);
        }, everyMs);
        timer.unref();
      }
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
