// The zkb block zKillboard attaches to a killmail (R2Z2 envelopes, the zKillboard API): values computed
// with zKillboard's rules (valuation.md) from the simulated Forge market, plus npc/solo/awox, points and
// labels. Key order follows the real R2Z2 example.
import type { Catalog } from "./catalog.ts";
import type { Market } from "./market.ts";
import { hash32 } from "./rng.ts";

export interface Zkb {
  locationID: number;
  hash: string;
  fittedValue: number;
  droppedValue: number;
  destroyedValue: number;
  totalValue: number;
  totalDroppableValue?: number;
  points: number;
  npc: boolean;
  solo: boolean;
  awox: boolean;
  labels: string[];
  attackerCount: number;
  href: string;
}

interface Item {
  flag: number;
  item_type_id: number;
  singleton: number;
  quantity_dropped?: number;
  quantity_destroyed?: number;
  items?: Item[];
}
interface Party {
  character_id?: number;
  corporation_id?: number;
  alliance_id?: number;
}
export interface KillForZkb {
  killmail_id: number;
  killmail_time: string;
  solar_system_id: number;
  victim: Party & { ship_type_id: number; items?: Item[] };
  attackers: Party[];
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const isFitted = (flag: number) =>
  (flag >= 11 && flag <= 34) || (flag >= 92 && flag <= 98) || (flag >= 125 && flag <= 132) || (flag >= 159 && flag <= 163);
const isPlayer = (p: Party) => p.character_id !== undefined && p.character_id > 3_999_999;

/** Before this kill id mails did not mark copies (a nested "…Blueprint…" counts as one) and totalDroppableValue is 0. */
const UNMARKED_BEFORE = 21_112_472;
/** Flags totalDroppableValue leaves out: implants, rigs, subsystems. */
const notDroppable = (flag: number) => flag === 89 || (flag >= 92 && flag <= 98) || (flag >= 125 && flag <= 132);

export function computeZkb(km: KillForZkb, hash: string, catalog: Catalog, market: Market, seed: number): Zkb {
  const t = Date.parse(km.killmail_time);
  const price = (typeId: number) => market.valuationPrice(typeId, t);
  /** zKillboard's processItem: the Golden Pod implant, frigate escape bay hulls and BPCs count 0.01 a unit. */
  const rowValue = (it: Item, inCargo: boolean) => {
    const old = km.killmail_id < UNMARKED_BEFORE && inCargo && (catalog.types.get(it.item_type_id)?.name ?? "").includes("Blueprint");
    const p = (it.item_type_id === 33329 && it.flag === 89) || it.flag === 179 || it.singleton === 2 || old ? 0.01 : price(it.item_type_id);
    return p * ((it.quantity_dropped ?? 0) + (it.quantity_destroyed ?? 0));
  };
  /** processItems: each row and, for a container, every row inside it at any depth. */
  const withContents = (items: Item[] | undefined, inCargo: boolean): number =>
    (items ?? []).reduce((s, it) => s + rowValue(it, inCargo) + withContents(it.items, true), 0);
  const droppable = (items: Item[] | undefined, inCargo: boolean): number =>
    (items ?? []).reduce((s, it) => (notDroppable(it.flag) ? s : s + rowValue(it, inCargo) + droppable(it.items, true)), 0);

  const ship = price(km.victim.ship_type_id);
  let dropped = 0;
  let destroyed = ship;
  let fitted = ship;
  for (const it of km.victim.items ?? []) {
    // getDValue: a top-level row counts whole (with its contents) in each bucket it has a quantity in.
    if ((it.quantity_dropped ?? 0) > 0) dropped += withContents([it], false);
    if ((it.quantity_destroyed ?? 0) > 0) destroyed += withContents([it], false);
    if (isFitted(it.flag)) fitted += price(it.item_type_id) * ((it.quantity_dropped ?? 0) + (it.quantity_destroyed ?? 0));
  }
  const total = dropped + destroyed;
  const totalDroppable = km.killmail_id < UNMARKED_BEFORE ? 0 : droppable(km.victim.items, false);

  const players = km.attackers.filter(isPlayer);
  const npc = players.length === 0;
  const solo = players.length === 1;
  const v = km.victim;
  const awox =
    v.character_id !== undefined &&
    (v.corporation_id ?? 0) > 1_999_999 &&
    players.some((a) => a.corporation_id === v.corporation_id || (v.alliance_id !== undefined && a.alliance_id === v.alliance_id));

  const system = catalog.systemById.get(km.solar_system_id);
  const sec = Math.round((system?.security ?? 0) * 10) / 10;
  const loc =
    km.solar_system_id >= 31_000_000
      ? "w-space"
      : system?.regionId === 10_000_070
        ? "pochven"
        : sec >= 0.5
          ? "highsec"
          : sec > 0
            ? "lowsec"
            : "nullsec";
  const hour = new Date(t).getUTCHours();
  const tz = hour < 4 ? "tz:use" : hour < 8 ? "tz:usw" : hour < 12 ? "tz:au" : hour < 16 ? "tz:ru" : "tz:eu";
  const category = catalog.types.get(v.ship_type_id)?.categoryId ?? 6;
  const labels = [tz, `cat:${category}`];
  if (solo) labels.push("solo");
  labels.push(npc ? "npc" : "pvp");
  if (awox) labels.push("awox");
  labels.push(`loc:${loc}`);
  for (const [limit, label] of [
    [1e12, "isk:1t+"],
    [1e11, "isk:100b+"],
    [1e10, "isk:10b+"],
    [5e9, "isk:5b+"],
    [1e9, "isk:1b+"],
  ] as const) {
    if (total >= limit) {
      labels.push(label);
      break;
    }
  }
  if (loc === "highsec" && players.length >= 5 && km.attackers.some((a) => a.corporation_id === 1_000_125)) labels.push("ganked");

  const points = npc ? 1 : Math.max(1, Math.floor((1 + 2 * Math.log2(1 + total / 1e7)) / Math.sqrt(Math.max(1, players.length))));
  const zkb: Zkb = {
    locationID: 40_000_000 + ((km.solar_system_id % 100_000) * 37 + (hash32(km.killmail_id, seed) % 40)),
    hash,
    fittedValue: round2(fitted),
    droppedValue: round2(dropped),
    destroyedValue: round2(destroyed),
    totalValue: round2(total),
    points,
    npc,
    solo,
    awox,
    labels,
    attackerCount: km.attackers.length,
    href: `https://esi.evetech.net/killmails/${km.killmail_id}/${hash}/`,
  };
  // Newer zkb blocks carry totalDroppableValue; older ones (like the 2026-03 R2Z2 example) do not.
  if (hash32(km.killmail_id, 0xd) % 2 === 0) {
    const out: Zkb = { ...zkb };
    const ordered = {} as Record<string, unknown>;
    for (const [k, val] of Object.entries(out)) {
      ordered[k] = val;
      if (k === "totalValue") ordered.totalDroppableValue = round2(totalDroppable);
    }
    return ordered as unknown as Zkb;
  }
  return zkb;
}
