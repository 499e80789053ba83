// The type universe the world is built from: the built-in catalog, or the full SDE from ../shared/sde
// (catalog "auto" picks shared when present). Also sorts types into the pools the killmail generator
// draws from (ship classes, slot modules, charges, containers, …) by their real group and category ids.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import {
  BUILTIN_BUILD_TYPES,
  BUILTIN_CATEGORIES,
  BUILTIN_FACTIONS,
  BUILTIN_GROUPS,
  BUILTIN_NPC_CORPORATIONS,
  BUILTIN_REGIONS,
  BUILTIN_STATIONS,
  BUILTIN_SYSTEMS,
  BUILTIN_TYPES,
  type BuiltinType,
} from "./catalog-builtin.ts";
import { hash32 } from "./rng.ts";

export interface TypeInfo {
  id: number;
  name: string;
  groupId: number;
  categoryId: number;
  published: boolean;
  marketGroupId?: number;
  /** Anchor price (ISK) the market history moves around. */
  price: number;
  volume?: number;
}
export interface GroupInfo {
  id: number;
  categoryId: number;
  name: string;
  published: boolean;
  types: number[];
}
export interface CategoryInfo {
  id: number;
  name: string;
  published: boolean;
  groups: number[];
}
export interface SystemInfo {
  id: number;
  name: string;
  security: number;
  constellationId: number;
  regionId: number;
}
export interface FactionInfo {
  id: number;
  name: string;
  corporationId?: number;
}
export interface NpcCorpInfo {
  id: number;
  name: string;
  factionId?: number;
}

export type ShipClass =
  | "frigate"
  | "destroyer"
  | "cruiser"
  | "t3c"
  | "battlecruiser"
  | "battleship"
  | "industrial"
  | "barge"
  | "freighter"
  | "capindustrial"
  | "carrier"
  | "dread"
  | "fax"
  | "super"
  | "titan"
  | "capsule";

export interface Pools {
  ships: Record<ShipClass, number[]>;
  goldenCapsule: number[];
  structures: number[];
  npcShips: number[];
  weapons: number[];
  utilityHigh: number[];
  miners: number[];
  siege: number[];
  mid: number[];
  low: number[];
  rigs: number[];
  subsystems: number[];
  charges: number[];
  drones: number[];
  fighters: number[];
  containers: number[];
  blueprints: number[];
  skins: number[];
  implants: number[];
  goods: number[];
  /** Structure modules (category 66), fitted to structure victims. */
  structureModules: number[];
}

export interface Catalog {
  source: "builtin" | "shared";
  types: Map<number, TypeInfo>;
  groups: Map<number, GroupInfo>;
  categories: Map<number, CategoryInfo>;
  systems: SystemInfo[];
  systemById: Map<number, SystemInfo>;
  regions: Map<number, string>;
  factions: Map<number, FactionInfo>;
  npcCorporations: Map<number, NpcCorpInfo>;
  stations: Map<number, { id: number; name: string; systemId: number }>;
  pools: Pools;
}

export const SHIP_CLASS_BY_GROUP: Record<number, ShipClass> = {
  25: "frigate",
  324: "frigate",
  831: "frigate",
  830: "frigate",
  834: "frigate",
  893: "frigate",
  237: "frigate",
  31: "frigate",
  1283: "frigate",
  1527: "frigate",
  420: "destroyer",
  1305: "destroyer",
  541: "destroyer",
  1534: "destroyer",
  26: "cruiser",
  358: "cruiser",
  833: "cruiser",
  906: "cruiser",
  832: "cruiser",
  894: "cruiser",
  1972: "cruiser",
  963: "t3c",
  419: "battlecruiser",
  1201: "battlecruiser",
  540: "battlecruiser",
  27: "battleship",
  900: "battleship",
  898: "battleship",
  28: "industrial",
  1202: "industrial",
  380: "industrial",
  463: "barge",
  543: "barge",
  513: "freighter",
  902: "freighter",
  883: "capindustrial",
  941: "capindustrial",
  547: "carrier",
  485: "dread",
  1538: "fax",
  659: "super",
  30: "titan",
  29: "capsule",
};
const WEAPON_GROUPS = new Set([53, 55, 74, 506, 507, 508, 509, 510, 511, 771]);
const UTILITY_HIGH_GROUPS = new Set([71, 330, 899, 481, 1122]);
const MINER_GROUPS = new Set([54, 464, 483]);
const MID_GROUPS = new Set([38, 40, 46, 52, 65, 77, 43, 212, 338]);
const LOW_GROUPS = new Set([59, 60, 62, 205, 302, 326, 329, 367, 645, 763, 764, 765, 762, 766, 769, 315, 285, 546]);
const CONTAINER_GROUPS = new Set([12, 340, 448, 649]);
const GOODS_CATEGORIES = new Set([4, 5, 17, 25]);
const STRUCTURE_CATEGORIES = new Set([65, 23, 46, 22]);

