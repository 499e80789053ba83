// The Forge market of the simulated world: a deterministic daily price path per tradable type (around
// its anchor price, or around the real Jita day prices of the corpus), ESI-shaped market history with
// no-trade days left out, /markets/prices, and zKillboard's price-on-a-date rule used for zkb values
// (fixed prices and blueprints are the ones the project ships: server/prices/fixed-prices.ts, data/blueprints.json).
import { BUILD_COST_CATEGORY, BUILD_COST_GROUPS, GANTRY, materialQuantity, shippedBlueprints } from "../../server/prices/blueprints.ts";
import { type FixedPrice, ZKB_FIXED_PRICES } from "../../server/prices/fixed-prices.ts";
import type { Catalog, TypeInfo } from "./catalog.ts";
import { isTradable } from "./catalog.ts";
import { unit } from "./rng.ts";

export const DAY_MS = 86_400_000;
export const THE_FORGE = 10_000_002;

export interface HistoryRow {
  average: number;
  date: string;
  highest: number;
  lowest: number;
  order_count: number;
  volume: number;
}

export interface CorpusPrices {
  /** type id → [day number, price] sorted by day. */
  byType: Map<number, [number, number][]>;
  /** The corpus's own hand-set capital prices (its tests load them; zkb values use zKillboard's fixed list). */
  custom: Map<number, number>;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

const FIXED_BY_TYPE = new Map<number, FixedPrice[]>();
for (const f of ZKB_FIXED_PRICES) FIXED_BY_TYPE.set(f.typeId, [...(FIXED_BY_TYPE.get(f.typeId) ?? []), f]);
export const dayOf = (ms: number) => Math.floor(ms / DAY_MS);
export const dayString = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);

export class Market {
  private readonly valuationCache = new Map<string, number>();
  private readonly computing = new Set<string>();
  private pricesCache: { type_id: number; average_price: number; adjusted_price: number }[] | undefined;

  constructor(
    private readonly seed: number,
    private readonly catalog: Catalog,
    /** Day range of the world's history (inclusive), already widened to cover the look-back. */
    private readonly firstDay: number,
    private readonly lastDay: number,
    private readonly corpus: CorpusPrices = { byType: new Map(), custom: new Map() },
  ) {}

  type(id: number): TypeInfo | undefined {
    return this.catalog.types.get(id);
  }

  tradable(id: number): boolean {
    const t = this.catalog.types.get(id);
    if (!t) return false;
    return isTradable(t) || (this.corpus.byType.has(id) && t.categoryId !== 91);
  }

