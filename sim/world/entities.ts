// Pilots, corporations and alliances of the simulated world, generated eagerly from the seed with ids in
// the real ranges (esi-docs id-ranges): characters 90M–98M, 2.1B–2.13B and the old shared 100M–2.1B
// range; player corporations 98M–99M, alliances 99M–100M; NPC characters 3M–4M; NPC corporations from
// the catalog. A few pilots are deleted (biomassed): ESI answers 404 for them, affiliation says Doomheim.
import type { Catalog } from "./catalog.ts";
import { allianceName, corporationName, pilotName, ticker } from "./names.ts";
import { Rng } from "./rng.ts";

export interface Character {
  id: number;
  name: string;
  corporationId: number;
  allianceId?: number;
  factionId?: number;
  /** Corporation shown on killmails before `movedAt` (epoch ms); undefined when the pilot never moved. */
  formerCorporationId?: number;
  movedAt?: number;
  birthday: string;
  deleted: boolean;
  npc: boolean;
  securityStatus: number;
  gender: "male" | "female";
  raceId: number;
  bloodlineId: number;
}
export interface Corporation {
  id: number;
  name: string;
  ticker: string;
  allianceId?: number;
  factionId?: number;
  ceoId?: number;
  creatorId?: number;
  dateFounded?: string;
  npc: boolean;
  homeStationId: number;
  taxRate: number;
  warEligible: boolean;
  members: number[];
}
export interface Alliance {
  id: number;
  name: string;
  ticker: string;
  creatorCorporationId: number;
  creatorId: number;
  executorCorporationId?: number;
  dateFounded: string;
  corporations: number[];
}
export interface Entities {
  characters: Map<number, Character>;
  corporations: Map<number, Corporation>;
  alliances: Map<number, Alliance>;
  /** Player pilots (alive and deleted) in id order: the generator picks victims and attackers from these. */
  pilots: number[];
  deletedCharacterIds: number[];
  npcCharacterIds: number[];
}

const BLOODLINES: Record<number, number[]> = { 1: [1, 2, 11], 2: [3, 4, 14], 4: [5, 6, 13], 8: [7, 8, 12] };
const STARTER_CORPS = [1000044, 1000045, 1000049, 1000166, 1000167, 1000168, 1000170];
const FW_FACTIONS = [500001, 500002, 500003, 500004];
const STATIONS = [60003760, 60008494, 60011866, 60004588];

