// The 106 real killmails from ../shared/killmails (EVE-KILL/Shrike corpus): their ESI bodies (with the
// extra `killmail_hash` key taken out), their types/groups/systems merged into the catalog, entities for
// every id they name, and the Jita day prices the market history is derived from.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { esiKillmailSchema } from "../../server/esi/killmail-schema.ts";
import type { Catalog } from "./catalog.ts";
import { relink } from "./catalog.ts";
import type { Entities } from "./entities.ts";
import type { CorpusPrices } from "./market.ts";
import { dayOf } from "./market.ts";
import { allianceName, corporationName, pilotName, ticker } from "./names.ts";
import { Rng } from "./rng.ts";

export type JsonObject = Record<string, unknown>;

export interface CorpusKill {
  id: number;
  hash: string;
  timeMs: number;
  /** The ESI body exactly as ESI sends it (file order of keys, no killmail_hash). */
  esi: JsonObject;
}

export interface CorpusData {
  kills: CorpusKill[];
  prices: CorpusPrices;
  types: Record<string, { category_id: number; group_id: number; market_group_id?: number; name: string }>;
  groups: Record<string, { category_id: number; name: string }>;
  systems: Record<string, { constellation_id: number; name: string; region_id: number; security: number }>;
  regions: Record<string, { name: string }>;
}

const sdePrices = z.object({
  types: z.record(
    z.string(),
    z.object({ category_id: z.number(), group_id: z.number(), market_group_id: z.number().optional(), name: z.string() }),
  ),
  groups: z.record(z.string(), z.object({ category_id: z.number(), name: z.string() })),
  systems: z.record(z.string(), z.object({ constellation_id: z.number(), name: z.string(), region_id: z.number(), security: z.number() })),
  regions: z.record(z.string(), z.object({ name: z.string() })),
  prices: z.record(z.string(), z.record(z.string(), z.number())),
  custom_prices: z.record(z.string(), z.number()),
});

export function corpusAvailable(sharedDir: string): boolean {
  return existsSync(join(sharedDir, "killmails", "shrike-corpus")) && existsSync(join(sharedDir, "killmails", "shrike-sde-prices.json"));
}

export function loadCorpus(sharedDir: string): CorpusData {
  const dir = join(sharedDir, "killmails", "shrike-corpus");
  const kills: CorpusKill[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()) {
    const raw = JSON.parse(readFileSync(join(dir, file), "utf8")) as JsonObject;
    const hash = z
      .string()
      .regex(/^[0-9a-f]{40}$/)
      .parse(raw.killmail_hash);
    delete raw.killmail_hash;
    const parsed = esiKillmailSchema.safeParse(raw);
    if (!parsed.success) throw new Error(`corpus ${file}: ${parsed.error.issues[0]?.message}`);
    kills.push({ id: parsed.data.killmail_id, hash, timeMs: Date.parse(parsed.data.killmail_time), esi: raw });
  }
  kills.sort((a, b) => a.id - b.id);
  const sde = sdePrices.parse(JSON.parse(readFileSync(join(sharedDir, "killmails", "shrike-sde-prices.json"), "utf8")));
  const byType = new Map<number, [number, number][]>();
  for (const [date, perType] of Object.entries(sde.prices)) {
    const day = dayOf(Date.parse(`${date}T00:00:00Z`));
    for (const [typeId, price] of Object.entries(perType)) {
      const list = byType.get(Number(typeId)) ?? [];
      list.push([day, price]);
      byType.set(Number(typeId), list);
    }
  }
  for (const list of byType.values()) list.sort((a, b) => a[0] - b[0]);
  const custom = new Map(Object.entries(sde.custom_prices).map(([k, v]) => [Number(k), v]));
  return { kills, prices: { byType, custom }, types: sde.types, groups: sde.groups, systems: sde.systems, regions: sde.regions };
}

/** Adds the corpus's types, groups, systems and regions the catalog lacks (builtin mode). */
export function mergeCorpusCatalog(corpus: CorpusData, catalog: Catalog): void {
  for (const [id, g] of Object.entries(corpus.groups)) {
    const gid = Number(id);
    if (!catalog.groups.has(gid)) catalog.groups.set(gid, { id: gid, categoryId: g.category_id, name: g.name, published: true, types: [] });
    if (!catalog.categories.has(g.category_id))
      catalog.categories.set(g.category_id, { id: g.category_id, name: `Category ${g.category_id}`, published: true, groups: [] });
  }
  for (const [id, t] of Object.entries(corpus.types)) {
    const tid = Number(id);
    if (catalog.types.has(tid)) continue;
    if (!catalog.groups.has(t.group_id))
      catalog.groups.set(t.group_id, {
        id: t.group_id,
        categoryId: t.category_id,
        name: `Group ${t.group_id}`,
        published: true,
        types: [],
      });
    const points = corpus.prices.byType.get(tid);
    const prices = (points ?? []).map((p) => p[1]).sort((a, b) => a - b);
    catalog.types.set(tid, {
      id: tid,
      name: t.name,
      groupId: t.group_id,
      categoryId: t.category_id,
      published: t.category_id !== 11,
      ...(t.market_group_id ? { marketGroupId: t.market_group_id } : {}),
      price: prices.length ? prices[Math.floor(prices.length / 2)]! : 0,
    });
  }
  for (const [id, s] of Object.entries(corpus.systems)) {
    const sid = Number(id);
    if (!catalog.systems.some((x) => x.id === sid))
      catalog.systems.push({ id: sid, name: s.name, security: s.security, constellationId: s.constellation_id, regionId: s.region_id });
  }
  for (const [id, r] of Object.entries(corpus.regions)) if (!catalog.regions.has(Number(id))) catalog.regions.set(Number(id), r.name);
  relink(catalog);
}

