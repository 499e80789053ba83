// The 106 real killmails valued end to end: corpus reference data and day prices loaded as Forge
// history (test/support/corpus-prices.ts explains the mapping), type_prices refreshed for each kill day,
// the kills stored through the ingest path. Every kill must be valued within the invariants, priced
// wherever the corpus has a price, and — where every row has a price — to the cent of an independent
// implementation of zKillboard's rules (windowPrice below).
import { beforeAll, describe, expect, it } from "vitest";
import { loadCorpus } from "../../test/support/corpus.ts";
import { type CorpusPrices, loadCorpusPrices } from "../../test/support/corpus-prices.ts";
import { useTestDatabase } from "../../test/support/database.ts";
import { sql } from "../db/client.ts";
import type { EsiItem, EsiKillmail } from "../esi/killmail-schema.ts";
import { refreshTypePrices } from "../prices/refresh.ts";
import { storeKillmails } from "./store.ts";
import { FITTED_FLAGS, RULES } from "./values.ts";

useTestDatabase("values_corpus");
const corpus = loadCorpus();
/** Each kill again without its items (same ship, same time): its total is the ship's value. */
const SHIP_ONLY_BASE = 150_000_000;

interface Stored {
  id: number;
  total: string;
  destroyed: string;
  dropped: string;
  fitted: string;
  unpriced: number;
  revalue: boolean;
}

let data: CorpusPrices;
const stored = new Map<number, Stored>();
const shipValue = new Map<number, string>();

const dayOf = (esi: EsiKillmail) => esi.killmail_time.slice(0, 10);
const walk = (items: EsiItem[] | undefined, f: (item: EsiItem, depth: number) => void, depth = 0): void => {
  for (const item of items ?? []) {
    f(item, depth);
    walk(item.items, f, depth + 1);
  }
};

beforeAll(async () => {
  data = await loadCorpusPrices(sql());
  // Prices for each kill day, for the types on that day's kills.
  const typesByDay = new Map<string, Set<number>>();
  for (const { esi } of corpus) {
    const types = typesByDay.get(dayOf(esi)) ?? new Set<number>();
    types.add(esi.victim.ship_type_id);
    walk(esi.victim.items, (item) => types.add(item.item_type_id));
    typesByDay.set(dayOf(esi), types);
  }
  for (const [date, types] of typesByDay) {
    await refreshTypePrices({ typeIds: [...types], fromDate: date, toDate: date, markKills: false });
  }
  const shipOnly = corpus.map(({ esi, hash }, i) => ({
    esi: { ...esi, killmail_id: SHIP_ONLY_BASE + i, victim: { ...esi.victim, items: [] } },
    hash,
  }));
  await storeKillmails(
    sql(),
    corpus.map(({ esi, hash }) => ({ esi, hash })),
  );
  await storeKillmails(sql(), shipOnly);
  const rows = await sql()<Stored[]>`
    select killmail_id as id, total_value as total, destroyed_value as destroyed, dropped_value as dropped,
           fitted_value as fitted, unpriced_count as unpriced, revalue
    from killmail_values`;
  for (const row of rows) {
    if (row.id >= SHIP_ONLY_BASE) shipValue.set(corpus[row.id - SHIP_ONLY_BASE]!.esi.killmail_id, row.total);
    else stored.set(row.id, row);
  }
});

const cents = (isk: string) => Math.round(Number(isk) * 100);

const dayBefore = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);

/** zKillboard's window over the loaded Forge history (an independent implementation), in cents. */
function windowPrice(typeId: number, day: string, early: boolean): number | undefined {
  const history = data.history.get(typeId) ?? [];
  const anchor = early ? dayBefore(day) : day;
  const values = history
    .filter(([d]) => d <= anchor)
    .slice(-34)
    .map(([, a]) => Math.round(a * 100));
  values.sort((a, b) => a - b);
  const kept = values.length === 34 ? values.slice(2, 32) : values.length > 6 ? values.slice(0, -2) : values;
  const mean = kept.length ? Math.round(kept.reduce((a, b) => a + b, 0) / kept.length) : undefined;
  let price = mean === undefined ? undefined : Math.max(mean, 1);
  const own = history.find(([d]) => d === day)?.[1];
  if (own !== undefined && (price === undefined || Math.round(own * 100) < price)) price = Math.round(own * 100);
  return price;
}

/** What a row of this kill is worth by zKillboard's rules from the corpus data, in cents (undefined: no price). */
function corpusPrice(esi: EsiKillmail, typeId: number): number | undefined {
  const type = data.types[String(typeId)];
  const group = type ? data.groups[String(type.group_id)] : undefined;
  if (!type || !group) return undefined;
  if (group.category_id === RULES.skinCategory) return 1;
  const custom = data.custom_prices[String(typeId)];
  if (custom !== undefined) return Math.round(custom * 100);
  if (type.group_id === RULES.capsuleGroup) return 1_000_000;
  const time = esi.killmail_time.slice(11, 13);
  return windowPrice(typeId, dayOf(esi), time === "00");
}