/** Category 91 (SKINs) and entities are never tradable; otherwise a market group makes a type tradable. */
export function isTradable(t: TypeInfo): boolean {
  if (t.categoryId === 91 || t.categoryId === 11) return false;
  return (t.marketGroupId ?? 0) > 0;
}

function builtinCatalog(): Catalog {
  const categories = new Map<number, CategoryInfo>();
  for (const [id, name, published] of BUILTIN_CATEGORIES) categories.set(id, { id, name, published, groups: [] });
  const groups = new Map<number, GroupInfo>();
  for (const [id, categoryId, name, published] of BUILTIN_GROUPS) groups.set(id, { id, categoryId, name, published, types: [] });
  const types = new Map<number, TypeInfo>();
  // The types kills name, then the build-only ones (materials, blueprint products): listed apart, made alike.
  const builtinTypes: readonly BuiltinType[] = [...BUILTIN_TYPES, ...BUILTIN_BUILD_TYPES];
  for (const [id, name, groupId, marketGroupId, price, published] of builtinTypes) {
    const g = groups.get(groupId)!;
    types.set(id, {
      id,
      name,
      groupId,
      categoryId: g.categoryId,
      published: published ?? g.published,
      ...(marketGroupId > 0 ? { marketGroupId } : {}),
      price,
    });
  }
  const systems = BUILTIN_SYSTEMS.map(([id, name, security, constellationId, regionId]) => ({
    id,
    name,
    security,
    constellationId,
    regionId,
  }));
  return finish({
    source: "builtin",
    types,
    groups,
    categories,
    systems,
    regions: new Map(BUILTIN_REGIONS.map(([id, name]) => [id, name])),
    factions: new Map(BUILTIN_FACTIONS.map(([id, name, corporationId]) => [id, { id, name, corporationId }])),
    npcCorporations: new Map(BUILTIN_NPC_CORPORATIONS.map(([id, name, f]) => [id, { id, name, ...(f ? { factionId: f } : {}) }])),
  });
}

const sdeType = z.object({
  type_id: z.number().int(),
  name: z.string(),
  group_id: z.number().int(),
  category_id: z.number().int(),
  published: z.boolean(),
  market_group_id: z.number().int().optional(),
  base_price: z.number().optional(),
  volume: z.number().optional(),
});
const sdeGroup = z.object({ group_id: z.number().int(), category_id: z.number().int(), name: z.string(), published: z.boolean() });
const sdeCategory = z.object({ category_id: z.number().int(), name: z.string(), published: z.boolean() });
const sdeSystem = z.object({
  solar_system_id: z.number().int(),
  name: z.string(),
  security: z.number(),
  constellation_id: z.number().int(),
  region_id: z.number().int(),
  region_name: z.string(),
});
const sdeFaction = z.object({ faction_id: z.number().int(), name: z.string(), corporation_id: z.number().int().nullable() });
const sdeNpcCorp = z.object({ corporation_id: z.number().int(), name: z.string(), faction_id: z.number().int().nullable() });

function readJson<T>(path: string, schema: z.ZodType<T>): T {
  return schema.parse(JSON.parse(readFileSync(path, "utf8")));
}

type SdeType = z.infer<typeof sdeType>;

/** types.json holds 48k rows: checked field by field (a zod parse of every row costs a few hundred ms). */
function readTypes(path: string): SdeType[] {
  const rows: unknown = JSON.parse(readFileSync(path, "utf8"));
  if (!Array.isArray(rows)) throw new Error(`${path}: expected an array`);
  const isInt = (v: unknown) => Number.isInteger(v);
  const optNum = (v: unknown) => v === undefined || typeof v === "number";
  for (const r of rows as Record<string, unknown>[]) {
    const ok =
      r &&
      isInt(r.type_id) &&
      typeof r.name === "string" &&
      isInt(r.group_id) &&
      isInt(r.category_id) &&
      typeof r.published === "boolean" &&
      optNum(r.market_group_id) &&
      optNum(r.base_price) &&
      optNum(r.volume);
    if (!ok) return z.array(sdeType).parse(rows); // let zod name the bad row
  }
  return rows as SdeType[];
}

