// The deterministic world: catalog + entities + market + lazily generated killmails (+ the real corpus),
// the R2Z2 feed clock, and the lookups every route needs, returning ESI-shaped bodies.
// Index space: [0, generatedCount) are generated kills in time order; then the corpus kills by id.
import { resolve } from "node:path";
import type { Catalog, CatalogChoice } from "./catalog.ts";
import { loadCatalog } from "./catalog.ts";
import type { CorpusData, CorpusKill, JsonObject } from "./corpus.ts";
import { corpusAvailable, loadCorpus, mergeCorpusCatalog, mergeCorpusEntities } from "./corpus.ts";
import type { Entities } from "./entities.ts";
import { entitySizes, generateEntities } from "./entities.ts";
import { FeedClock } from "./feed.ts";
import type { EsiKillmail } from "./generate.ts";
import { KillGenerator } from "./generate.ts";
import { DAY_MS, dayOf, dayString, Market } from "./market.ts";
import { hash32, unit } from "./rng.ts";
import type { Zkb } from "./zkb.ts";
import { computeZkb } from "./zkb.ts";

export type { EsiKillmail } from "./generate.ts";
export type { Zkb } from "./zkb.ts";

/** `<project root>/../shared`, or SIM_SHARED_DIR. */
export function defaultSharedDir(): string {
  return process.env.SIM_SHARED_DIR ?? resolve(import.meta.dirname, "../../../shared");
}

export interface WorldOptions {
  seed?: number;
  /** Generated killmails (the corpus comes on top). */
  killmails?: number;
  /** Days the generated kills span, from startDate (UTC). */
  days?: number;
  startDate?: string;
  catalog?: CatalogChoice;
  /** Serve the real corpus: true/false, or undefined = when ../shared/killmails exists. */
  corpus?: boolean;
  sharedDir?: string;
  /** Share of generated kills (the newest) not yet published when the world starts; the feed serves them. */
  feedShare?: number;
  /** R2Z2 kills per second (0 = frozen). */
  feedRate?: number;
  /**
   * Share (0–1) of generated kills that nobody posted to zKillboard: R2Z2, its history, EVE Ref and the
   * zKillboard API never show them; ESI serves them, and a member's token lists them (recent kills).
   */
  privateShare?: number;
}

export interface KillRecord {
  index: number;
  killmail_id: number;
  hash: string;
  timeMs: number;
  esi: EsiKillmail | JsonObject;
  zkb: Zkb;
}

export type EntityKind = "character" | "corporation" | "alliance";

export class World {
  readonly seed: number;
  readonly generatedCount: number;
  readonly killmailCount: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly catalog: Catalog;
  readonly entities: Entities;
  readonly market: Market;
  readonly gen: KillGenerator;
  readonly feed: FeedClock;
  readonly corpus: CorpusKill[];
  private readonly corpusById = new Map<number, number>();
  private readonly cache = new Map<number, KillRecord>();
  private entityIndex: Map<string, number[]> | undefined;
  private readonly corpusDays = new Map<number, number[]>();
  readonly privateShare: number;
  /** publicBelow[i]: public generated kills with index < i (built on first use when privateShare > 0). */
  private publicBelow: Uint32Array | undefined;