interface Mention {
  at: number;
  corporationId?: number;
  allianceId?: number;
  factionId?: number;
}

/** Creates characters, corporations, alliances and factions for every id the corpus names (latest affiliation wins). */
export function mergeCorpusEntities(corpus: CorpusData, entities: Entities, catalog: Catalog, seed: number): void {
  const rng = new Rng(seed, 0xc0);
  const chars = new Map<number, Mention>();
  const corps = new Map<number, Mention>();
  const alliances = new Set<number>();
  const note = (p: JsonObject, at: number) => {
    const c = p.character_id as number | undefined;
    const corp = p.corporation_id as number | undefined;
    const all = p.alliance_id as number | undefined;
    const fac = p.faction_id as number | undefined;
    const m: Mention = {
      at,
      ...(corp ? { corporationId: corp } : {}),
      ...(all ? { allianceId: all } : {}),
      ...(fac ? { factionId: fac } : {}),
    };
    if (c && (chars.get(c)?.at ?? -Infinity) <= at) chars.set(c, m);
    if (corp && (corps.get(corp)?.at ?? -Infinity) <= at) corps.set(corp, m);
    if (all) alliances.add(all);
    if (fac && !catalog.factions.has(fac)) catalog.factions.set(fac, { id: fac, name: `Faction ${fac}` });
  };
  for (const k of corpus.kills) {
    note(k.esi.victim as JsonObject, k.timeMs);
    for (const a of k.esi.attackers as JsonObject[]) note(a, k.timeMs);
  }
  for (const id of [...alliances].sort((a, b) => a - b)) {
    if (entities.alliances.has(id)) continue;
    entities.alliances.set(id, {
      id,
      name: `${allianceName(rng)} ${id % 1000}`,
      ticker: ticker(rng, 4),
      creatorCorporationId: 0,
      creatorId: 0,
      dateFounded: "2008-01-01T00:00:00Z",
      corporations: [],
    });
  }
  for (const [id, m] of [...corps].sort((a, b) => a[0] - b[0])) {
    if (entities.corporations.has(id)) continue;
    const npc = id >= 1_000_000 && id < 2_000_000;
    entities.corporations.set(id, {
      id,
      name: `${corporationName(rng)} ${id % 1000}`,
      ticker: ticker(rng, 4),
      npc,
      homeStationId: 60003760,
      taxRate: 0.1,
      warEligible: !npc,
      members: [],
      dateFounded: "2007-06-01T00:00:00Z",
      ...(m.allianceId && !npc ? { allianceId: m.allianceId } : {}),
      ...(npc && m.factionId ? { factionId: m.factionId } : {}),
    });
    if (m.allianceId && !npc) entities.alliances.get(m.allianceId)?.corporations.push(id);
  }
  for (const [id, m] of [...chars].sort((a, b) => a[0] - b[0])) {
    if (entities.characters.has(id)) continue;
    const corporationId = m.corporationId ?? 1_000_001;
    const corp = entities.corporations.get(corporationId);
    entities.characters.set(id, {
      id,
      name: `${pilotName(rng)} ${id % 997}`,
      corporationId,
      deleted: false,
      npc: id >= 3_000_000 && id < 4_000_000,
      birthday: "2007-01-01T00:00:00Z",
      securityStatus: Math.round((rng.next() * 15 - 10) * 10) / 10,
      gender: rng.chance(0.5) ? "male" : "female",
      raceId: 2,
      bloodlineId: 4,
      ...(corp?.allianceId ? { allianceId: corp.allianceId } : {}),
    });
    corp?.members.push(id);
  }
  for (const a of entities.alliances.values()) {
    if (a.creatorId !== 0) continue;
    a.corporations.sort((x, y) => x - y);
    const exec = a.corporations[0];
    if (exec !== undefined) {
      a.executorCorporationId = exec;
      a.creatorCorporationId = exec;
      a.creatorId = entities.corporations.get(exec)?.members[0] ?? entities.pilots[0]!;
    } else {
      a.creatorCorporationId = [...entities.corporations.values()].find((c) => !c.npc)?.id ?? 1_000_001;
      a.creatorId = entities.pilots[0]!;
    }
  }
  for (const corp of entities.corporations.values()) {
    if (corp.ceoId === undefined && !corp.npc) corp.ceoId = corp.creatorId = corp.members[0];
  }
}
