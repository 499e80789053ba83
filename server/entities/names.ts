// Names in bulk: the character, corporation and alliance jobs of a worker process hand their ids to
// one collector, which resolves up to 1,000 at a time with POST /universe/names (name and category)
// and, for characters, POST /characters/affiliation (corporation, alliance, faction) — two ESI calls
// for a thousand entities instead of a thousand. A character the affiliation puts in Doomheim
// (corporation 1000001) is biomassed: marked deleted, no 404 spent. An id ESI does not know (one such
// id makes ESI answer 404 for a whole request) is found by halving the request, and marked deleted.
// Each living entity named for the first time gets a detail job (its own route) at the backfill tier.
import { pgArray } from "../db/arrays.ts";
import { sql } from "../db/client.ts";
import { type EsiAffiliation, type EsiUniverseName, isNotFound, postCharacterAffiliation, postUniverseNames } from "../esi/index.ts";
import { enqueueJobs } from "../queues/enqueue.ts";
import type { PayloadOf } from "../queues/registry.ts";
import { freshUntil } from "./ttl.ts";

export type NamedKind = "character" | "corporation" | "alliance";
export type NameOutcome = "named" | "deleted" | "fresh";

/** The corporation ESI's affiliation gives a biomassed character. */
export const DOOMHEIM = 1_000_001;
const MAX_IDS = 1_000;

interface Waiting {
  kind: NamedKind;
  id: number;
  resolve(outcome: NameOutcome): void;
  reject(err: unknown): void;
}

export interface NameCollectorOptions {
  /** Ids per batch at most (ESI's limit: 1,000). */
  maxIds?: number;
  /** How long a batch waits for more ids before it is resolved. */
  maxWaitMs?: number;
  /** Batches in flight at once. */
  maxConcurrent?: number;
}

export interface NameCollectorStats {
  batches: number;
  ids: number;
  /** ESI calls made (names, affiliation, and the halvings of a request ESI refused). */
  esiCalls: number;
}

/** ESI's names of `ids`; ids it does not know are left out (a refused request is halved until they are found). */
async function namesOf(ids: number[], stats: NameCollectorStats): Promise<Map<number, EsiUniverseName>> {
  const found = new Map<number, EsiUniverseName>();
  if (ids.length === 0) return found;
  try {
    stats.esiCalls++;
    for (const n of await postUniverseNames(ids)) found.set(n.id, n);
  } catch (err) {
    if (!isNotFound(err) || ids.length === 1) {
      if (isNotFound(err)) return found;
      throw err;
    }
    const half = Math.ceil(ids.length / 2);
    for (const [id, n] of await namesOf(ids.slice(0, half), stats)) found.set(id, n);
    for (const [id, n] of await namesOf(ids.slice(half), stats)) found.set(id, n);
  }
  return found;
}

/** ESI's affiliation of these characters; characters it refuses (not characters after all) are left out. */
async function affiliationsOf(ids: number[], stats: NameCollectorStats): Promise<Map<number, EsiAffiliation>> {
  const found = new Map<number, EsiAffiliation>();
  if (ids.length === 0) return found;
  try {
    stats.esiCalls++;
    for (const a of await postCharacterAffiliation(ids)) found.set(a.character_id, a);
  } catch (err) {
    if (!isNotFound(err) || ids.length === 1) {
      if (isNotFound(err)) return found;
      throw err;
    }
    const half = Math.ceil(ids.length / 2);
    for (const [id, a] of await affiliationsOf(ids.slice(0, half), stats)) found.set(id, a);
    for (const [id, a] of await affiliationsOf(ids.slice(half), stats)) found.set(id, a);
  }
  return found;
}

const TABLES = {
  character: { table: "characters", key: "character_id" },
  corporation: { table: "corporations", key: "corporation_id" },
  alliance: { table: "alliances", key: "alliance_id" },
} as const;

