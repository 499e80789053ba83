// Killmails of the simulated world, generated lazily from (seed, index): index order is time order
// (killmail_time and killmail_id both grow with the index), so 100k+ kills cost nothing until asked for.
// Shapes follow real mails: heavy-tailed attacker counts, NPC attackers, structures without a victim
// character, fitted slots, rigs, subsystems, cargo, drone bay, frigate escape bay, containers with
// contents, blueprint copies (singleton 2), stacks split into dropped and destroyed rows, pods.
import type { Catalog, ShipClass, TypeInfo } from "./catalog.ts";
import { SHIP_CLASS_BY_GROUP } from "./catalog.ts";
import type { Entities } from "./entities.ts";
import { affiliationAt } from "./entities.ts";
import { hash32, Rng, sha1Hex, unit } from "./rng.ts";

export const KILL_ID_BASE = 140_000_000;

export type Scenario = "small" | "medium" | "pod" | "npc" | "hauler" | "mining" | "structure" | "capital" | "supercap" | "gank" | "blob";
const SCENARIOS: Scenario[] = ["small", "medium", "pod", "npc", "hauler", "mining", "structure", "capital", "supercap", "gank", "blob"];
const SCENARIO_WEIGHTS = [38, 15, 14, 8, 6, 5, 2.5, 2.5, 0.5, 3, 1.5];

export interface EsiItem {
  flag: number;
  item_type_id: number;
  items?: EsiItem[];
  quantity_destroyed?: number;
  quantity_dropped?: number;
  singleton: number;
}
export interface EsiAttacker {
  alliance_id?: number;
  character_id?: number;
  corporation_id?: number;
  damage_done: number;
  faction_id?: number;
  final_blow: boolean;
  security_status: number;
  ship_type_id?: number;
  weapon_type_id?: number;
}
export interface EsiVictim {
  alliance_id?: number;
  character_id?: number;
  corporation_id?: number;
  damage_taken: number;
  faction_id?: number;
  items?: EsiItem[];
  position?: { x: number; y: number; z: number };
  ship_type_id: number;
}
export interface EsiKillmail {
  attackers: EsiAttacker[];
  killmail_id: number;
  killmail_time: string;
  moon_id?: number;
  solar_system_id: number;
  victim: EsiVictim;
  war_id?: number;
}

/** Who was involved: cheap to compute (no items), used for the zKillboard per-entity index. */
export interface Participants {
  index: number;
  id: number;
  timeMs: number;
  scenario: Scenario;
  systemId: number;
  victim: Omit<EsiVictim, "items" | "position">;
  attackers: EsiAttacker[];
}

// Activity by UTC hour (EU and US prime times busiest).
const HOUR_WEIGHTS = [7, 7, 6, 5, 4, 3, 2.5, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7, 8, 9, 9.5, 9.5, 9, 8.5, 8];
const NPC_CORPS: [number, number][] = [
  [1000127, 500010],
  [1000135, 500020],
  [1000134, 500012],
  [1000162, 500019],
  [1000138, 500011],
  [1000274, 500024],
];
const FW = new Set([500001, 500002, 500003, 500004]);

const r1 = (x: number) => Math.round(x * 10) / 10 || 0;

const ATTACKER_KEYS = [
  "alliance_id",
  "character_id",
  "corporation_id",
  "damage_done",
  "faction_id",
  "final_blow",
  "security_status",
  "ship_type_id",
  "weapon_type_id",
] as const;

/** ESI sends keys in alphabetical order. */
function orderAttacker(a: EsiAttacker): EsiAttacker {
  const out: Record<string, unknown> = {};
  for (const k of ATTACKER_KEYS) if (a[k] !== undefined) out[k] = a[k];
  return out as unknown as EsiAttacker;
}

export class KillGenerator {
  private readonly cum: Float64Array;
  private readonly allianceMembers = new Map<number, number[]>();
  private readonly allianceIds: number[];
  private readonly systemsBySec: { high: number[]; low: number[]; null: number[] };
  private readonly participantsCache = new Map<number, Participants>();

