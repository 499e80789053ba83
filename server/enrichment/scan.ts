// scan:entities: walks the stored kills in batches (keyset by killmail_id), finds with one set-based
// statement per batch the characters, corporations, alliances and types the batch names that are
// missing from their tables (NPC characters and corporations left out), and enqueues them at the
// backfill tier. Work keys de-duplicate against jobs still pending. The position is saved in Postgres
// (cursors) after every batch, so an interrupted scan resumes where it stopped.

import type { Sql } from "postgres";
import { sql as defaultSql } from "../db/client.ts";
import { NPC_CHARACTER_MAX, NPC_CORPORATION_MAX } from "../eve/ids.ts";
import { readCursor, writeCursor } from "../feeds/cursor.ts";
import { enqueueJobs } from "../queues/enqueue.ts";

export const ENTITY_KINDS = ["character", "corporation", "alliance", "type"] as const;
export type EntityKind = (typeof ENTITY_KINDS)[number];

const MAX_ID = Number.MAX_SAFE_INTEGER;

export interface KindCounts {
  /** New jobs added. */
  enqueued: number;
  /** Missing ids whose job was already pending (de-duplicated by work key). */
  pending: number;
}

export type ScanCounts = Record<EntityKind, KindCounts>;

export interface ScanState {
  fromId: number | null;
  toId: number | null;
  /** Highest killmail_id done (the next batch starts above it). */
  after: number;
  done: boolean;
  kills: number;
  batches: number;
  counts: ScanCounts;
  startedAt: string;
}

export interface ScanOptions {
  fromId?: number;
  toId?: number;
  /** Kills per batch (default 5,000). */
  batchSize?: number;
  /** Ignore an unfinished saved position and start at the beginning of the range. */
  restart?: boolean;
  /** Called once the starting point is known (before the first batch). */
  onStart?: (info: { remaining: number; resumedFrom: number | null }) => Promise<void> | void;
  /** Called after each batch (its position is saved by then). */
  onBatch?: (state: ScanState, batchKills: number) => Promise<void> | void;
  /** Checked after each batch: true stops the scan there (resumable). */
  shouldStop?: () => boolean;
}

export interface ScanResult {
  state: ScanState;
  /** Where this run started when it resumed a saved scan (the saved `after`), else null. */
  resumedFrom: number | null;
  /** Kills in the range still to scan when this run started. */
  remaining: number;
  /** False when stopped by shouldStop before the end of the range. */
  finished: boolean;
  cursor: string;
}

const zeroCounts = (): ScanCounts => ({
  character: { enqueued: 0, pending: 0 },
  corporation: { enqueued: 0, pending: 0 },
  alliance: { enqueued: 0, pending: 0 },
  type: { enqueued: 0, pending: 0 },
});

/** The cursor name of a scan: one per id range, so scans of different ranges resume independently. */
export function scanCursorName(fromId?: number, toId?: number): string {
  return fromId === undefined && toId === undefined ? "scan-entities" : `scan-entities-${fromId ?? ""}-${toId ?? ""}`;
}

interface Bounds {
  lo: number | null;
  hi: number | null;
  n: number;
}

async function nextBatch(db: Sql, after: number, toId: number, size: number): Promise<Bounds> {
  const [b] = await db<Bounds[]>`
    select min(killmail_id) as lo, max(killmail_id) as hi, count(*)::int as n from (
      select killmail_id from killmails where killmail_id > ${after} and killmail_id <= ${toId}
      order by killmail_id limit ${size}) b`;
  return b!;
}