/** Spreads n distinct increasing ids over [lo, hi). */
function allocate(rng: Rng, n: number, lo: number, hi: number): number[] {
  const out: number[] = [];
  if (n <= 0) return out;
  const step = (hi - lo) / n;
  for (let k = 0; k < n; k++) out.push(lo + Math.floor(k * step + rng.next() * Math.max(0, step - 1)));
  return out;
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export interface EntitySizes {
  characters: number;
  corporations: number;
  alliances: number;
}

export function entitySizes(killmails: number): EntitySizes {
  const characters = Math.min(300_000, Math.max(3000, Math.ceil(killmails / 2)));
  const corporations = Math.max(60, Math.ceil(characters / 15));
  return { characters, corporations, alliances: Math.max(12, Math.ceil(corporations / 8)) };
}

export function generateEntities(seed: number, sizes: EntitySizes, catalog: Catalog, worldStartMs: number, worldEndMs: number): Entities {
  const rng = new Rng(seed, 0xe117);
  const usedNames = new Set<string>();
  const unique = (make: () => string) => {
    let name = make();
    for (let i = 2; usedNames.has(name); i++) name = `${make()}${i > 4 ? ` ${i}` : ""}`;
    usedNames.add(name);
    return name;
  };
  const characters = new Map<number, Character>();
  const corporations = new Map<number, Corporation>();
  const alliances = new Map<number, Alliance>();

  // NPC corporations from the catalog.
  for (const c of catalog.npcCorporations.values()) {
    corporations.set(c.id, {
      id: c.id,
      name: c.name,
      ticker: ticker(rng, 4),
      npc: true,
      homeStationId: STATIONS[0]!,
      taxRate: 0.11,
      warEligible: false,
      members: [],
      ...(c.factionId ? { factionId: c.factionId } : {}),
    });
  }

  // Alliances.
  const nOldAlliances = Math.floor(sizes.alliances * 0.15);
  const allianceIds = [
    ...allocate(rng, nOldAlliances, 1_500_000_000, 2_000_000_000),
    ...allocate(rng, sizes.alliances - nOldAlliances, 99_000_000, 99_999_999),
  ];
  for (const id of allianceIds) {
    alliances.set(id, {
      id,
      name: unique(() => allianceName(rng)),
      ticker: ticker(rng, rng.int(3, 5)),
      creatorCorporationId: 0,
      creatorId: 0,
      dateFounded: isoDay(Date.UTC(2006 + rng.int(0, 19), rng.int(0, 11), rng.int(1, 28), rng.int(0, 23), rng.int(0, 59))),
      corporations: [],
    });
  }

  // Player corporations: ~70% in an alliance; a few enlisted in faction warfare.
  const nOldCorps = Math.floor(sizes.corporations * 0.15);
  const corpIds = [
    ...allocate(rng, nOldCorps, 1_000_000_000, 1_500_000_000),
    ...allocate(rng, sizes.corporations - nOldCorps, 98_000_000, 98_999_999),
  ];
  for (const id of corpIds) {
    const alliance = rng.chance(0.7) ? rng.pick(allianceIds) : undefined;
    const corp: Corporation = {
      id,
      name: unique(() => corporationName(rng)),
      ticker: ticker(rng, rng.int(3, 5)),
      npc: false,
      homeStationId: rng.pick(STATIONS),
      taxRate: rng.pick([0, 0.05, 0.1, 0.1, 0.15, 1]),
      warEligible: rng.chance(0.8),
      members: [],
      dateFounded: isoDay(Date.UTC(2005 + rng.int(0, 20), rng.int(0, 11), rng.int(1, 28), rng.int(0, 23), rng.int(0, 59))),
      ...(alliance ? { allianceId: alliance } : {}),
      ...(!alliance && rng.chance(0.25) ? { factionId: rng.pick(FW_FACTIONS) } : {}),
    };
    corporations.set(id, corp);
    if (alliance) alliances.get(alliance)!.corporations.push(id);
  }

  // Player characters.
  const nOld = Math.floor(sizes.characters * 0.2);
  const nMid = Math.floor(sizes.characters * 0.35);
  const charIds = [
    ...allocate(rng, nMid, 90_000_000, 97_999_999),
    ...allocate(rng, nOld, 150_000_000, 1_000_000_000),
    ...allocate(rng, sizes.characters - nOld - nMid, 2_112_000_000, 2_129_999_999),
  ].sort((a, b) => a - b);
  // Big corporations get more members: weight by a heavy tail.
  const corpWeights = corpIds.map(() => rng.next() ** 3 * 100 + 1);
  const pickCorp = () => corpIds[rng.weighted(corpWeights)]!;
  const deleted: number[] = [];
  const span = worldEndMs - worldStartMs;
  for (const id of charIds) {
    const raceId = rng.pick([1, 2, 4, 8]);
    const starter = rng.chance(0.12);
    const corporationId = starter ? rng.pick(STARTER_CORPS) : pickCorp();
    const corp = corporations.get(corporationId);
    const isDeleted = rng.chance(0.04);
    const moved = !isDeleted && !starter && rng.chance(0.06);
    const birthYear = id >= 2_100_000_000 ? 2016 + rng.int(0, 9) : id < 98_000_000 ? 2010 + rng.int(0, 6) : 2003 + rng.int(0, 6);
    const ch: Character = {
      id,
      name: unique(() => pilotName(rng)),
      corporationId,
      deleted: isDeleted,
      npc: false,
      birthday: isoDay(Date.UTC(birthYear, rng.int(0, 11), rng.int(1, 28), rng.int(0, 23), rng.int(0, 59), rng.int(0, 59))),
      securityStatus: Math.round((rng.next() * 15 - 10) * 1e6) / 1e6,
      gender: rng.chance(0.5) ? "male" : "female",
      raceId,
      bloodlineId: rng.pick(BLOODLINES[raceId]!),
      ...(corp?.allianceId ? { allianceId: corp.allianceId } : {}),
      ...(corp?.factionId ? { factionId: corp.factionId } : {}),
    };
    if (moved) {
      ch.formerCorporationId = pickCorp();
      ch.movedAt = worldStartMs + Math.floor(span * (0.2 + 0.6 * rng.next()));
    }
    characters.set(id, ch);
    if (isDeleted) deleted.push(id);
    else corp?.members.push(id);
  }
  // CEOs and creators.
  for (const corp of corporations.values()) {
    if (corp.npc) continue;
    const ceo = corp.members[0] ?? rng.pick(charIds);
    corp.ceoId = ceo;
    corp.creatorId = corp.members[corp.members.length - 1] ?? ceo;
  }
  for (const a of alliances.values()) {
    a.corporations.sort((x, y) => x - y);
    const exec = a.corporations[0];
    if (exec !== undefined) {
      a.executorCorporationId = exec;
      a.creatorCorporationId = exec;
      a.creatorId = corporations.get(exec)!.ceoId!;
    } else {
      // An alliance whose corporations all left: keeps its creator, has no executor.
      a.creatorCorporationId = rng.pick(corpIds);
      a.creatorId = rng.pick(charIds);
    }
  }

  // NPC characters (agents): ids 3,000,000–3,999,999 in NPC corporations.
  const npcCorpIds = [...catalog.npcCorporations.keys()].filter((id) => id !== 1_000_001);
  const npcCharacterIds = allocate(rng, 100, 3_004_000, 3_020_000);
  for (const id of npcCharacterIds) {
    const raceId = rng.pick([1, 2, 4, 8]);
    characters.set(id, {
      id,
      name: unique(() => pilotName(rng)),
      corporationId: rng.pick(npcCorpIds),
      deleted: false,
      npc: true,
      birthday: "2003-05-06T00:00:00Z",
      securityStatus: 0,
      gender: rng.chance(0.5) ? "male" : "female",
      raceId,
      bloodlineId: rng.pick(BLOODLINES[raceId]!),
    });
  }
  return { characters, corporations, alliances, pilots: charIds, deletedCharacterIds: deleted, npcCharacterIds };
}

/** The corporation/alliance/faction a pilot had at a given time (what a killmail records). */
export function affiliationAt(
  e: Entities,
  ch: Character,
  atMs: number,
): { corporationId: number; allianceId?: number; factionId?: number } {
  const corpId =
    ch.formerCorporationId !== undefined && ch.movedAt !== undefined && atMs < ch.movedAt ? ch.formerCorporationId : ch.corporationId;
  const corp = e.corporations.get(corpId);
  return {
    corporationId: corpId,
    ...(corp?.allianceId ? { allianceId: corp.allianceId } : {}),
    ...(corp?.factionId ? { factionId: corp.factionId } : {}),
  };
}
