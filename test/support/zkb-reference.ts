// An independent computation of zKillboard's values, written straight from ../shared/valuation.md for the
// parity tests: prices from the Forge history the database holds (market_history, as ESI gave it), the
// fixed-price list and the shipped blueprints; totals in plain TypeScript. It shares no code with
// server/prices or server/killmails/values.ts, nor with the simulator's zkb blocks.
import type { FixedPrice } from "../../server/prices/fixed-prices.ts";

export interface RefType {
  groupId: number;
  categoryId: number;
  name: string;
}

export interface RefData {
  /** type id → day number (days since 1970-01-01) → Forge average. */
  history: Map<number, Map<number, number>>;
  types: Map<number, RefType>;
  fixed: readonly FixedPrice[];
  /** product type id → { units, materials: [type id, SDE quantity][] }. */
  blueprints: Map<number, { units: number; materials: [number, number][] }>;
}

export interface RefItem {
  flag: number;
  item_type_id: number;
  singleton: number;
  quantity_dropped?: number;
  quantity_destroyed?: number;
  items?: RefItem[];
}

export interface RefKill {
  killmail_id: number;
  killmail_time: string;
  victim: { ship_type_id: number; items?: RefItem[] };
}

export interface RefValues {
  total: number;
  destroyed: number;
  dropped: number;
  fitted: number;
  droppable: number;
}

const DAY = 86_400_000;
const dayString = (day: number) => new Date(day * DAY).toISOString().slice(0, 10);

export class ZkbReference {
  private readonly memo = new Map<string, number>();
  constructor(private readonly data: RefData) {}

  /** "Price of one item type on the kill's date", steps 1–5 of valuation.md, for a kill at `ms`. */
  price(typeId: number, ms: number): number {
    const key = `${typeId}@${ms}`;
    const hit = this.memo.get(key);
    if (hit !== undefined) return hit;
    const p = this.compute(typeId, ms);
    this.memo.set(key, p);
    return p;
  }

  private compute(typeId: number, ms: number): number {
    const t = this.data.types.get(typeId);
    // 1. SKINs.
    if (t?.categoryId === 91) return 0.01;
    const killDay = Math.floor(ms / DAY);
    // 2. Fixed prices (by kill date), capsules, titans and supercarriers at build cost when > 1.
    const fixed = this.data.fixed
      .filter((f) => f.typeId === typeId && f.validFrom <= dayString(killDay) && (f.validTo === null || dayString(killDay) <= f.validTo))
      .sort((a, b) => b.validFrom.localeCompare(a.validFrom))[0];
    if (fixed) return Number(fixed.price);
    if (t?.groupId === 29) return 10_000;
    if (t?.groupId === 30 || t?.groupId === 659) {
      const b = this.build(typeId, killDay);
      if (b !== undefined && b > 1) return b;
    }
    // 3. Customs Office Gantry.
    if (typeId === 2233) {
      const p = (id: number) => this.price(id, ms);
      return p(3962) + 8 * (p(2867) + p(2871) + p(2876) + p(2872));
    }
    // 4. Structure modules.
    if (t?.categoryId === 66) {
      const b = this.build(typeId, killDay);
      if (b !== undefined && b > 0.01) return b;
    }
    // 5. The market window on the anchor day.
    const anchor = Math.floor((ms - 3_601_000) / DAY);
    const history = this.data.history.get(typeId) ?? new Map<number, number>();
    const days = [...history.keys()]
      .filter((d) => d <= anchor)
      .sort((a, b) => b - a)
      .slice(0, 34);
    // In whole cents: a float mean of cent prices can land a hair below a half cent and round the wrong way.
    const values = days.map((d) => Math.round(history.get(d)! * 100)).sort((a, b) => a - b);
    let kept = values;
    if (values.length === 34) kept = values.slice(2, 32);
    else if (values.length > 6) kept = values.slice(0, -2);
    let price = kept.length === 0 ? 0.01 : Math.round(kept.reduce((s, v) => s + v, 0) / kept.length) / 100;
    if (price <= 0.01) price = this.build(typeId, anchor) ?? 0.01;
    const own = history.get(anchor);
    if (own !== undefined && own > 0 && own < price) price = own;
    return price;
  }

  /** Build cost: Σ blueprint materials (max(1, ⌈0.9 q⌉)) × their price on the day / units per run. */
  private build(typeId: number, day: number): number | undefined {
    const bp = this.data.blueprints.get(typeId);
    if (!bp) return undefined;
    let sum = 0;
    for (const [m, q] of bp.materials) sum += Math.max(1, Math.ceil(0.9 * q)) * this.price(m, day * DAY);
    return sum / bp.units;
  }

  /** The totals of valuation.md for one kill, each rounded to the cent at the end. */
  values(k: RefKill): RefValues {
    const ms = Date.parse(k.killmail_time);
    const row = (it: RefItem, inCargo: boolean) => {
      const name = this.data.types.get(it.item_type_id)?.name ?? "";
      const copy = it.singleton === 2 || (k.killmail_id < 21_112_472 && inCargo && name.includes("Blueprint"));
      const golden = it.item_type_id === 33329 && it.flag === 89;
      const p = golden || it.flag === 179 || copy ? 0.01 : this.price(it.item_type_id, ms);
      return p * ((it.quantity_dropped ?? 0) + (it.quantity_destroyed ?? 0));
    };
    const deep = (items: RefItem[] | undefined): number => (items ?? []).reduce((s, it) => s + row(it, true) + deep(it.items), 0);
    const ship = this.price(k.victim.ship_type_id, ms);
    let destroyed = ship;
    let dropped = 0;
    let fitted = ship;
    for (const it of k.victim.items ?? []) {
      const whole = row(it, false) + deep(it.items);
      if ((it.quantity_destroyed ?? 0) > 0) destroyed += whole;
      if ((it.quantity_dropped ?? 0) > 0) dropped += whole;
      const f = it.flag;
      if ((f >= 11 && f <= 34) || (f >= 92 && f <= 98) || (f >= 125 && f <= 132) || (f >= 159 && f <= 163)) {
        fitted += this.price(it.item_type_id, ms) * ((it.quantity_dropped ?? 0) + (it.quantity_destroyed ?? 0));
      }
    }
    const excluded = (f: number) => f === 89 || (f >= 92 && f <= 98) || (f >= 125 && f <= 132);
    const droppableOf = (items: RefItem[] | undefined, inCargo: boolean): number =>
      (items ?? []).reduce((s, it) => (excluded(it.flag) ? s : s + row(it, inCargo) + droppableOf(it.items, true)), 0);
    const cents = (x: number) => Math.round(x * 100) / 100;
    return {
      destroyed: cents(destroyed),
      dropped: cents(dropped),
      total: cents(destroyed + dropped),
      fitted: cents(fitted),
      droppable: k.killmail_id < 21_112_472 ? 0 : cents(droppableOf(k.victim.items, false)),
    };
  }
}