/** Ids named by the kills lo…hi (every kill in that range) that are missing from their tables. */
export async function missingInRange(db: Sql, lo: number, hi: number): Promise<Record<EntityKind, number[]>> {
  const rows = await db<{ kind: EntityKind; id: number }[]>`
    with k as materialized (
      select victim_character_id, victim_corporation_id, victim_alliance_id, victim_ship_type_id
      from killmails where killmail_id between ${lo} and ${hi}
    ), a as materialized (
      select character_id, corporation_id, alliance_id, ship_type_id, weapon_type_id
      from attackers where killmail_id between ${lo} and ${hi}
    )
    select 'character' as kind, x.id from (select victim_character_id as id from k union select character_id from a) x
      where x.id > ${NPC_CHARACTER_MAX} and not exists (select 1 from characters c where c.character_id = x.id)
    union all
    select 'corporation', x.id from (select victim_corporation_id as id from k union select corporation_id from a) x
      where x.id > ${NPC_CORPORATION_MAX} and not exists (select 1 from corporations c where c.corporation_id = x.id)
    union all
    select 'alliance', x.id from (select victim_alliance_id as id from k union select alliance_id from a) x
      where x.id > 0 and not exists (select 1 from alliances c where c.alliance_id = x.id)
    union all
    select 'type', x.id from (
        select victim_ship_type_id as id from k
        union select ship_type_id from a
        union select weapon_type_id from a
        union select item_type_id from items where killmail_id between ${lo} and ${hi}) x
      where x.id > 0 and not exists (select 1 from types t where t.type_id = x.id)
    order by 1, 2`;
  const out: Record<EntityKind, number[]> = { character: [], corporation: [], alliance: [], type: [] };
  for (const r of rows) out[r.kind].push(r.id);
  return out;
}

/** Enqueues one refresh job per id (backfill tier); pending jobs with the same work key are not duplicated. */
export async function enqueueEntities(kind: EntityKind, ids: readonly number[]): Promise<KindCounts> {
  if (ids.length === 0) return { enqueued: 0, pending: 0 };
  const r = await enqueueJobs(
    kind,
    ids.map((id) => ({ id })),
    { priority: "backfill" },
  );
  return { enqueued: r.added, pending: r.deduplicated };
}

function freshState(opts: ScanOptions): ScanState {
  return {
    fromId: opts.fromId ?? null,
    toId: opts.toId ?? null,
    after: (opts.fromId ?? 0) - 1,
    done: false,
    kills: 0,
    batches: 0,
    counts: zeroCounts(),
    startedAt: new Date().toISOString(),
  };
}

/** How many kills of the range lie above `after` (for progress). */
export async function countRemaining(db: Sql, after: number, toId: number | null): Promise<number> {
  const [r] = await db<{ n: number }[]>`
    select count(*)::int as n from killmails where killmail_id > ${after} and killmail_id <= ${toId ?? MAX_ID}`;
  return r!.n;
}

/** Runs (or resumes) the scan of a range; see the file header. */
export async function scanEntities(opts: ScanOptions = {}): Promise<ScanResult> {
  const db = defaultSql();
  const batchSize = opts.batchSize ?? 5_000;
  const cursor = scanCursorName(opts.fromId, opts.toId);
  const saved = opts.restart ? undefined : await readCursor<ScanState>(cursor);
  const resume = saved !== undefined && !saved.done;
  const state = resume ? saved : freshState(opts);
  const toId = state.toId ?? MAX_ID;
  const remaining = await countRemaining(db, state.after, state.toId);
  const resumedFrom = resume ? saved.after : null;
  await opts.onStart?.({ remaining, resumedFrom });

  for (;;) {
    if (opts.shouldStop?.()) return { state, resumedFrom, remaining, finished: false, cursor };
    const batch = await nextBatch(db, state.after, toId, batchSize);
    if (batch.n === 0 || batch.lo === null || batch.hi === null) break;
    const missing = await missingInRange(db, batch.lo, batch.hi);
    for (const kind of ENTITY_KINDS) {
      const c = await enqueueEntities(kind, missing[kind]);
      state.counts[kind].enqueued += c.enqueued;
      state.counts[kind].pending += c.pending;
    }
    state.after = batch.hi;
    state.kills += batch.n;
    state.batches++;
    await writeCursor(cursor, state);
    await opts.onBatch?.(state, batch.n);
  }
  state.done = true;
  await writeCursor(cursor, state);
  return { state, resumedFrom, remaining, finished: true, cursor };
}
