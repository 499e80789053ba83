// The Forge market of the simulated world: a deterministic daily price path per tradable type (around
// its anchor price, or around the real Jita day prices of the corpus), ESI-shaped market history with
// no-trade days left out, /markets/prices, and zKillboard's price-on-a-date rule used for zkb values.
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
  /** zKillboard-style hand-set prices for rare hulls. */
  custom: Map<number, number>;
}

const round2 = (x: number) => Math.round(x * 100) / 100;
export const dayOf = (ms: number) => Math.floor(ms / DAY_MS);
export const dayString = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);

export class Market {
  private readonly valuationCache = new Map<string, number>();
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

  /** zKillboard's build-cost fallback stand-in: a hand-set custom price, else the catalog anchor price. */
  buildCost(typeId: number): number {
    const custom = this.corpus.custom.get(typeId);
    if (custom !== undefined) return custom;
    const p = this.catalog.types.get(typeId)?.price ?? 0;
    return Math.max(p, 0.01);
  }

  /**
   * Price of one unit on a kill's date, zKillboard's way: skins 0.01, capsules 10,000, titans and
   * supercarriers build cost, hand-set prices; else the trimmed mean of up to 34 Forge daily averages on or
   * before (kill time − 1 h), capped by the kill day's own average; ≤ 0.01 falls back to build cost.
   */
  valuationPrice(typeId: number, killMs: number): number {
    const t = this.catalog.types.get(typeId);
    if (!t) return 0.01;
    if (t.categoryId === 91) return 0.01;
    if (t.groupId === 29) return 10_000;
    const custom = this.corpus.custom.get(typeId);
    if (custom !== undefined) return custom;
    if (t.groupId === 30 || t.groupId === 659) return this.buildCost(typeId);
    const endDay = dayOf(killMs - 3_600_000);
    const killDay = dayOf(killMs);
    const key = `${typeId}:${endDay}:${killDay}`;
    const cached = this.valuationCache.get(key);
    if (cached !== undefined) return cached;
    const values: number[] = [];
    for (let d = endDay - 33; d <= endDay; d++) {
      const v = this.dailyAverage(typeId, d);
      if (v !== undefined) values.push(v);
    }
    values.sort((a, b) => a - b);
    let used = values;
    if (values.length === 34) used = values.slice(2, 32);
    else if (values.length > 6) used = values.slice(0, values.length - 2);
    let price = used.length ? used.reduce((s, v) => s + v, 0) / used.length : 0;
    const today = this.dailyAverage(typeId, killDay);
    if (today !== undefined && used.length) price = Math.min(price, today);
    if (price <= 0.01) price = this.buildCost(typeId);
    price = round2(price);
    if (this.valuationCache.size > 200_000) this.valuationCache.clear();
    this.valuationCache.set(key, price);
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