  constructor(
    readonly seed: number,
    readonly count: number,
    readonly startMs: number,
    readonly days: number,
    private readonly catalog: Catalog,
    private readonly entities: Entities,
  ) {
    const hours = days * 24;
    this.cum = new Float64Array(hours + 1);
    for (let h = 0; h < hours; h++) this.cum[h + 1] = this.cum[h]! + HOUR_WEIGHTS[h % 24]!;
    for (const id of entities.pilots) {
      const a = entities.characters.get(id)!.allianceId;
      if (a === undefined) continue;
      const list = this.allianceMembers.get(a) ?? [];
      list.push(id);
      this.allianceMembers.set(a, list);
    }
    this.allianceIds = [...this.allianceMembers.keys()].sort((a, b) => a - b);
    const high: number[] = [],
      low: number[] = [],
      nul: number[] = [];
    for (const s of catalog.systems) {
      const sec = r1(s.security);
      (sec >= 0.5 ? high : sec > 0 ? low : nul).push(s.id);
    }
    this.systemsBySec = { high, low, null: nul };
  }

  get endMs(): number {
    return this.startMs + this.days * 86_400_000;
  }

  idOf(i: number): number {
    return KILL_ID_BASE + 3 * i + (hash32(this.seed, i, 0x1d) % 3);
  }

  indexOfId(id: number): number | undefined {
    const i = Math.floor((id - KILL_ID_BASE) / 3);
    return i >= 0 && i < this.count && this.idOf(i) === id ? i : undefined;
  }

  hashOf(id: number): string {
    return sha1Hex(`${this.seed}:${id}`);
  }