  constructor(opts: WorldOptions = {}) {
    this.seed = opts.seed ?? 1;
    this.privateShare = Math.min(1, Math.max(0, opts.privateShare ?? 0));
    const sharedDir = opts.sharedDir ?? defaultSharedDir();
    this.generatedCount = Math.max(1, Math.floor(opts.killmails ?? 3000));
    const days = Math.max(1, Math.floor(opts.days ?? 30));
    this.startMs = Date.parse(`${opts.startDate ?? "2026-07-26"}T00:00:00Z`);
    if (Number.isNaN(this.startMs)) throw new Error(`invalid startDate ${opts.startDate}`);
    this.endMs = this.startMs + days * DAY_MS;
    this.catalog = loadCatalog(opts.catalog ?? "auto", sharedDir);
    const useCorpus = opts.corpus ?? corpusAvailable(sharedDir);
    if (useCorpus && !corpusAvailable(sharedDir)) throw new Error(`--corpus: no corpus under ${sharedDir}/killmails`);
    const corpus: CorpusData | undefined = useCorpus ? loadCorpus(sharedDir) : undefined;
    if (corpus) mergeCorpusCatalog(corpus, this.catalog);
    this.entities = generateEntities(this.seed, entitySizes(this.generatedCount), this.catalog, this.startMs, this.endMs);
    if (corpus) mergeCorpusEntities(corpus, this.entities, this.catalog, this.seed);
    this.corpus = corpus?.kills ?? [];
    this.corpus.forEach((k, n) => {
      this.corpusById.set(k.id, n);
      const d = dayOf(k.timeMs);
      const day = this.corpusDays.get(d);
      if (day) day.push(this.generatedCount + n);
      else this.corpusDays.set(d, [this.generatedCount + n]);
    });
    this.killmailCount = this.generatedCount + this.corpus.length;
    this.market = new Market(this.seed, this.catalog, dayOf(this.startMs) - 60, dayOf(this.endMs - 1), corpus?.prices);
    this.gen = new KillGenerator(this.seed, this.generatedCount, this.startMs, days, this.catalog, this.entities);
    const share = Math.min(1, Math.max(0, opts.feedShare ?? 0.1));
    this.feed = new FeedClock(Math.floor(this.generatedCount * (1 - share)), this.generatedCount, opts.feedRate ?? 5, Date.now());
  }

  get deletedCharacterIds(): number[] {
    return this.entities.deletedCharacterIds;
  }

  /** Published generated kills: indices below the head. */
  feedHead(nowMs = Date.now()): number {
    return this.feed.head(nowMs);
  }

  isPublished(index: number, nowMs = Date.now()): boolean {
    return index >= this.generatedCount ? index < this.killmailCount : index < this.feed.head(nowMs);
  }

  /** A kill nobody posted to zKillboard (stable per index; never a corpus kill). */
  isPrivate(index: number): boolean {
    return this.privateShare > 0 && index < this.generatedCount && unit(this.seed, index, 0x9a17) < this.privateShare;
  }

  private ranks(): Uint32Array {
    if (!this.publicBelow) {
      const below = new Uint32Array(this.generatedCount + 1);
      for (let i = 0; i < this.generatedCount; i++) below[i + 1] = below[i]! + (this.isPrivate(i) ? 0 : 1);
      this.publicBelow = below;
    }
    return this.publicBelow;
  }

  /** Public generated kills with an index below `index` (R2Z2 numbers public kills only). */
  publicCountBelow(index: number): number {
    if (this.privateShare === 0) return index;
    return this.ranks()[Math.max(0, Math.min(index, this.generatedCount))]!;
  }

