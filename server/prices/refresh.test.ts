// refreshTypePrices against the real Postgres: zKillboard's window rule on hand-set Forge history
// (trimming with 34, 7–33 and ≤ 6 values, the day-average cap, the first-hour window), gap days,
// custom prices, build-cost groups, the ESI-average fallback, and the diff: idempotent refreshes,
// changed-day ranges, removed rows and kills flagged for revaluation.
import { beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "../../test/support/database.ts";
import { sql } from "../db/client.ts";
import { GANTRY, materialQuantity, shippedBlueprints } from "./blueprints.ts";
import { type RefreshResult, refreshTypePrices } from "./refresh.ts";

useTestDatabase("prices");

const D = "2026-03-10";
const day = (offset: number) => {
  const d = new Date(`${D}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + offset);
  return d.toISOString().slice(0, 10);
};
const FROM = day(-3);
const TO = day(2);

/** Forge averages for a type: values[i] on day (endOffset - values.length + 1 + i). */
async function history(typeId: number, values: number[], endOffset = 0): Promise<void> {
  const dates = values.map((_, i) => day(endOffset - values.length + 1 + i));
  await sql()`
    insert into market_history (type_id, region_id, date, average, highest, lowest, volume, order_count)
    select ${typeId}, 10000002, d, a, a, a, 1, 1
    from unnest(${dates}::date[], ${values}::numeric[]) as u(d, a)`;
}

interface PriceRow {
  price: string;
  early: string;
  source: string;
}

async function price(typeId: number, date: string): Promise<PriceRow | undefined> {
  const [row] = await sql()<PriceRow[]>`
    select price, price_early as early, source from type_prices where type_id = ${typeId} and date = ${date}`;
  return row;
}

async function days(typeId: number): Promise<string[]> {
  const rows = await sql()<{ date: string }[]>`select date::text from type_prices where type_id = ${typeId} order by date`;
  return rows.map((r) => r.date);
}

const flat = (n: number, v: number) => Array.from({ length: n }, () => v);

const EREBUS = 671;
const LINK = 35_931;
const CLONE = 165;
const blueprints = shippedBlueprints();
const MATERIALS = [...new Set([EREBUS, LINK, CLONE].flatMap((t) => blueprints.get(t)!.materials.map(([m]) => m)))].sort((a, b) => a - b);
const materialPrice = (m: number) => 10 * (MATERIALS.indexOf(m) + 1);
/** Build cost by zKillboard's rule over the flat material prices. */
const buildCost = (t: number) => {
  const bp = blueprints.get(t)!;
  return bp.materials.reduce((s, [m, q]) => s + materialQuantity(q) * materialPrice(m), 0) / bp.units;
};

let first: RefreshResult;

beforeAll(async () => {
  await sql()`insert into categories (category_id, name) values (6, 'Ship'), (7, 'Module')`;
  await sql()`insert into groups (group_id, name, category_id) values (30, 'Titan', 6), (659, 'Supercarrier', 6), (55, 'Weapon', 7)`;
  await sql()`insert into types (type_id, name, group_id) values (13, 'Supercarrier', 659)`;

  // 34 values: 30 × 100, two 10,000 and two 1 spread over the window; the day itself 100.
  const v34 = flat(34, 100);
  v34[3] = 10_000;
  v34[20] = 10_000;
  v34[7] = 1;
  v34[30] = 1;
  await history(1, v34);
  // The same 34 behind two older extremes that fall out of the window.
  await history(2, [1_000_000, 1_000_000, ...v34]);
  // 10 values: drop the 2 highest only.
  await history(3, [50, 100, 10_000, 100, 100, 20_000, 100, 100, 100, 100]);
  // 7 values (the smallest count that trims): 10…50 stay, 1,000 and 2,000 go.
  await history(4, [10, 1_000, 20, 30, 2_000, 40, 50]);
  // 6 values: a plain average.
  await history(5, [100, 200, 300, 400, 500, 600]);
  // The day's own average caps the window on its day, not on the gap days after it.
  await history(6, [1_000, 1_000, 400]);
  // First hour: the window of the day before, capped by that day's own average (the anchor day).
  await history(7, [100, 200, 600]);
  await history(8, [100, 200, 120]);
  // A single history day: nothing before it, carried forward after it.
  await history(9, [300]);
  // Custom prices: over history for one day, and for a type without history.
  await history(10, [100, 100]);
  await sql()`insert into custom_prices (type_id, valid_from, valid_to, price) values
              (10, ${D}, ${D}, 5000), (11, ${day(-1)}, null, 70000000000), (11, ${day(1)}, null, 80000000000)`;
  // Build costs from the shipped blueprints: a titan (Erebus), a structure module, a type without a market
  // (Clone Grade Beta), the gantry from its parts; every material trades at a flat price (10 ISK × its rank).
  await sql()`insert into categories (category_id, name) values (66, 'Structure Module'), (46, 'Orbitals'), (17, 'Commodity')`;
  await sql()`insert into groups (group_id, name, category_id) values (1717, 'Structure Link', 66), (1025, 'Orbital Infrastructure', 46), (23, 'Clone', 17)`;
  await sql()`insert into types (type_id, name, group_id) values (${EREBUS}, 'Erebus', 30), (${LINK}, 'Structure Information Targeted Link', 1717),
              (${CLONE}, 'Clone Grade Beta', 23), (${GANTRY.typeId}, 'Customs Office', 1025)`;
  await history(EREBUS, [100, 100]);
  await history(LINK, [5, 5]);
  for (const material of MATERIALS) await history(material, flat(10, materialPrice(material)));
  await history(GANTRY.gantry, flat(10, 1_000_000));
  for (const [k, part] of GANTRY.parts.entries()) await history(part, flat(10, 10_000 * (k + 1)));
  // A supercarrier without a blueprint: the market rule, flagged as missing build data.
  await history(13, [100, 100]);
  // No market (≤ 0.01) and no blueprint: 0.01 (the ESI average is no build cost); no window: the ESI average.
  await history(14, [0.01]);
  await history(16, [0.01]);
  await sql()`insert into market_prices (type_id, average_price) values (${EREBUS}, 90000000000), (14, 500), (15, 250)`;

  first = await refreshTypePrices({ fromDate: FROM, toDate: TO });
});

describe("the window of Forge averages", () => {
  it("with 34 values drops the 2 highest and 2 lowest, and ignores older values", async () => {
    expect(await price(1, D)).toMatchObject({ price: "100.00", source: "history" });
    expect((await price(2, D))?.price).toBe("100.00");
  });

  it("with 7 to 33 values drops the 2 highest only", async () => {
    expect((await price(3, D))?.price).toBe("93.75"); // (50 + 7 × 100) / 8
    expect((await price(4, D))?.price).toBe("30.00");
  });

  it("with 6 values or fewer averages them all", async () => {
    expect((await price(5, D))?.price).toBe("350.00");
  });

  it("takes the anchor day's own average when lower, on that day only; gap days carry the window forward", async () => {
    expect(await price(6, D)).toMatchObject({ price: "400.00", early: "1000.00" }); // anchored on D - 1
    // The first hour of the next day is anchored on D: D's 400 caps it.
    expect(await price(6, day(1))).toMatchObject({ price: "800.00", early: "400.00" });
    expect(await price(6, day(2))).toMatchObject({ price: "800.00", early: "800.00" });
  });

  it("prices kills of the first hour with the window of the day before, capped by that day's own average", async () => {
    expect(await price(7, D)).toMatchObject({ price: "300.00", early: "150.00" });
    // The kill day's 120 caps price, not price_early: the anchor day D - 1 traded at 200 > 150.
    expect(await price(8, D)).toMatchObject({ price: "120.00", early: "150.00" });
    // The day after a lone history day: its first hour is capped by that day's 300.
    expect(await price(9, day(1))).toMatchObject({ price: "300.00", early: "300.00" });
  });

  it("writes nothing before a type's first history day without a fallback, and every day after it", async () => {
    expect(await days(9)).toEqual([D, day(1), day(2)]);
    expect(await price(9, D)).toMatchObject({ price: "300.00", early: "300.00" });
  });
});

describe("fixed prices and fallbacks", () => {
  it("uses a custom price on the days it is valid, the latest one when they overlap", async () => {
    expect(await price(10, D)).toMatchObject({ price: "5000.00", early: "5000.00", source: "custom" });
    expect(await price(10, day(1))).toMatchObject({ price: "100.00", source: "history" });
    expect(await days(11)).toEqual([day(-1), D, day(1), day(2)]);
    expect((await price(11, D))?.price).toBe("70000000000.00");
    expect((await price(11, day(2)))?.price).toBe("80000000000.00");
  });

  it("values titans at build cost from the blueprint's materials (the same for the first hour), not the ESI average", async () => {
    const cost = buildCost(EREBUS).toFixed(2);
    expect(Number(cost)).toBeGreaterThan(1_000_000);
    expect(await price(EREBUS, D)).toMatchObject({ price: cost, early: cost, source: "build" });
  });

  it("values a supercarrier without blueprint at market, flagged as missing build data", async () => {
    expect(await price(13, D)).toMatchObject({ price: "100.00", source: "build-missing" });
  });

  it("values structure modules at build cost, the gantry from its parts, and builds what has no market", async () => {
    expect(await price(LINK, D)).toMatchObject({ price: buildCost(LINK).toFixed(2), source: "build" });
    const gantry = 1_000_000 + 8 * (10_000 + 20_000 + 30_000 + 40_000);
    expect(await price(GANTRY.typeId, D)).toMatchObject({ price: gantry.toFixed(2), early: gantry.toFixed(2), source: "gantry" });
    expect(await price(CLONE, D)).toMatchObject({ price: buildCost(CLONE).toFixed(2), source: "build" });
    expect(await days(CLONE)).toEqual([FROM, day(-2), day(-1), D, day(1), day(2)]);
  });

  it("prices a window at 0.01 without blueprint at 0.01, and a type without window at the ESI average", async () => {
    expect(await price(14, D)).toMatchObject({ price: "0.01", source: "history" });
    expect(await price(14, day(1))).toMatchObject({ price: "0.01", source: "history" });
    expect(await price(15, D)).toMatchObject({ price: "250.00", source: "esi-average" });
    expect(await days(15)).toEqual([FROM, day(-2), day(-1), D, day(1), day(2)]);
    expect(await price(16, day(1))).toMatchObject({ price: "0.01", source: "history" });
  });
});

describe("refreshing again", () => {
  it("reported what it wrote", () => {
    expect(first).toMatchObject({ fromDate: FROM, toDate: TO, deleted: 0, changed: [{ fromDate: FROM, toDate: TO }] });
    expect(first.written).toBeGreaterThan(50);
  });

  it("changes nothing when nothing changed", async () => {
    expect(await refreshTypePrices({ fromDate: FROM, toDate: TO })).toMatchObject({ written: 0, deleted: 0, changed: [], marked: 0 });
  });

  it("rewrites only the days a new history row affects and flags the kills of those days", async () => {
    const kill = async (id: number, time: string) => {
      await sql()`insert into killmails (killmail_id, hash, killmail_time, solar_system_id, victim_ship_type_id,
                    victim_damage_taken, attacker_count, is_npc)
                  values (${id}, 'x', ${time}, 30000142, 587, 1, 1, false)`;
      await sql()`insert into killmail_values (killmail_id, total_value, destroyed_value, dropped_value, fitted_value,
                    unpriced_count, is_solo, is_awox)
                  values (${id}, 1, 1, 0, 1, 0, false, false)`;
    };
    await kill(1, `${day(-2)}T12:00:00Z`);
    await kill(2, `${day(1)}T00:10:00Z`);
    await kill(3, `${day(2)}T23:59:59Z`);
    await history(9, [900], 1); // type 9 trades again the day after D
    const result = await refreshTypePrices({ fromDate: FROM, toDate: TO });
    expect(result).toMatchObject({ written: 2, deleted: 0, changed: [{ fromDate: day(1), toDate: day(2) }], marked: 2 });
    expect(await price(9, day(1))).toMatchObject({ price: "600.00", early: "300.00" });
    const flagged = await sql()<{ id: number }[]>`select killmail_id as id from killmail_values where revalue order by 1`;
    expect(flagged.map((r) => r.id)).toEqual([2, 3]);
  });

  it("removes the rows of a type that lost its only price", async () => {
    await sql()`delete from custom_prices where type_id = 11`;
    const result = await refreshTypePrices({ typeIds: [11], fromDate: FROM, toDate: TO, markKills: false });
    expect(result).toMatchObject({ written: 0, deleted: 4, changed: [{ fromDate: day(-1), toDate: day(2) }], marked: 0 });
    expect(await days(11)).toEqual([]);
  });

  it("touches only the types asked for", async () => {
    await history(5, [10], 1);
    await history(6, [10], 1);
    const result = await refreshTypePrices({ typeIds: [5], fromDate: FROM, toDate: TO, markKills: false });
    expect(result.written).toBe(2);
    expect((await price(5, day(1)))?.price).toBe("10.00");
    expect((await price(6, day(1)))?.price).toBe("800.00");
  });
});

describe("long histories", () => {
  /** zKillboard's rule in TypeScript, in cents: an independent implementation to compare with. */
  function expected(history: [string, number][], date: string, early: boolean): number | undefined {
    const anchor = early ? new Date(Date.parse(`${date}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10) : date;
    const values = history
      .filter(([d]) => d <= anchor)
      .slice(-34)
      .map(([, a]) => Math.round(a * 100))
      .sort((a, b) => a - b);
    const kept = values.length === 34 ? values.slice(2, 32) : values.length > 6 ? values.slice(0, -2) : values;
    const mean = kept.length ? Math.round(kept.reduce((s, v) => s + v, 0) / kept.length) : undefined;
    let price = mean === undefined ? undefined : Math.max(mean, 1);
    const own = history.find(([d]) => d === anchor);
    if (own && (price === undefined || Math.round(own[1] * 100) < price)) price = Math.round(own[1] * 100);
    // A type's first trading day has no window for its first hour: the day's own price stands in.
    return price ?? (early ? expected(history, date, false) : undefined);
  }

  it("match an independent implementation of the window on every day", async () => {
    let seed = 12345;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const start = "2026-04-01";
    const dayOf = (i: number) => new Date(Date.parse(`${start}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10);
    const histories = new Map<number, [string, number][]>();
    // Types 500–504: dense with outliers, gappy, sparse (every 5th day), six days only, cheap (near 0.01).
    for (const [type, every, days, level] of [
      [500, 1, 90, 1000],
      [501, 1, 90, 50],
      [502, 5, 90, 300],
      [503, 1, 6, 70],
      [504, 1, 60, 0.02],
    ] as const) {
      const rows: [string, number][] = [];
      for (let i = 0; i < days; i += every) {
        if (every === 1 && type === 501 && random() < 0.3) continue;
        const spike = random();
        const factor = spike < 0.05 ? 20 : spike < 0.1 ? 0.05 : 0.8 + 0.4 * random();
        rows.push([dayOf(i), Math.max(0.01, Math.round(level * factor * 100) / 100)]);
      }
      histories.set(type, rows);
      await sql()`insert into market_history (type_id, region_id, date, average, highest, lowest, volume, order_count)
                  select ${type}, 10000002, d, a, a, a, 1, 1
                  from unnest(${rows.map(([d]) => d)}::date[], ${rows.map(([, a]) => a)}::numeric[]) as u(d, a)`;
    }
    const to = dayOf(95);
    await refreshTypePrices({ typeIds: [...histories.keys()], fromDate: start, toDate: to, markKills: false });
    const rows = await sql()<{ type_id: number; date: string; price: string; early: string }[]>`
      select type_id, date::text, price, price_early as early from type_prices
      where type_id between 500 and 504 order by type_id, date`;
    let compared = 0;
    for (const [type, history] of histories) {
      const stored = rows.filter((r) => r.type_id === type);
      expect(stored[0]?.date, `type ${type}`).toBe(history[0]![0]);
      expect(stored.at(-1)?.date, `type ${type}`).toBe(to);
      for (const row of stored) {
        const cents = (isk: string) => Math.round(Number(isk) * 100);
        expect([cents(row.price), cents(row.early)], `type ${type} on ${row.date}`).toEqual([
          expected(history, row.date, false),
          expected(history, row.date, true),
        ]);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(400);
  });
});