/** Heuristic anchor price for SDE types the built-in list does not price. */
function guessPrice(t: { type_id: number; category_id: number; base_price?: number }): number {
  const spread = 0.5 + 1.5 * (hash32(t.type_id, 77) / 4294967296);
  if (t.base_price && t.base_price > 0) return Math.round(t.base_price * (t.category_id === 6 ? 1.3 : 1) * 100) / 100;
  const byCategory: Record<number, number> = {
    6: 20e6,
    7: 800e3,
    8: 150,
    9: 2e6,
    18: 300e3,
    20: 15e6,
    32: 25e6,
    4: 200,
    5: 1e6,
    17: 5e3,
    25: 500,
    65: 1e9,
    87: 3e6,
    22: 5e6,
    23: 100e6,
    66: 50e6,
  };
  return Math.round((byCategory[t.category_id] ?? 10e3) * spread * 100) / 100;
}

function sharedCatalog(sdeDir: string): Catalog {
  const builtinPrice = new Map(BUILTIN_TYPES.map((t) => [t[0], t[4]]));
  const categories = new Map<number, CategoryInfo>();
  for (const c of readJson(join(sdeDir, "categories.json"), z.array(sdeCategory)))
    categories.set(c.category_id, { id: c.category_id, name: c.name, published: c.published, groups: [] });
  const groups = new Map<number, GroupInfo>();
  for (const g of readJson(join(sdeDir, "groups.json"), z.array(sdeGroup)))
    groups.set(g.group_id, { id: g.group_id, categoryId: g.category_id, name: g.name, published: g.published, types: [] });
  const types = new Map<number, TypeInfo>();
  for (const t of readTypes(join(sdeDir, "types.json"))) {
    types.set(t.type_id, {
      id: t.type_id,
      name: t.name,
      groupId: t.group_id,
      categoryId: t.category_id,
      published: t.published,
      ...(t.market_group_id ? { marketGroupId: t.market_group_id } : {}),
      price: builtinPrice.get(t.type_id) ?? guessPrice(t),
      ...(t.volume !== undefined ? { volume: t.volume } : {}),
    });
  }
  const rawSystems = readJson(join(sdeDir, "solar-systems.json"), z.array(sdeSystem));
  const regions = new Map<number, string>();
  for (const s of rawSystems) regions.set(s.region_id, s.region_name);
  const systems = rawSystems.map((s) => ({
    id: s.solar_system_id,
    name: s.name,
    security: s.security,
    constellationId: s.constellation_id,
    regionId: s.region_id,
  }));
  const factions = new Map<number, FactionInfo>();
  for (const f of readJson(join(sdeDir, "factions.json"), z.array(sdeFaction)))
    factions.set(f.faction_id, { id: f.faction_id, name: f.name, ...(f.corporation_id ? { corporationId: f.corporation_id } : {}) });
  const npcCorporations = new Map<number, NpcCorpInfo>();
  for (const c of readJson(join(sdeDir, "npc-corporations.json"), z.array(sdeNpcCorp)))
    npcCorporations.set(c.corporation_id, { id: c.corporation_id, name: c.name, ...(c.faction_id ? { factionId: c.faction_id } : {}) });
  return finish({ source: "shared", types, groups, categories, systems, regions, factions, npcCorporations });
}

type Partial0 = Omit<Catalog, "pools" | "systemById" | "stations">;

/** Links groups/categories to their members and builds the generator pools. */
function finish(c: Partial0): Catalog {
  return relink({ ...c, systemById: new Map(), stations: new Map(), pools: emptyPools() });
}

/** Recomputes membership lists, lookups and pools (after types were added, e.g. from the corpus). */
export function relink(c: Catalog): Catalog {
  for (const g of c.groups.values()) g.types = [];
  for (const cat of c.categories.values()) cat.groups = [];
  for (const t of c.types.values()) c.groups.get(t.groupId)?.types.push(t.id);
  for (const g of c.groups.values()) {
    g.types.sort((a, b) => a - b);
    c.categories.get(g.categoryId)?.groups.push(g.id);
  }
  for (const cat of c.categories.values()) cat.groups.sort((a, b) => a - b);
  c.systemById = new Map(c.systems.map((s) => [s.id, s]));
  c.stations = new Map(BUILTIN_STATIONS.map(([id, name, systemId]) => [id, { id, name, systemId }]));
  if (c.pools.weapons.length === 0) c.pools = buildPools(c.types, c.groups, c.source === "builtin");
  return c;
}