  /** The index of the public generated kill of this rank (undefined past the last one). */
  indexOfPublicRank(rank: number): number | undefined {
    if (rank < 0) return undefined;
    if (this.privateShare === 0) return rank < this.generatedCount ? rank : undefined;
    const below = this.ranks();
    if (rank >= below[this.generatedCount]!) return undefined;
    let lo = 0;
    let hi = this.generatedCount - 1;
    // the first index whose count-including-itself exceeds rank
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (below[mid + 1]! > rank) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  publishedAt(index: number): number {
    return index >= this.generatedCount ? this.feed.startedMs : this.feed.publishedAt(index);
  }

  idOfIndex(index: number): number {
    return index < this.generatedCount ? this.gen.idOf(index) : this.corpus[index - this.generatedCount]!.id;
  }

  timeOfIndex(index: number): number {
    return index < this.generatedCount ? this.gen.timeOf(index) : this.corpus[index - this.generatedCount]!.timeMs;
  }

  indexOfId(id: number): number | undefined {
    const c = this.corpusById.get(id);
    if (c !== undefined) return this.generatedCount + c;
    return this.gen.indexOfId(id);
  }

  hashOfIndex(index: number): string {
    return index < this.generatedCount ? this.gen.hashOf(this.gen.idOf(index)) : this.corpus[index - this.generatedCount]!.hash;
  }

  /** The killmail at an index: { killmail_id, hash, esi, zkb } (cached). */
  killmail(index: number): KillRecord {
    if (!Number.isInteger(index) || index < 0 || index >= this.killmailCount) throw new RangeError(`no killmail at index ${index}`);
    const hit = this.cache.get(index);
    if (hit) return hit;
    let rec: KillRecord;
    if (index < this.generatedCount) {
      const esi = this.gen.killmail(index);
      const hash = this.gen.hashOf(esi.killmail_id);
      rec = {
        index,
        killmail_id: esi.killmail_id,
        hash,
        timeMs: this.gen.timeOf(index),
        esi,
        zkb: computeZkb(esi, hash, this.catalog, this.market, this.seed),
      };
    } else {
      const k = this.corpus[index - this.generatedCount]!;
      rec = {
        index,
        killmail_id: k.id,
        hash: k.hash,
        timeMs: k.timeMs,
        esi: k.esi,
        zkb: computeZkb(k.esi as never, k.hash, this.catalog, this.market, this.seed),
      };
    }
    if (this.cache.size >= 3000) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(index, rec);
    return rec;
  }

  killmailById(id: number): KillRecord | undefined {
    const i = this.indexOfId(id);
    return i === undefined ? undefined : this.killmail(i);
  }

  *killmailIds(): IterableIterator<number> {
    for (let i = 0; i < this.killmailCount; i++) yield this.idOfIndex(i);
  }

  // ---- days (R2Z2 history, EVE Ref) ----

  /** Indices of published kills on a UTC day (day number since epoch), generated then corpus. */
  dayIndices(day: number, nowMs = Date.now()): number[] {
    const out: number[] = [];
    const from = this.gen.firstIndexAtOrAfter(day * DAY_MS);
    const to = Math.min(this.gen.firstIndexAtOrAfter((day + 1) * DAY_MS), this.feed.head(nowMs));
    for (let i = from; i < to; i++) if (!this.isPrivate(i)) out.push(i);
    out.push(...(this.corpusDays.get(day) ?? []));
    return out;
  }

  /** True when every kill of the day is published (EVE Ref only archives whole days). */
  dayComplete(day: number, nowMs = Date.now()): boolean {
    return this.gen.firstIndexAtOrAfter((day + 1) * DAY_MS) <= this.feed.head(nowMs);
  }

  /** Days (YYYY-MM-DD, ascending) with at least one published kill. */
  days(nowMs = Date.now()): string[] {
    return Object.keys(this.dayTotals(nowMs)).map((d) => `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)}`);
  }

  /** { YYYYMMDD: published kills } over all days, ascending. */
  dayTotals(nowMs = Date.now(), completeOnly = false): Record<string, number> {
    const counts = new Map<number, number>();
    for (const [d, list] of this.corpusDays) counts.set(d, list.length);
    const head = this.feed.head(nowMs);
    for (let d = dayOf(this.startMs); d < dayOf(this.endMs); d++) {
      const from = this.gen.firstIndexAtOrAfter(d * DAY_MS);
      const end = this.gen.firstIndexAtOrAfter((d + 1) * DAY_MS);
      if (completeOnly && end > head) continue;
      const n = Math.max(0, this.publicCountBelow(Math.min(end, head)) - this.publicCountBelow(from));
      if (n > 0) counts.set(d, (counts.get(d) ?? 0) + n);
    }
    const out: Record<string, number> = {};
    for (const d of [...counts.keys()].sort((a, b) => a - b)) {
      if (completeOnly && !this.dayComplete(d, nowMs) && d >= dayOf(this.startMs)) continue;
      out[dayString(d).replaceAll("-", "")] = counts.get(d)!;
    }
    return out;
  }

  // ---- per-entity kill lists (zKillboard API) ----

  private buildEntityIndex(): Map<string, number[]> {
    const idx = new Map<string, number[]>();
    const add = (kind: EntityKind, id: number | undefined, i: number) => {
      if (id === undefined) return;
      const key = `${kind}:${id}`;
      const list = idx.get(key);
      if (!list) idx.set(key, [i]);
      else if (list[list.length - 1] !== i) list.push(i);
    };
    const visit = (i: number, victim: JsonObject, attackers: JsonObject[]) => {
      for (const p of [victim, ...attackers]) {
        add("character", p.character_id as number | undefined, i);
        add("corporation", p.corporation_id as number | undefined, i);
        add("alliance", p.alliance_id as number | undefined, i);
      }
    };
    for (let i = 0; i < this.generatedCount; i++) {
      const p = this.gen.participants(i);
      visit(i, p.victim as JsonObject, p.attackers as unknown as JsonObject[]);
    }
    for (const [n, k] of this.corpus.entries()) visit(this.generatedCount + n, k.esi.victim as JsonObject, k.esi.attackers as JsonObject[]);
    return idx;
  }

  /** Indices of all kills (published or not) involving an entity, newest (highest killmail_id) first. */
  entityKills(kind: EntityKind, id: number): number[] {
    this.entityIndex ??= this.buildEntityIndex();
    const list = this.entityIndex.get(`${kind}:${id}`) ?? [];
    return [...list].sort((a, b) => this.idOfIndex(b) - this.idOfIndex(a));
  }

  // ---- ESI shapes ----

  character(id: number): JsonObject | undefined {
    const c = this.entities.characters.get(id);
    if (!c || c.deleted) return undefined;
    return {
      achievement_score: c.npc ? 0 : hash32(id, this.seed) % 5000,
      ...(c.allianceId ? { alliance_id: c.allianceId } : {}),
      birthday: c.birthday,
      bloodline_id: c.bloodlineId,
      corporation_id: c.corporationId,
      description: "",
      ...(c.factionId ? { faction_id: c.factionId } : {}),
      gender: c.gender,
      name: c.name,
      race_id: c.raceId,
      security_status: c.securityStatus,
    };
  }

  corporation(id: number): JsonObject | undefined {
    const c = this.entities.corporations.get(id);
    if (!c) return undefined;
    return {
      ...(c.allianceId ? { alliance_id: c.allianceId } : {}),
      ceo_id: c.ceoId ?? (c.npc ? 3_004_000 + (id % 1000) : 1),
      ...(c.creatorId ? { creator_id: c.creatorId } : {}),
      ...(c.dateFounded ? { date_founded: c.dateFounded } : {}),
      description: "",
      ...(!c.npc && c.factionId ? { enlisted_faction_id: c.factionId } : {}),
      friendly_fire: "illegal",
      home_station_id: c.homeStationId,
      member_count: c.npc ? (id === 1_000_001 ? 4_000_000 : 25_000 + (hash32(id) % 100_000)) : Math.max(1, c.members.length),
      name: c.name,
      shares: c.npc ? 0 : 1000,
      state: "active",
      tax_rates: { isk: c.taxRate, loyalty_point: c.taxRate },
      ticker: c.ticker,
      type: c.npc ? "npc_owned" : "player_owned",
      url: "",
      war_eligible: c.warEligible,
    };
  }

  alliance(id: number): JsonObject | undefined {
    const a = this.entities.alliances.get(id);
    if (!a) return undefined;
    return {
      creator_corporation_id: a.creatorCorporationId,
      creator_id: a.creatorId,
      date_founded: a.dateFounded,
      ...(a.executorCorporationId ? { executor_corporation_id: a.executorCorporationId } : {}),
      name: a.name,
      ticker: a.ticker,
    };
  }

  /**
   * GET /status: the cluster started at the last daily downtime's end (11:15 UTC before `nowMs`), a
   * player count that follows the seed and the 30 s cache step, and a build number fixed by the seed.
   */
  status(nowMs: number): { players: number; server_version: string; start_time: string; vip: boolean } {
    let start = Math.floor(nowMs / DAY_MS) * DAY_MS + 11 * 3_600_000 + 15 * 60_000;
    if (start > nowMs) start -= DAY_MS;
    const step = Math.floor(nowMs / 30_000);
    return {
      players: 15_000 + (hash32(step, this.seed) % 20_000),
      server_version: String(3_000_000 + (hash32(this.seed, 0x57a7) % 200_000)),
      start_time: new Date(start).toISOString().replace(/\.\d{3}Z$/, "Z"),
      vip: false,
    };
  }

  /** Active alliances (with at least one corporation). */
  allianceIds(): number[] {
    return [...this.entities.alliances.values()]
      .filter((a) => a.corporations.length > 0)
      .map((a) => a.id)
      .sort((a, b) => a - b);
  }

  allianceCorporations(id: number): number[] | undefined {
    return this.entities.alliances
      .get(id)
      ?.corporations.slice()
      .sort((a, b) => a - b);
  }

  type(id: number): JsonObject | undefined {
    const t = this.catalog.types.get(id);
    if (!t) return undefined;
    return {
      description: `${t.name}.`,
      group_id: t.groupId,
      ...(t.marketGroupId ? { market_group_id: t.marketGroupId } : {}),
      name: t.name,
      portion_size: 1,
      published: t.published,
      type_id: t.id,
      ...(t.volume !== undefined ? { volume: t.volume } : {}),
    };
  }

  group(id: number): JsonObject | undefined {
    const g = this.catalog.groups.get(id);
    return g && { category_id: g.categoryId, group_id: g.id, name: g.name, published: g.published, types: g.types };
  }

  category(id: number): JsonObject | undefined {
    const c = this.catalog.categories.get(id);
    return c && { category_id: c.id, groups: c.groups, name: c.name, published: c.published };
  }

  /** POST /universe/names: undefined when any id does not resolve (ESI answers 404 for the whole call). */
  names(ids: number[]): { category: string; id: number; name: string }[] | undefined {
    const out: { category: string; id: number; name: string }[] = [];
    for (const id of ids) {
      const e = this.entities;
      const hit: [string, string | undefined][] = [
        ["character", e.characters.get(id)?.name],
        ["corporation", e.corporations.get(id)?.name],
        ["alliance", e.alliances.get(id)?.name],
        ["faction", this.catalog.factions.get(id)?.name],
        ["inventory_type", this.catalog.types.get(id)?.name],
        ["solar_system", this.catalog.systemById.get(id)?.name],
        ["region", this.catalog.regions.get(id)],
        ["station", this.catalog.stations.get(id)?.name],
      ];
      const found = hit.find(([, name]) => name !== undefined);
      if (!found) return undefined;
      out.push({ category: found[0], id, name: found[1]! });
    }
    return out;
  }

  /** POST /characters/affiliation: undefined when any id is not a character. Deleted pilots are in Doomheim. */
  affiliation(ids: number[]): JsonObject[] | undefined {
    const out: JsonObject[] = [];
    for (const id of ids) {
      const c = this.entities.characters.get(id);
      if (!c) return undefined;
      if (c.deleted) {
        out.push({ character_id: id, corporation_id: 1_000_001 });
        continue;
      }
      out.push({
        ...(c.allianceId ? { alliance_id: c.allianceId } : {}),
        character_id: id,
        corporation_id: c.corporationId,
        ...(c.factionId ? { faction_id: c.factionId } : {}),
      });
    }
    return out;
  }
}

export function createWorld(opts: WorldOptions = {}): World {
  return new World(opts);
}