/** Stores what a batch learned; returns the ids marked deleted and the living ones still without detail. */
async function store(
  asked: Map<number, NamedKind>,
  names: Map<number, EsiUniverseName>,
  affiliations: Map<number, EsiAffiliation>,
): Promise<{ deleted: Set<number>; needDetail: { kind: NamedKind; id: number }[] }> {
  const deleted = new Set<number>();
  const rows: Record<NamedKind, { id: number; name: string | null }[]> = { character: [], corporation: [], alliance: [] };
  for (const [id, kind] of asked) {
    const n = names.get(id);
    // ESI names the id under its own category; an id it does not know is gone.
    const category = n && (n.category === "character" || n.category === "corporation" || n.category === "alliance") ? n.category : kind;
    if (
      !n ||
      (category === "character" && affiliations.get(id)?.corporation_id === DOOMHEIM) ||
      (category === "character" && !affiliations.has(id))
    )
      deleted.add(id);
    rows[category].push({ id, name: n?.name ?? null });
  }
  const expires = freshUntil("character", undefined);
  const db = sql();
  const chars = rows.character;
  if (chars.length > 0) {
    const a = chars.map((c) => affiliations.get(c.id));
    await db`
      insert into characters as c (character_id, name, corporation_id, alliance_id, faction_id, deleted, expires_at, updated_at)
      select u.id, u.name, u.corporation_id, u.alliance_id, u.faction_id, u.deleted, case when u.deleted then null else ${expires} end, now()
      from unnest(${pgArray(chars.map((c) => c.id))}::int4[], ${pgArray(chars.map((c) => c.name))}::text[],
                  ${pgArray(a.map((x) => x?.corporation_id ?? null))}::int4[], ${pgArray(a.map((x) => x?.alliance_id ?? null))}::int4[],
                  ${pgArray(a.map((x) => x?.faction_id ?? null))}::int4[], ${pgArray(chars.map((c) => deleted.has(c.id)))}::bool[])
           as u(id, name, corporation_id, alliance_id, faction_id, deleted)
      on conflict (character_id) do update set
        name = coalesce(excluded.name, c.name), corporation_id = excluded.corporation_id, alliance_id = excluded.alliance_id,
        faction_id = excluded.faction_id, deleted = excluded.deleted, expires_at = excluded.expires_at, updated_at = now()`;
  }
  for (const kind of ["corporation", "alliance"] as const) {
    const list = rows[kind];
    if (list.length === 0) continue;
    const { table, key } = TABLES[kind];
    await db`
      insert into ${db(table)} as t (${db(key)}, name, deleted, expires_at, updated_at)
      select u.id, u.name, u.deleted, case when u.deleted then null else ${expires} end, now()
      from unnest(${pgArray(list.map((r) => r.id))}::int4[], ${pgArray(list.map((r) => r.name))}::text[],
                  ${pgArray(list.map((r) => deleted.has(r.id)))}::bool[]) as u(id, name, deleted)
      on conflict (${db(key)}) do update set name = coalesce(excluded.name, t.name), deleted = excluded.deleted,
        expires_at = excluded.expires_at, updated_at = now()`;
  }
  const needDetail: { kind: NamedKind; id: number }[] = [];
  for (const kind of ["character", "corporation", "alliance"] as const) {
    const living = rows[kind].filter((r) => !deleted.has(r.id)).map((r) => r.id);
    if (living.length === 0) continue;
    const { table, key } = TABLES[kind];
    const rowsWithout = await db<{ id: number }[]>`
      select ${db(key)} as id from ${db(table)} where ${db(key)} = any(${pgArray(living)}::int4[]) and detail_at is null`;
    for (const r of rowsWithout) needDetail.push({ kind, id: r.id });
  }
  return { deleted, needDetail };
}

/** Ids of the batch whose stored copy needs nothing now: deleted, or not expired. */
async function freshIds(batch: Waiting[]): Promise<Set<number>> {
  const db = sql();
  const fresh = new Set<number>();
  for (const kind of ["character", "corporation", "alliance"] as const) {
    const ids = batch.filter((w) => w.kind === kind).map((w) => w.id);
    if (ids.length === 0) continue;
    const { table, key } = TABLES[kind];
    const rows = await db<{ id: number }[]>`
      select ${db(key)} as id from ${db(table)}
      where ${db(key)} = any(${pgArray(ids)}::int4[]) and (deleted or expires_at > now())`;
    for (const r of rows) fresh.add(r.id);
  }
  return fresh;
}

export class NameCollector {
  private queue: Waiting[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight = 0;
  readonly stats: NameCollectorStats = { batches: 0, ids: 0, esiCalls: 0 };
  private readonly maxIds: number;
  private readonly maxWaitMs: number;
  private readonly maxConcurrent: number;

  constructor(opts: NameCollectorOptions = {}) {
    this.maxIds = Math.min(opts.maxIds ?? MAX_IDS, MAX_IDS);
    this.maxWaitMs = opts.maxWaitMs ?? 250;
    this.maxConcurrent = opts.maxConcurrent ?? 2;
  }

  /** Resolves once the entity's name (and a character's affiliation) is stored. */
  submit(kind: NamedKind, id: number): Promise<NameOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ kind, id, resolve, reject });
      if (this.queue.length >= this.maxIds) this.pump(false);
      else if (!this.timer) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump(true);
        }, this.maxWaitMs);
      }
    });
  }

  private pump(partial: boolean): void {
    while (this.inFlight < this.maxConcurrent && this.queue.length > 0 && (partial || this.queue.length >= this.maxIds)) {
      const batch = this.queue.splice(0, this.maxIds);
      this.inFlight++;
      void this.resolveBatch(batch).finally(() => {
        this.inFlight--;
        if (this.queue.length > 0) this.pump(true);
      });
    }
  }

  private async resolveBatch(batch: Waiting[]): Promise<void> {
    try {
      // A stored copy that is fresh (or deleted) needs nothing: one look for the whole batch.
      const fresh = await freshIds(batch);
      const asked = new Map<number, NamedKind>();
      for (const w of batch) if (!fresh.has(w.id)) asked.set(w.id, w.kind);
      const ids = [...asked.keys()];
      const names = await namesOf(ids, this.stats);
      const characters = ids.filter((id) => (names.get(id)?.category ?? asked.get(id)) === "character" && names.has(id));
      const affiliations = await affiliationsOf(characters, this.stats);
      const { deleted, needDetail } =
        asked.size > 0 ? await store(asked, names, affiliations) : { deleted: new Set<number>(), needDetail: [] };
      this.stats.batches++;
      this.stats.ids += asked.size;
      if (needDetail.length > 0) {
        const payloads: PayloadOf<"detail">[] = needDetail.map((d) => ({ kind: d.kind, id: d.id }));
        await enqueueJobs("detail", payloads);
      }
      for (const w of batch) w.resolve(fresh.has(w.id) ? "fresh" : deleted.has(w.id) ? "deleted" : "named");
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
}

let collector: NameCollector | undefined;

/** The process-wide collector (one per worker process). */
export function nameCollector(): NameCollector {
  collector ??= new NameCollector();
  return collector;
}