function isAdjusted(esi: EsiKillmail, item: EsiItem, depth: number): boolean {
  const name = data.types[String(item.item_type_id)]?.name ?? "";
  return (
    item.singleton === RULES.copySingleton ||
    item.flag === RULES.escapeBayFlag ||
    (item.item_type_id === RULES.goldenPodType && item.flag === RULES.goldenPodFlag) ||
    (depth > 0 && esi.killmail_id < RULES.unmarkedCopiesBeforeId && name.includes("Blueprint"))
  );
}

describe("the real corpus", () => {
  it("values every kill", () => {
    expect(stored.size).toBe(corpus.length);
    expect(shipValue.size).toBe(corpus.length);
  });

  it("keeps the invariants: dropped + destroyed = total, fitted ≤ total, total ≥ the ship's value", () => {
    for (const { esi } of corpus) {
      const v = stored.get(esi.killmail_id)!;
      const id = `kill ${esi.killmail_id}`;
      expect(cents(v.dropped) + cents(v.destroyed), id).toBe(cents(v.total));
      expect(cents(v.fitted), id).toBeLessThanOrEqual(cents(v.total));
      expect(cents(v.total), id).toBeGreaterThanOrEqual(cents(shipValue.get(esi.killmail_id)!));
      expect(cents(v.dropped), id).toBeGreaterThanOrEqual(0);
    }
  });

  it("leaves no row unpriced where the corpus has a price for it", () => {
    let withoutPrice = 0;
    for (const { esi } of corpus) {
      const day = data.prices[dayOf(esi)] ?? {};
      const known = (typeId: number) =>
        day[String(typeId)] !== undefined || data.custom_prices[String(typeId)] !== undefined || corpusPrice(esi, typeId) !== undefined;
      let noPrice = known(esi.victim.ship_type_id) ? 0 : 1;
      walk(esi.victim.items, (item, depth) => {
        // An adjusted row is priced (0.01) except where the fitted value still needs its market price.
        const fittedRow = depth === 0 && FITTED_FLAGS.includes(item.flag);
        if (!known(item.item_type_id) && (!isAdjusted(esi, item, depth) || fittedRow)) noPrice++;
      });
      withoutPrice += noPrice;
      const v = stored.get(esi.killmail_id)!;
      expect(v.unpriced, `kill ${esi.killmail_id}`).toBeLessThanOrEqual(noPrice);
      expect(v.revalue, `kill ${esi.killmail_id}`).toBe(v.unpriced > 0);
    }
    // The corpus does name items nobody prices (abyssal modules, NPC structures): those stay flagged.
    expect(withoutPrice).toBeGreaterThan(0);
  });

  it("gives a type priced on one day only exactly that day's price, in the first hour too", async () => {
    const rows = await sql()<{ type_id: number; date: string; price: string; early: string; source: string }[]>`
      select type_id, date::text, price, price_early as early, source from type_prices`;
    let checked = 0;
    for (const row of rows) {
      const price = data.prices[row.date]?.[String(row.type_id)];
      const days = Object.keys(data.prices).filter((d) => data.prices[d]![String(row.type_id)] !== undefined);
      if (price === undefined || days.length !== 1 || row.source !== "history") continue;
      expect([cents(row.price), cents(row.early)], `type ${row.type_id} on ${row.date}`).toEqual([
        Math.round(price * 100),
        Math.round(price * 100),
      ]);
      checked++;
    }
    expect(checked).toBeGreaterThan(500);
  });

  it("matches an independent implementation of the rules to the cent wherever every row has a price", () => {
    let checked = 0;
    for (const { esi } of corpus) {
      const ship = corpusPrice(esi, esi.victim.ship_type_id);
      if (ship === undefined) continue;
      let destroyed = ship;
      let dropped = 0;
      let fitted = ship;
      let exact = true;
      const rootDropped: boolean[] = [];
      walk(esi.victim.items, (item, depth) => {
        const market = corpusPrice(esi, item.item_type_id);
        const price = isAdjusted(esi, item, depth) ? 1 : market;
        if (price === undefined) return void (exact = false);
        const qDropped = item.quantity_dropped ?? 0;
        const qDestroyed = item.quantity_destroyed ?? 0;
        if (depth === 0) {
          rootDropped[0] = qDropped > 0;
          destroyed += price * qDestroyed;
          dropped += price * qDropped;
          if (FITTED_FLAGS.includes(item.flag)) {
            if (market === undefined) return void (exact = false);
            fitted += market * (qDropped + qDestroyed);
          }
        } else if (rootDropped[0]) dropped += price * (qDropped + qDestroyed);
        else destroyed += price * (qDropped + qDestroyed);
      });
      if (!exact) continue;
      const v = stored.get(esi.killmail_id)!;
      expect([cents(v.destroyed), cents(v.dropped), cents(v.fitted), v.unpriced], `kill ${esi.killmail_id}`).toEqual([
        destroyed,
        dropped,
        fitted,
        0,
      ]);
      checked++;
    }
    expect(checked).toBeGreaterThan(80);
  });
});