  /** The price the path moves around on a day: nearest corpus day price, else the catalog price. */
  anchor(typeId: number, day: number): number {
    const points = this.corpus.byType.get(typeId);
    if (points?.length) {
      let lo = 0;
      let hi = points.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (points[mid]![0] < day) lo = mid + 1;
        else hi = mid;
      }
      const after = points[lo]!;
      const before = points[Math.max(0, lo - 1)]!;
      return Math.abs(before[0] - day) <= Math.abs(after[0] - day) ? before[1] : after[1];
    }
    return this.catalog.types.get(typeId)?.price ?? 0;
  }

  private inCoverage(typeId: number, day: number): boolean {
    if (day >= this.firstDay && day <= this.lastDay) return true;
    const points = this.corpus.byType.get(typeId);
    if (!points) return false;
    return points.some(([d]) => day <= d && day >= d - 45);
  }

  private exactCorpus(typeId: number, day: number): number | undefined {
    const points = this.corpus.byType.get(typeId);
    if (!points) return undefined;
    for (const [d, p] of points) if (d === day) return p;
    return undefined;
  }

  /** Daily average in a region, or undefined when nothing traded that day (or outside the history). */
  dailyAverage(typeId: number, day: number, regionId = THE_FORGE): number | undefined {
    if (!this.tradable(typeId) || !this.inCoverage(typeId, day)) return undefined;
    const region = regionId === THE_FORGE ? 0 : regionId;
    const exact = region === 0 ? this.exactCorpus(typeId, day) : undefined;
    if (exact !== undefined) return exact;
    const base = this.anchor(typeId, day);
    if (base <= 0) return undefined;
    const gapP = base >= 5e9 ? 0.5 : base >= 5e8 ? 0.15 : 0.01;
    if (unit(this.seed, typeId, day, region, 2) < gapP * (region ? 3 : 1)) return undefined;
    const phase = unit(this.seed, typeId, 9) * 2 * Math.PI;
    const wave = Math.sin((2 * Math.PI * day) / 23 + phase);
    const noise = 2 * unit(this.seed, typeId, day, region, 1) - 1;
    return Math.max(0.01, round2(base * (1 + 0.03 * noise + 0.04 * wave) * (region ? 1.05 : 1)));
  }

  /** ESI /markets/{region}/history rows, oldest first; undefined when the type is not tradable. */
  history(typeId: number, regionId: number): HistoryRow[] | undefined {
    if (!this.tradable(typeId)) return undefined;
    const days = new Set<number>();
    for (let d = this.firstDay; d <= this.lastDay; d++) days.add(d);
    for (const [d] of this.corpus.byType.get(typeId) ?? []) for (let k = d - 45; k <= d; k++) days.add(k);
    const rows: HistoryRow[] = [];
    for (const day of [...days].sort((a, b) => a - b)) {
      const average = this.dailyAverage(typeId, day, regionId);
      if (average === undefined) continue;
      const u = unit(this.seed, typeId, day, 3);
      const volume = Math.max(1, Math.round((5e7 / Math.sqrt(Math.max(average, 1))) * (0.5 + u)));
      rows.push({
        average,
        date: dayString(day),
        highest: round2(average * (1 + 0.08 * u)),
        lowest: round2(average * (1 - 0.06 * unit(this.seed, typeId, day, 4))),
        order_count: Math.max(1, Math.round(Math.sqrt(volume) * (1 + u))),
        volume,
      });
    }
    return rows;
  }

  /** zKillboard's fixed price of a type on a kill day (server/prices/fixed-prices.ts, the list zKillboard hard-codes). */
  fixedPrice(typeId: number, day: number): number | undefined {
    const date = dayString(day);
    let best: { from: string; price: number } | undefined;
    for (const f of FIXED_BY_TYPE.get(typeId) ?? []) {
      if (f.validFrom <= date && (f.validTo === null || date <= f.validTo) && (!best || f.validFrom > best.from)) {
        best = { from: f.validFrom, price: Number(f.price) };
      }
    }
    return best?.price;
  }

  /**
   * zKillboard's Build::getItemPrice(type, "date X"): Σ max(1, ⌈0.9 q⌉) × each material's price for a kill at
   * X 00:00:00 (anchor day X - 1) / units per run; undefined without a blueprint.
   */
  buildCost(typeId: number, day: number): number | undefined {
    const bp = shippedBlueprints().get(typeId);
    if (!bp || bp.materials.length === 0) return undefined;
    let sum = 0;
    for (const [material, quantity] of bp.materials) sum += materialQuantity(quantity) * this.valuationPrice(material, day * DAY_MS);
    return sum / Math.max(1, bp.units);
  }

  /**
   * Price of one unit for a kill at killMs, zKillboard's way (Price::getItemPrice, docs/valuation.md): SKINs
   * 0.01; fixed prices; capsules 10,000; titans and supercarriers at build cost when > 1; the Customs Office
   * Gantry from its parts; structure modules at build cost when > 0.01; else the trimmed mean of the 34 most
   * recent Forge daily averages on or before the anchor day (the date of kill time - 3601 s), rounded to the
   * cent, at build cost (else 0.01) when ≤ 0.01, and capped by the anchor day's own average.
   */
  valuationPrice(typeId: number, killMs: number): number {
    const t = this.catalog.types.get(typeId);
    if (!t) return 0.01;
    if (t.categoryId === 91) return 0.01;
    const killDay = dayOf(killMs);
    const anchor = dayOf(killMs - 3_601_000);
    const key = `${typeId}:${anchor}:${killDay}`;
    const cached = this.valuationCache.get(key);
    if (cached !== undefined) return cached;
    // A blueprint cycle (a type built, in the end, from itself) would recurse for ever: the inner ask gets 0.01.
    if (this.computing.has(key)) return 0.01;
    this.computing.add(key);
    let price: number;
    try {
      price = this.computePrice(t, killMs, killDay, anchor);
    } finally {
      this.computing.delete(key);
    }
    if (this.valuationCache.size > 200_000) this.valuationCache.clear();
    this.valuationCache.set(key, price);
    return price;
  }

  private computePrice(t: TypeInfo, killMs: number, killDay: number, anchor: number): number {
    const fixed = this.fixedPrice(t.id, killDay);
    if (fixed !== undefined) return fixed;
    if (BUILD_COST_GROUPS.includes(t.groupId)) {
      const built = this.buildCost(t.id, killDay);
      if (built !== undefined && built > 1) return built;
    } else if (t.groupId === 29) return 10_000;
    if (t.id === GANTRY.typeId) {
      const part = (id: number) => this.valuationPrice(id, killMs);
      return part(GANTRY.gantry) + GANTRY.partsTimes * GANTRY.parts.reduce((s, id) => s + part(id), 0);
    }
    if (t.categoryId === BUILD_COST_CATEGORY) {
      const built = this.buildCost(t.id, killDay);
      if (built !== undefined && built > 0.01) return built;
    }
    // The 34 most recent daily averages on or before the anchor day, in cents.
    const cents: number[] = [];
    const lowest = Math.min(anchor, this.firstDay) - 120;
    for (let d = anchor; d >= lowest && cents.length < 34; d--) {
      const v = this.dailyAverage(t.id, d);
      if (v !== undefined) cents.push(Math.round(v * 100));
    }
    cents.sort((a, b) => a - b);
    let used = cents;
    if (cents.length === 34) used = cents.slice(2, 32);
    else if (cents.length > 6) used = cents.slice(0, cents.length - 2);
    let price = used.length ? Math.round(used.reduce((s, v) => s + v, 0) / used.length) / 100 : 0.01;
    if (price <= 0.01) price = this.buildCost(t.id, anchor) ?? 0.01;
    const own = this.dailyAverage(t.id, anchor);
    if (own !== undefined && own > 0 && own < price) price = own;
    return price;
  }

  /** ESI /markets/prices: every tradable type with an average (last world day) and adjusted price. */
  prices(): { type_id: number; average_price: number; adjusted_price: number }[] {
    if (this.pricesCache) return this.pricesCache;
    const out: { type_id: number; average_price: number; adjusted_price: number }[] = [];
    for (const id of [...this.catalog.types.keys()].sort((a, b) => a - b)) {
      if (!this.tradable(id)) continue;
      const average = round2(this.anchor(id, this.lastDay));
      if (average <= 0) continue;
      out.push({ type_id: id, average_price: average, adjusted_price: round2(average * (0.9 + 0.1 * unit(this.seed, id, 5))) });
    }
    this.pricesCache = out;
    return out;
  }
}