function emptyPools(): Pools {
  const ships = {} as Record<ShipClass, number[]>;
  for (const k of new Set(Object.values(SHIP_CLASS_BY_GROUP))) ships[k] = [];
  return {
    ships,
    goldenCapsule: [],
    structures: [],
    npcShips: [],
    weapons: [],
    utilityHigh: [],
    miners: [],
    siege: [],
    mid: [],
    low: [],
    rigs: [],
    subsystems: [],
    charges: [],
    drones: [],
    fighters: [],
    containers: [],
    blueprints: [],
    skins: [],
    implants: [],
    goods: [],
    structureModules: [],
  };
}

/** Sorts types into pools. In shared mode only published market types (plus capsules, NPCs, structures) are used. */
function buildPools(types: Map<number, TypeInfo>, groups: Map<number, GroupInfo>, all: boolean): Pools {
  const p = emptyPools();
  const ids = [...types.keys()].sort((a, b) => a - b);
  const buildOnly = new Set(BUILTIN_BUILD_TYPES.map(([id]) => id));
  for (const id of ids) {
    const t = types.get(id)!;
    const market = all || (t.published && (t.marketGroupId ?? 0) > 0);
    if (t.categoryId === 66) {
      if (market) p.structureModules.push(id);
      continue;
    }
    if (all && buildOnly.has(id)) continue;
    if (t.categoryId === 6) {
      const cls = SHIP_CLASS_BY_GROUP[t.groupId];
      if (cls === "capsule") (id === 670 ? p.ships.capsule : id === 33328 ? p.goldenCapsule : []).push(id);
      else if (cls && market) p.ships[cls].push(id);
    } else if (t.categoryId === 11) {
      if (all || /^(Asteroid |Deadspace )/.test(groups.get(t.groupId)?.name ?? "")) p.npcShips.push(id);
    } else if (STRUCTURE_CATEGORIES.has(t.categoryId)) {
      if (all || (t.published && t.categoryId === 65)) p.structures.push(id);
    } else if (!market) {
      if (CONTAINER_GROUPS.has(t.groupId) && t.groupId === 649) p.containers.push(id);
    } else if (t.categoryId === 7) {
      if (WEAPON_GROUPS.has(t.groupId)) p.weapons.push(id);
      else if (UTILITY_HIGH_GROUPS.has(t.groupId)) p.utilityHigh.push(id);
      else if (MINER_GROUPS.has(t.groupId)) p.miners.push(id);
      else if (t.groupId === 515) p.siege.push(id);
      else if (MID_GROUPS.has(t.groupId)) p.mid.push(id);
      else if (LOW_GROUPS.has(t.groupId)) p.low.push(id);
      else if (/^(Small|Medium|Large|Capital) .* I{1,2}$/.test(t.name) && t.groupId >= 773 && t.groupId <= 1233) p.rigs.push(id);
    } else if (t.categoryId === 32) p.subsystems.push(id);
    else if (t.categoryId === 8) p.charges.push(id);
    else if (t.categoryId === 18) p.drones.push(id);
    else if (t.categoryId === 87) p.fighters.push(id);
    else if (CONTAINER_GROUPS.has(t.groupId)) p.containers.push(id);
    else if (t.categoryId === 9) p.blueprints.push(id);
    else if (t.categoryId === 91) p.skins.push(id);
    else if (t.categoryId === 20) p.implants.push(id);
    else if (GOODS_CATEGORIES.has(t.categoryId)) p.goods.push(id);
  }
  if (p.goldenCapsule.length === 0) p.goldenCapsule.push(...p.ships.capsule);
  return p;
}

export type CatalogChoice = "auto" | "builtin" | "shared";

/** Loads the catalog: "shared" needs `<sharedDir>/sde`; "auto" uses it when present. */
export function loadCatalog(choice: CatalogChoice, sharedDir: string): Catalog {
  const sdeDir = join(sharedDir, "sde");
  const haveShared = existsSync(join(sdeDir, "types.json"));
  if (choice === "shared" && !haveShared) throw new Error(`--catalog shared: no SDE at ${sdeDir}`);
  if (choice === "builtin" || !haveShared) return builtinCatalog();
  return sharedCatalog(sdeDir);
}