  /** killmail_time in ms: the inverse of the hourly activity curve, so index order is time order. */
  timeOf(i: number): number {
    const total = this.cum[this.cum.length - 1]!;
    const x = ((i + unit(this.seed, i, 0x7)) / this.count) * total;
    let lo = 0;
    let hi = this.cum.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.cum[mid]! <= x) lo = mid;
      else hi = mid - 1;
    }
    const within = (x - this.cum[lo]!) / (this.cum[lo + 1]! - this.cum[lo]!);
    const t = this.startMs + (lo + Math.min(within, 0.9999)) * 3_600_000;
    return Math.floor(t / 1000) * 1000;
  }

  /** First index whose time is ≥ ms (binary search over the monotone time function). */
  firstIndexAtOrAfter(ms: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.timeOf(mid) < ms) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private shipPool(cls: ShipClass): number[] {
    const pool = this.catalog.pools.ships[cls];
    return pool.length ? pool : this.catalog.pools.ships.frigate;
  }

  private pickShip(rng: Rng, classes: [ShipClass, number][]): number {
    const cls = classes[rng.weighted(classes.map((c) => c[1]))]![0];
    return rng.pick(this.shipPool(cls));
  }

  private pickSystem(rng: Rng, scenario: Scenario): number {
    const { high, low, null: nul } = this.systemsBySec;
    const w = scenario === "gank" ? [1, 0, 0] : scenario === "supercap" || scenario === "capital" ? [0, 0.3, 0.7] : [0.4, 0.25, 0.35];
    const list = [high, low, nul][rng.weighted(w)]!;
    return rng.pick(list.length ? list : this.catalog.systems.map((s) => s.id));
  }

  participants(i: number): Participants {
    const cached = this.participantsCache.get(i);
    if (cached) return cached;
    const p = this.makeParticipants(i);
    if (this.participantsCache.size > 5000) this.participantsCache.clear();
    this.participantsCache.set(i, p);
    return p;
  }

  private makeParticipants(i: number): Participants {
    const rng = new Rng(this.seed, i, 0xa11);
    const id = this.idOf(i);
    const timeMs = this.timeOf(i);
    const scenario = SCENARIOS[rng.weighted(SCENARIO_WEIGHTS)]!;
    const e = this.entities;

    // Pods often follow the ship kill just before them: same pilot, same system.
    let podOf: Participants | undefined;
    if (scenario === "pod" && i > 0 && rng.chance(0.5)) {
      const prev = this.makeParticipantsShallow(i - 1);
      if (prev.victim.character_id && prev.scenario !== "pod" && prev.scenario !== "npc") podOf = prev;
    }
    const systemId = podOf?.systemId ?? this.pickSystem(rng, scenario);

    // Victim.
    let victimShip: number;
    const victim: Participants["victim"] = { damage_taken: 0, ship_type_id: 0 };
    let victimCorp: number | undefined;
    let victimAlliance: number | undefined;
    if (scenario === "structure") {
      const pool = this.catalog.pools.structures;
      victimShip = rng.pick(pool.length ? pool : this.shipPool("battleship"));
      const owner = rng.pick(this.allianceIds.length ? this.allianceIds : [0]);
      const members = this.allianceMembers.get(owner);
      const corpId = members?.length ? e.characters.get(rng.pick(members))!.corporationId : rng.pick([...e.corporations.keys()]);
      victimCorp = corpId;
      victimAlliance = e.corporations.get(corpId)?.allianceId;
      Object.assign(victim, { ...(victimAlliance ? { alliance_id: victimAlliance } : {}), corporation_id: corpId });
    } else {
      const pilotId = podOf?.victim.character_id ?? rng.pick(e.pilots);
      const ch = e.characters.get(pilotId)!;
      const aff = affiliationAt(e, ch, timeMs);
      victimCorp = aff.corporationId;
      victimAlliance = aff.allianceId;
      victimShip = this.victimShip(rng, scenario);
      Object.assign(victim, {
        ...(aff.allianceId ? { alliance_id: aff.allianceId } : {}),
        character_id: pilotId,
        corporation_id: aff.corporationId,
        ...(aff.factionId ? { faction_id: aff.factionId } : {}),
      });
    }
    victim.ship_type_id = victimShip;
    const victimType = this.catalog.types.get(victimShip);
    victim.damage_taken = this.damageFor(rng, victimType);

    // Attackers.
    const n = this.attackerCount(rng, scenario, victimType);
    const attackers = this.makeAttackers(rng, scenario, n, victim.character_id, victimCorp, victimAlliance, timeMs, systemId, podOf);
    this.splitDamage(rng, attackers, victim.damage_taken);
    for (let k = 0; k < attackers.length; k++) attackers[k] = orderAttacker(attackers[k]!);
    const ordered: Record<string, unknown> = {};
    for (const k of ["alliance_id", "character_id", "corporation_id", "damage_taken", "faction_id", "ship_type_id"] as const) {
      if (victim[k] !== undefined) ordered[k] = victim[k];
    }
    return { index: i, id, timeMs, scenario, systemId, victim: ordered as unknown as Participants["victim"], attackers };
  }

  /** The victim and scenario of a kill without recursing into its own pod link. */
  private makeParticipantsShallow(i: number): Participants {
    const rng = new Rng(this.seed, i, 0xa11);
    const scenario = SCENARIOS[rng.weighted(SCENARIO_WEIGHTS)]!;
    if (scenario === "pod")
      return { index: i, id: 0, timeMs: 0, scenario, systemId: 0, victim: { damage_taken: 0, ship_type_id: 0 }, attackers: [] };
    return this.participants(i);
  }

  private victimShip(rng: Rng, scenario: Scenario): number {
    switch (scenario) {
      case "pod":
        return rng.chance(0.04) ? rng.pick(this.catalog.pools.goldenCapsule) : rng.pick(this.shipPool("capsule"));
      case "small":
        return this.pickShip(rng, [
          ["frigate", 45],
          ["destroyer", 20],
          ["cruiser", 35],
        ]);
      case "medium":
        return this.pickShip(rng, [
          ["battlecruiser", 35],
          ["battleship", 40],
          ["t3c", 15],
          ["cruiser", 10],
        ]);
      case "npc":
        return this.pickShip(rng, [
          ["frigate", 15],
          ["cruiser", 35],
          ["battlecruiser", 15],
          ["battleship", 30],
          ["t3c", 5],
        ]);
      case "hauler":
        return this.pickShip(rng, [
          ["industrial", 70],
          ["freighter", 25],
          ["capindustrial", 5],
        ]);
      case "mining":
        return this.pickShip(rng, [["barge", 100]]);
      case "capital":
        return this.pickShip(rng, [
          ["carrier", 35],
          ["dread", 30],
          ["fax", 20],
          ["capindustrial", 15],
        ]);
      case "supercap":
        return this.pickShip(rng, [
          ["super", 70],
          ["titan", 30],
        ]);
      case "gank":
        return this.pickShip(rng, [
          ["industrial", 40],
          ["freighter", 30],
          ["barge", 30],
        ]);
      default:
        return this.pickShip(rng, [
          ["frigate", 15],
          ["destroyer", 10],
          ["cruiser", 30],
          ["battlecruiser", 15],
          ["battleship", 20],
          ["t3c", 10],
        ]);
    }
  }

  private classOf(t: TypeInfo | undefined): ShipClass | "structure" {
    if (!t) return "frigate";
    return t.categoryId === 6 ? (SHIP_CLASS_BY_GROUP[t.groupId] ?? "frigate") : "structure";
  }

  private damageFor(rng: Rng, t: TypeInfo | undefined): number {
    const cls = this.classOf(t);
    const ranges: Record<string, [number, number]> = {
      capsule: [300, 3000],
      frigate: [1500, 9000],
      destroyer: [3000, 14000],
      cruiser: [6000, 60000],
      t3c: [40000, 150000],
      battlecruiser: [30000, 120000],
      battleship: [80000, 400000],
      industrial: [5000, 60000],
      barge: [10000, 60000],
      freighter: [200000, 1200000],
      capindustrial: [500000, 3000000],
      carrier: [1000000, 6000000],
      dread: [1500000, 7000000],
      fax: [1000000, 6000000],
      super: [15000000, 40000000],
      titan: [80000000, 200000000],
    };
    let [lo, hi] = ranges[cls] ?? [1000000, 10000000];
    if (cls === "structure" && t) {
      if (t.name === "Keepstar") [lo, hi] = [300000000, 600000000];
      else if (t.name === "Fortizar") [lo, hi] = [30000000, 80000000];
      else if (t.groupId === 1657 || t.groupId === 1404 || t.groupId === 1406) [lo, hi] = [5000000, 15000000];
      else [lo, hi] = [200000, 5000000];
    }
    return Math.round(lo * (hi / lo) ** rng.next());
  }

  private attackerCount(rng: Rng, scenario: Scenario, victim: TypeInfo | undefined): number {
    const small = () => Math.min(15, 1 + Math.floor(-Math.log(Math.max(rng.next(), 1e-9)) * 2.5));
    const logUniform = (lo: number, hi: number) => Math.round(lo * (hi / lo) ** rng.next());
    switch (scenario) {
      case "npc":
        return rng.int(1, 6);
      case "pod":
        return rng.chance(0.9) ? small() : logUniform(10, 120);
      case "gank":
        return rng.int(5, 30);
      case "blob":
        return logUniform(20, 400);
      case "structure":
        if (victim?.name === "Keepstar") return rng.chance(0.3) ? logUniform(1000, 3000) : logUniform(300, 1000);
        if (victim?.name === "Fortizar") return logUniform(50, 400);
        return logUniform(5, 80);
      case "capital":
        return logUniform(5, 150);
      case "supercap":
        if (victim?.groupId === 30 && rng.chance(0.3)) return logUniform(1000, 3500);
        return logUniform(50, 800);
      default: {
        const r = rng.next();
        return r < 0.88 ? small() : r < 0.985 ? logUniform(5, 40) : logUniform(40, 200);
      }
    }
  }

  private npcAttacker(rng: Rng, concord = false): EsiAttacker {
    const pool = this.catalog.pools.npcShips;
    if (concord) {
      const concordShip = this.catalog.types.has(3885) ? 3885 : rng.pick(pool);
      return { corporation_id: 1000125, damage_done: 0, final_blow: false, security_status: 0, ship_type_id: concordShip };
    }
    const [corp, faction] = rng.pick(NPC_CORPS);
    const a: EsiAttacker = rng.chance(0.6)
      ? { corporation_id: corp, damage_done: 0, final_blow: false, security_status: 0 }
      : { damage_done: 0, faction_id: faction, final_blow: false, security_status: 0 };
    if (pool.length) a.ship_type_id = rng.pick(pool);
    return a;
  }

  private makeAttackers(
    rng: Rng,
    scenario: Scenario,
    n: number,
    victimChar: number | undefined,
    victimCorp: number | undefined,
    victimAlliance: number | undefined,
    timeMs: number,
    systemId: number,
    podOf: Participants | undefined,
  ): EsiAttacker[] {
    const e = this.entities;
    const out: EsiAttacker[] = [];
    if (scenario === "npc" || (scenario === "mining" && rng.chance(0.4))) {
      for (let k = 0; k < n; k++) out.push(this.npcAttacker(rng));
      return out;
    }
    const used = new Set<number>();
    if (victimChar !== undefined) used.add(victimChar);
    // Pod kills that follow a ship kill reuse some of its attackers.
    if (podOf)
      for (const a of podOf.attackers)
        if (a.character_id && out.length < n) {
          used.add(a.character_id);
          const { damage_done: _d, final_blow: _f, ...rest } = a;
          out.push({ ...rest, damage_done: 0, final_blow: false, ship_type_id: a.ship_type_id ?? this.pickShip(rng, [["frigate", 1]]) });
        }
    const sides = this.allianceIds.filter((a) => a !== victimAlliance);
    const sideCount = n > 100 ? rng.int(2, 4) : n > 10 ? rng.int(1, 2) : 1;
    const chosen: number[] = [];
    for (let k = 0; k < sideCount && sides.length; k++) chosen.push(rng.pick(sides));
    const classes: [ShipClass, number][] =
      scenario === "capital" || scenario === "supercap"
        ? [
            ["battleship", 20],
            ["dread", 30],
            ["carrier", 15],
            ["super", 10],
            ["titan", 5],
            ["cruiser", 20],
          ]
        : scenario === "structure"
          ? [
              ["battleship", 30],
              ["dread", 25],
              ["cruiser", 25],
              ["battlecruiser", 20],
            ]
          : scenario === "gank"
            ? [
                ["destroyer", 60],
                ["battlecruiser", 40],
              ]
            : scenario === "small" || scenario === "pod"
              ? [
                  ["frigate", 40],
                  ["destroyer", 20],
                  ["cruiser", 40],
                ]
              : [
                  ["cruiser", 30],
                  ["battlecruiser", 25],
                  ["battleship", 25],
                  ["t3c", 10],
                  ["frigate", 10],
                ];
    const maxPlayers = Math.floor(e.pilots.length * 0.8);
    const awox = victimCorp !== undefined && victimCorp >= 98_000_000 && rng.chance(0.02);
    let guard = 0;
    while (out.length < n && used.size < maxPlayers && guard++ < n * 20) {
      let pilotId: number;
      if (awox && out.length === 0) {
        const corpMembers = e.corporations.get(victimCorp!)?.members ?? [];
        pilotId = corpMembers.length ? rng.pick(corpMembers) : rng.pick(e.pilots);
      } else if (chosen.length && rng.chance(0.75)) {
        pilotId = rng.pick(this.allianceMembers.get(rng.pick(chosen))!);
      } else pilotId = rng.pick(e.pilots);
      if (used.has(pilotId)) continue;
      used.add(pilotId);
      const ch = e.characters.get(pilotId)!;
      const aff = affiliationAt(e, ch, timeMs);
      const ship = this.pickShip(rng, classes);
      const shipType = this.catalog.types.get(ship);
      let weapon: number;
      if (shipType?.groupId === 30 && rng.chance(0.3)) weapon = ship;
      else if (rng.chance(0.12) && this.catalog.pools.drones.length) weapon = rng.pick(this.catalog.pools.drones);
      else if (rng.chance(0.05)) weapon = ship;
      else weapon = rng.pick(this.catalog.pools.weapons);
      out.push({
        ...(aff.allianceId ? { alliance_id: aff.allianceId } : {}),
        character_id: pilotId,
        corporation_id: aff.corporationId,
        damage_done: 0,
        ...(aff.factionId && FW.has(aff.factionId) ? { faction_id: aff.factionId } : {}),
        final_blow: false,
        security_status: r1(ch.securityStatus),
        ship_type_id: ship,
        weapon_type_id: weapon,
      });
    }
    if (out.length === 0) out.push(this.npcAttacker(rng));
    // Extras: CONCORD on high-sec ganks, sentry guns in low sec, a structure shooting back.
    const sec = r1(this.catalog.systemById.get(systemId)?.security ?? 0);
    if (scenario === "gank") for (let k = rng.int(1, 4); k > 0; k--) out.push(this.npcAttacker(rng, true));
    else if (sec > 0 && sec < 0.5 && rng.chance(0.1) && this.catalog.types.has(3743))
      out.push({ damage_done: 0, faction_id: 500002, final_blow: false, security_status: 0, ship_type_id: 3743 });
    else if (n > 3 && rng.chance(0.03) && this.catalog.pools.structures.length && chosen.length) {
      const members = this.allianceMembers.get(chosen[0]!)!;
      const corp = e.characters.get(members[0]!)!.corporationId;
      out.push({
        alliance_id: chosen[0]!,
        corporation_id: corp,
        damage_done: 0,
        final_blow: false,
        security_status: 0,
        ship_type_id: rng.pick(this.catalog.pools.structures),
      });
    }
    return out;
  }

  /** Shares the victim's damage among attackers (heavy-tailed), sorts by damage, marks one final blow. */
  private splitDamage(rng: Rng, attackers: EsiAttacker[], total: number): void {
    const weights = attackers.map((a) => (attackers.length > 5 && rng.chance(0.08) && a.character_id ? 0 : Math.exp(rng.normal() * 1.2)));
    const sum = weights.reduce((s, w) => s + w, 0) || 1;
    let given = 0;
    attackers.forEach((a, k) => {
      a.damage_done = Math.floor((total * weights[k]!) / sum);
      given += a.damage_done;
    });
    attackers.sort((a, b) => b.damage_done - a.damage_done);
    attackers[0]!.damage_done += total - given;
    const fb = rng.weighted(attackers.map((a) => a.damage_done + 1));
    attackers[fb]!.final_blow = true;
  }

  /** The full ESI killmail body for index i. */
  killmail(i: number): EsiKillmail {
    const p = this.participants(i);
    const rng = new Rng(this.seed, i, 0x17e);
    const items = this.makeItems(rng, p, i);
    const victim: EsiVictim = { damage_taken: 0, ship_type_id: 0 };
    const v = p.victim;
    // Alphabetical key order, as ESI sends it.
    if (v.alliance_id !== undefined) victim.alliance_id = v.alliance_id;
    if (v.character_id !== undefined) victim.character_id = v.character_id;
    if (v.corporation_id !== undefined) victim.corporation_id = v.corporation_id;
    victim.damage_taken = v.damage_taken;
    if (v.faction_id !== undefined) victim.faction_id = v.faction_id;
    victim.items = items; // ESI sends the list even when empty (every real mail in ../shared does)
    if (rng.chance(0.95)) {
      const coord = () => Math.round((rng.next() * 2 - 1) * 1e12 * 1000) / 1000 + rng.next() / 1000;
      victim.position = { x: coord(), y: coord() / 10, z: coord() };
    }
    victim.ship_type_id = v.ship_type_id;
    const km: EsiKillmail = {
      attackers: p.attackers,
      killmail_id: p.id,
      killmail_time: new Date(p.timeMs).toISOString().replace(/\.\d{3}Z$/, "Z"),
      solar_system_id: p.systemId,
      victim,
    };
    if (p.scenario === "structure" && rng.chance(0.3)) {
      const ordered: EsiKillmail = {
        attackers: km.attackers,
        killmail_id: km.killmail_id,
        killmail_time: km.killmail_time,
        moon_id: 40_000_000 + (p.systemId % 1_000_000) * 40 + rng.int(1, 39),
        solar_system_id: km.solar_system_id,
        victim,
      };
      return ordered;
    }
    if (p.scenario !== "structure" && rng.chance(0.03)) km.war_id = 700_000 + rng.int(0, 60_000);
    return km;
  }

  private item(flag: number, type: number, qty: number, dropped: boolean, singleton = 0, items?: EsiItem[]): EsiItem {
    const out = { flag, item_type_id: type } as EsiItem;
    if (items?.length) out.items = items;
    if (dropped) out.quantity_dropped = qty;
    else out.quantity_destroyed = qty;
    out.singleton = singleton;
    return out;
  }

  /**
   * A stack: one row, or split into a dropped and a destroyed row of the same type and flag. Stacks of
   * expensive items stay plausible: at most ~20B ISK of one type (nobody hauls 170,000 skill injectors).
   */
  private stack(rng: Rng, rows: EsiItem[], flag: number, type: number, wanted: number, singleton = 0): void {
    const price = this.catalog.types.get(type)?.price ?? 0;
    const qty = price > 0 ? Math.max(1, Math.min(wanted, Math.floor(2e10 / price))) : wanted;
    if (qty > 1 && rng.chance(0.3)) {
      const dropped = rng.int(1, qty - 1);
      rows.push(this.item(flag, type, qty - dropped, false, singleton));
      rows.push(this.item(flag, type, dropped, true, singleton));
    } else rows.push(this.item(flag, type, qty, rng.chance(0.5), singleton));
  }

  private fit(rng: Rng, rows: EsiItem[], cls: ShipClass, shipId: number, withCharges: boolean): void {
    const pools = this.catalog.pools;
    const layout: Record<string, [number, number, number, number]> = {
      frigate: [3, 3, 3, 3],
      destroyer: [6, 3, 3, 3],
      cruiser: [4, 4, 4, 3],
      t3c: [5, 5, 5, 3],
      battlecruiser: [7, 4, 5, 3],
      battleship: [8, 5, 6, 3],
      industrial: [1, 3, 3, 3],
      barge: [2, 3, 2, 3],
      freighter: [0, 0, 3, 3],
      capindustrial: [3, 5, 4, 3],
      carrier: [4, 5, 6, 3],
      dread: [3, 5, 6, 3],
      fax: [4, 6, 5, 3],
      super: [6, 5, 6, 3],
      titan: [6, 6, 6, 3],
    };
    const [hi, mid, lo, rigs] = layout[cls] ?? [3, 3, 3, 3];
    const filled = () => rng.chance(0.9);
    const weapon =
      cls === "barge"
        ? pools.miners.length
          ? rng.pick(pools.miners)
          : undefined
        : pools.weapons.length
          ? rng.pick(pools.weapons)
          : undefined;
    const charge = pools.charges.length ? rng.pick(pools.charges) : undefined;
    for (let k = 0; k < lo; k++) if (filled() && pools.low.length) rows.push(this.item(11 + k, rng.pick(pools.low), 1, rng.chance(0.5)));
    for (let k = 0; k < mid; k++) if (filled() && pools.mid.length) rows.push(this.item(19 + k, rng.pick(pools.mid), 1, rng.chance(0.5)));
    for (let k = 0; k < hi; k++) {
      if (!filled()) continue;
      const utility = k === hi - 1 && hi > 2 && rng.chance(0.4) && pools.utilityHigh.length;
      const siege = k === 0 && (cls === "dread" || cls === "fax") && pools.siege.length;
      const type = siege ? rng.pick(pools.siege) : utility ? rng.pick(pools.utilityHigh) : weapon;
      if (type === undefined) continue;
      rows.push(this.item(27 + k, type, 1, rng.chance(0.5)));
      if (withCharges && type === weapon && charge !== undefined && cls !== "barge" && rng.chance(0.7))
        rows.push(this.item(27 + k, charge, rng.int(20, 120), rng.chance(0.5)));
    }
    for (let k = 0; k < rigs; k++) if (filled() && pools.rigs.length) rows.push(this.item(92 + k, rng.pick(pools.rigs), 1, false));
    if (cls === "t3c") {
      const name = this.catalog.types.get(shipId)?.name ?? "";
      const subs = pools.subsystems.filter((s) => this.catalog.types.get(s)!.name.startsWith(`${name} `));
      const byGroup = new Map<number, number[]>();
      for (const s of subs) {
        const g = this.catalog.types.get(s)!.groupId;
        const group = byGroup.get(g);
        if (group) group.push(s);
        else byGroup.set(g, [s]);
      }
      const groups = [...byGroup.keys()].sort((a, b) => a - b);
      for (const [k, g] of groups.entries()) rows.push(this.item(125 + k, rng.pick(byGroup.get(g)!), 1, rng.chance(0.5)));
    }
  }

  private makeItems(rng: Rng, p: Participants, index: number): EsiItem[] {
    const pools = this.catalog.pools;
    const t = this.catalog.types.get(p.victim.ship_type_id);
    const cls = this.classOf(t);
    const rows: EsiItem[] = [];
    if (cls === "capsule") {
      if (p.victim.ship_type_id === 33328 && this.catalog.types.has(33329)) rows.push(this.item(89, 33329, 1, false));
      const others = pools.implants.filter((x) => x !== 33329);
      for (let k = rng.int(0, 5); k > 0 && others.length; k--) rows.push(this.item(89, rng.pick(others), 1, false));
      return rows;
    }
    if (cls === "structure") {
      for (let k = rng.int(0, 3); k > 0 && pools.goods.length; k--) this.stack(rng, rows, 5, rng.pick(pools.goods), rng.int(100, 50000));
      // Service modules and rigs (category 66: valued at build cost), drawn from a stream of their own so
      // the rest of the kill is as it was before structures had them.
      const fit = new Rng(this.seed, index, 0x66);
      const citadel = this.catalog.types.get(p.victim.ship_type_id)?.categoryId === 65;
      for (let k = citadel && pools.structureModules.length ? fit.int(0, 3) : 0; k > 0; k--) {
        const rig = fit.chance(0.3);
        rows.push(this.item(rig ? 92 + k : 164 + k, fit.pick(pools.structureModules), 1, fit.chance(0.5)));
      }
      return rows;
    }
    this.fit(rng, rows, cls, p.victim.ship_type_id, true);
    const capital = ["carrier", "dread", "fax", "super", "titan", "capindustrial"].includes(cls);
    // Drone bay / fighters.
    if (["cruiser", "battlecruiser", "battleship", "barge", "t3c"].includes(cls) && pools.drones.length && rng.chance(0.6)) {
      for (let k = rng.int(1, 3); k > 0; k--) this.stack(rng, rows, 87, rng.pick(pools.drones), rng.int(1, 5));
    }
    if ((cls === "carrier" || cls === "super") && pools.fighters.length) {
      const f = rng.pick(pools.fighters);
      this.stack(rng, rows, 158, f, rng.int(6, 30));
      for (let k = 0; k < 3; k++) rows.push(this.item(159 + k, f, rng.int(6, 12), rng.chance(0.3)));
    }
    // Cargo.
    const hauler = cls === "industrial" || cls === "freighter" || cls === "capindustrial";
    for (let k = rng.int(hauler ? 3 : 0, hauler ? 12 : 4); k > 0; k--) {
      const r = rng.next();
      if (r < 0.35 && pools.charges.length) this.stack(rng, rows, 5, rng.pick(pools.charges), rng.int(100, 5000));
      else if (r < 0.75 && pools.goods.length) this.stack(rng, rows, 5, rng.pick(pools.goods), rng.int(1, hauler ? 200000 : 2000));
      else if (r < 0.85 && pools.drones.length) this.stack(rng, rows, 5, rng.pick(pools.drones), rng.int(1, 10));
      else if (r < 0.93 && pools.mid.length) this.stack(rng, rows, 5, rng.pick(pools.mid.concat(pools.low)), rng.int(1, 4));
      else if (pools.skins.length) rows.push(this.item(5, rng.pick(pools.skins), 1, rng.chance(0.5)));
    }
    if (pools.blueprints.length && rng.chance(hauler ? 0.4 : 0.12)) {
      const copy = rng.chance(0.85);
      rows.push(this.item(5, rng.pick(pools.blueprints), copy ? rng.int(1, 10) : 1, rng.chance(0.5), copy ? 2 : 0));
    }
    // Containers with contents (nested rows, flag 0 inside).
    for (let k = rng.chance(hauler ? 0.8 : 0.15) ? rng.int(1, hauler ? 4 : 1) : 0; k > 0 && pools.containers.length; k--) {
      const inner: EsiItem[] = [];
      for (let m = rng.int(1, 6); m > 0; m--) {
        const r = rng.next();
        const type =
          r < 0.4 && pools.goods.length
            ? rng.pick(pools.goods)
            : r < 0.7 && pools.charges.length
              ? rng.pick(pools.charges)
              : r < 0.85 && pools.implants.length
                ? rng.pick(pools.implants)
                : rng.pick(pools.low.length ? pools.low : pools.goods);
        const qty =
          this.catalog.types.get(type)?.categoryId === 7 || this.catalog.types.get(type)?.categoryId === 20
            ? rng.int(1, 3)
            : rng.int(1, 5000);
        inner.push(this.item(0, type, qty, rng.chance(0.5)));
        if (rng.chance(0.05) && pools.blueprints.length) inner.push(this.item(0, rng.pick(pools.blueprints), 1, rng.chance(0.5), 2));
      }
      rows.push(this.item(hauler && cls === "capindustrial" ? 155 : 5, rng.pick(pools.containers), 1, rng.chance(0.5), 0, inner));
    }
    // Frigate escape bay: a frigate hull in battleships.
    if (cls === "battleship" && rng.chance(0.4)) rows.push(this.item(179, rng.pick(this.shipPool("frigate")), 1, rng.chance(0.5)));
    // Ships in the ship maintenance bay with their fittings nested inside.
    if (capital && rng.chance(0.35)) {
      for (let k = rng.int(1, 3); k > 0; k--) {
        const hull = this.pickShip(rng, [
          ["frigate", 40],
          ["cruiser", 40],
          ["battleship", 20],
        ]);
        const hullCls = this.classOf(this.catalog.types.get(hull));
        const inner: EsiItem[] = [];
        this.fit(rng, inner, hullCls === "structure" ? "frigate" : hullCls, hull, false);
        rows.push(this.item(90, hull, 1, rng.chance(0.5), 0, inner));
      }
    }
    return rows;
  }
}
