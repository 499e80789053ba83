// The failed rows of the two ledgers, for the operator: kills the intake closed as failed (a permanent
// failure: an invalid body, a wrong hash, data Postgres refuses) and outbox rows whose job failed for
// good, each with its reason; and re-driving them (a fixed bug, a changed rule): the rows become pending
// again and go back to their queues at once. Transient failures never land here: their rows stay
// pending and reconcile redoes them by itself.
import { pgArray } from "../db/arrays.ts";
import { sql } from "../db/client.ts";
import { type IntakeRow, requeueIntakeRows } from "../killmails/intake.ts";
import { relayOutbox } from "./relay.ts";

export interface FailedIntakeRow {
  killmailId: number;
  source: string;
  error: string | null;
  receivedAt: Date;
}

export interface FailedOutboxRow {
  id: number;
  queue: string;
  jobKey: string;
  error: string | null;
  failedAt: Date;
}

export interface LedgerFailures {
  intake: { total: number; rows: FailedIntakeRow[] };
  outbox: { total: number; rows: FailedOutboxRow[] };
}

/** The newest failed rows of each ledger (up to `limit` each) and how many there are. */
export async function listLedgerFailures(limit = 50): Promise<LedgerFailures> {
  const db = sql();
  const [intakeRows, [intakeTotal], outboxRows, [outboxTotal]] = await Promise.all([
    db<FailedIntakeRow[]>`
      select killmail_id as "killmailId", source, error, received_at as "receivedAt" from killmail_intake
      where status = 'failed' order by killmail_id desc limit ${limit}`,
    db<{ n: number }[]>`select count(*)::int as n from killmail_intake where status = 'failed'`,
    db<FailedOutboxRow[]>`
      select id, queue, job_key as "jobKey", error, failed_at as "failedAt" from outbox
      where failed_at is not null order by failed_at desc, id desc limit ${limit}`,
    db<{ n: number }[]>`select count(*)::int as n from outbox where failed_at is not null`,
  ]);
  return {
    intake: { total: intakeTotal!.n, rows: intakeRows },
    outbox: { total: outboxTotal!.n, rows: outboxRows },
  };
}

export interface RetryTarget {
  /** Failed intake rows to retry: these killmail ids, or "all". */
  intake?: number[] | "all";
  /** Failed outbox rows to retry: these row ids, or "all". */
  outbox?: number[] | "all";
}

export interface RetryResult {
  /** Kills put back in the killmail queue. */
  intake: number;
  /** Outbox rows handed back to the relay (a key already outstanding again counts as done). */
  outbox: number;
}

/** Makes failed ledger rows pending again and queues their work now. */
export async function retryLedgerFailures(target: RetryTarget): Promise<RetryResult> {
  const result: RetryResult = { intake: 0, outbox: 0 };
  if (target.intake) {
    const ids = target.intake === "all" ? null : pgArray(target.intake);
    const rows = await sql()<IntakeRow[]>`
      update killmail_intake set status = 'pending', error = null
      where status = 'failed' and (${ids}::int8[] is null or killmail_id = any(${ids}::int8[]))
      returning killmail_id, hash, priority, body, job_key`;
    if (rows.length > 0) await requeueIntakeRows(rows);
    result.intake = rows.length;
  }
  if (target.outbox) {
    const ids = target.outbox === "all" ? null : pgArray(target.outbox);
    result.outbox = await sql().begin(async (tx) => {
      // A key whose work is outstanding again (a later fan-out) needs no second row.
      const dropped = await tx`
        delete from outbox f where f.failed_at is not null and (${ids}::int8[] is null or f.id = any(${ids}::int8[]))
          and exists (select 1 from outbox o where o.queue = f.queue and o.job_key = f.job_key and o.failed_at is null)`;
      const reopened = await tx`
        update outbox set failed_at = null, relayed_at = null, error = null
        where failed_at is not null and (${ids}::int8[] is null or id = any(${ids}::int8[]))`;
      return dropped.count + reopened.count;
    });
    if (result.outbox > 0) await relayOutbox();
  }
  return result;
}
