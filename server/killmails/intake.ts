// Intake: the one door every killmail comes in by (live feed, HTTP posts, imports, reconcile). It
// records each id/hash (and body when the source gave one) in the killmail_intake ledger, in one
// statement per batch, then enqueues the killmail jobs. Kills already stored are skipped; a kill that
// failed before is re-opened. The stored kill's transaction closes its ledger row.
import type { EsiKillmail } from "../esi/killmail-schema.ts";
import { pgArray } from "../db/arrays.ts";
import { sql } from "../db/client.ts";
import { addValidated, JobPriority, type PayloadOf } from "../helpers/queue.ts";

export type IntakeSource = "r2z2" | "http" | "history" | "everef" | "zkb" | "reconcile" | "cli" | "bench";

export interface IntakeItem {
  killmailId: number;
  hash: string;
  /** The ESI body, already validated by the caller's edge (esiKillmailSchema). */
  esi?: EsiKillmail;
}

export interface IntakeResult {
  /** Jobs added. */
  enqueued: number;
  /** Already pending in Redis (same work key): nothing added. */
  deduplicated: number;
  /** Already stored: not recorded, not enqueued. */
  alreadyStored: number;
  /** Job id per accepted killmail id. */
  jobIds: Map<number, string>;
}

export interface IntakeOptions {
  source: IntakeSource;
  priority?: number;
}

/** Records and enqueues killmails; items are taken as validated. Batches of any size. */
export async function submitKillmails(items: IntakeItem[], opts: IntakeOptions): Promise<IntakeResult> {
  const priority = opts.priority ?? JobPriority.NORMAL;
  const result: IntakeResult = { enqueued: 0, deduplicated: 0, alreadyStored: 0, jobIds: new Map() };
  const unique = new Map<number, IntakeItem>();
  for (const item of items) {
    const seen = unique.get(item.killmailId);
    if (!seen || (!seen.esi && item.esi)) unique.set(item.killmailId, item);
  }
  const all = [...unique.values()].sort((a, b) => a.killmailId - b.killmailId);
  // Chunks are pipelined: the ledger write of one overlaps the enqueue of the previous one.
  let enqueueing: Promise<void> = Promise.resolve();
  for (let start = 0; start < all.length; start += 1000) {
    const chunk = all.slice(start, start + 1000);
    const open = await recordIntake(chunk, opts.source, priority);
    await enqueueing;
    result.alreadyStored += chunk.length - open.size;
    const payloads: PayloadOf<"killmail">[] = chunk
      .filter((i) => open.has(i.killmailId))
      .map((i) => (i.esi ? { killmailId: i.killmailId, hash: i.hash, esi: i.esi } : { killmailId: i.killmailId, hash: i.hash }));
    if (payloads.length === 0) continue;
    enqueueing = addValidated("killmail", payloads, { priority }).then((added) => {
      result.enqueued += added.added;
      result.deduplicated += added.deduplicated;
      payloads.forEach((p, i) => result.jobIds.set(p.killmailId, added.jobIds[i]!));
    });
  }
  await enqueueing;
  return result;
}

/**
 * Writes ledger rows for kills not yet stored (re-opening failed ones, keeping the best body and the
 * highest priority); returns the ids that are open (to be enqueued).
 */
async function recordIntake(items: IntakeItem[], source: string, priority: number): Promise<Set<number>> {
  const rows = await sql()<{ killmail_id: number }[]>`
    insert into killmail_intake as ki (killmail_id, hash, source, priority, body)
    select u.killmail_id, u.hash, ${source}, ${priority}, u.body
    from unnest(${pgArray(items.map((i) => i.killmailId))}::int8[],
                ${pgArray(items.map((i) => i.hash))}::text[],
                ${pgArray(items.map((i) => (i.esi ? JSON.stringify(i.esi) : null)))}::text[])
         as u(killmail_id, hash, body)
    where not exists (select 1 from killmails k where k.killmail_id = u.killmail_id)
    on conflict (killmail_id) do update set
      status = 'pending', error = null,
      hash = excluded.hash,
      body = coalesce(excluded.body, ki.body),
      priority = least(ki.priority, excluded.priority)
    returning killmail_id`;
  return new Set(rows.map((r) => r.killmail_id));
}

/** Marks a kill's ledger row failed (permanent error or retries exhausted); reconcile leaves it alone. */
export async function markIntakeFailed(killmailId: number, error: string): Promise<void> {
  await sql()`update killmail_intake set status = 'failed', error = ${error.slice(0, 1000)}
              where killmail_id = ${killmailId}`;
}
