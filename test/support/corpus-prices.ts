// Reference data for the real corpus (../shared/killmails/shrike-sde-prices.json) loaded into a test
// database: types, groups and categories, the corpus's day prices as Forge history, custom prices.
//
// The file holds ONE price per item and kill day (`prices[date][type_id]`: the Jita price on the day
// the kill happened), not a Forge series. It is written as the Forge average of the kill day and of
// the day before (the kill day's own price wins where a day is both), so a type priced on one day only
// gets exactly that price from zKillboard's window, for kills before and after 01:00 alike. Types
// priced on several days get the window over those days (capped by the day's own price), as a real
// history would. Custom prices are valid forever.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Sql } from "postgres";
import { z } from "zod";
import { pgArray } from "../../server/db/arrays.ts";
import { SHARED } from "./corpus.ts";

const pricesFile = z.object({
  types: z.record(
    z.string(),
    z.object({ name: z.string(), group_id: z.number().int(), market_group_id: z.number().int().nullable().optional() }),
  ),
  groups: z.record(z.string(), z.object({ name: z.string(), category_id: z.number().int() })),
  prices: z.record(z.string(), z.record(z.string(), z.number())),
  custom_prices: z.record(z.string(), z.number()),
});
const categoriesFile = z.array(z.object({ category_id: z.number().int(), name: z.string() }));

export type CorpusPrices = z.infer<typeof pricesFile> & {
  /** The Forge history written, per type: [date, average] sorted by date. */
  history: Map<number, [string, number][]>;
};

export function readCorpusPrices(): z.infer<typeof pricesFile> {
  return pricesFile.parse(JSON.parse(readFileSync(resolve(SHARED, "killmails/shrike-sde-prices.json"), "utf8")));
}

const dayBefore = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);

/** Loads the corpus reference data into the database behind `db`; returns the parsed file. */
export async function loadCorpusPrices(db: Sql): Promise<CorpusPrices> {
  const file = readCorpusPrices();
  const categoryNames = new Map(
    categoriesFile.parse(JSON.parse(readFileSync(resolve(SHARED, "sde/categories.json"), "utf8"))).map((c) => [c.category_id, c.name]),
  );
  const groups = Object.entries(file.groups).map(([id, g]) => ({ id: Number(id), ...g }));
  const categories = [...new Set(groups.map((g) => g.category_id))];
  await db`insert into categories (category_id, name)
           select * from unnest(${pgArray(categories)}::int4[], ${pgArray(categories.map((c) => categoryNames.get(c) ?? `category ${c}`))}::text[])
           on conflict do nothing`;
  await db`insert into groups (group_id, name, category_id)
           select * from unnest(${pgArray(groups.map((g) => g.id))}::int4[], ${pgArray(groups.map((g) => g.name))}::text[],
                                ${pgArray(groups.map((g) => g.category_id))}::int4[])
           on conflict do nothing`;
  const types = Object.entries(file.types);
  await db`insert into types (type_id, name, group_id)
           select * from unnest(${pgArray(types.map(([id]) => Number(id)))}::int4[], ${pgArray(types.map(([, t]) => t.name))}::text[],
                                ${pgArray(types.map(([, t]) => t.group_id))}::int4[])
           on conflict do nothing`;

  const history = new Map<string, number>(); // `${type}|${date}` → average; kill days first, then the days before
  for (const [date, byType] of Object.entries(file.prices)) {
    for (const [type, price] of Object.entries(byType)) history.set(`${type}|${date}`, price);
  }
  for (const [date, byType] of Object.entries(file.prices)) {
    for (const [type, price] of Object.entries(byType)) {
      const key = `${type}|${dayBefore(date)}`;
      if (!history.has(key)) history.set(key, price);
    }
  }
  const rows = [...history].map(([key, average]) => {
    const [type, date] = key.split("|");
    return { type: Number(type), date: date!, average };
  });
  await db`insert into market_history (type_id, region_id, date, average, highest, lowest, volume, order_count)
           select t, 10000002, d, a, a, a, 1, 1
           from unnest(${pgArray(rows.map((r) => r.type))}::int4[], ${pgArray(rows.map((r) => r.date))}::date[],
                       ${pgArray(rows.map((r) => r.average))}::numeric[]) as u(t, d, a)`;
  const custom = Object.entries(file.custom_prices);
  // The corpus brings its own fixed prices (what its values were computed with): they replace the seeded list's.
  await db`delete from custom_prices where type_id = any(${pgArray(custom.map(([id]) => Number(id)))}::int4[])`;
  await db`insert into custom_prices (type_id, valid_from, price, note)
           select t, '2003-01-01', p, 'corpus' from unnest(${pgArray(custom.map(([id]) => Number(id)))}::int4[],
                                                         ${pgArray(custom.map(([, p]) => p))}::numeric[]) as u(t, p)`;
  const byType = new Map<number, [string, number][]>();
  for (const r of [...rows].sort((a, b) => a.date.localeCompare(b.date))) {
    const list = byType.get(r.type) ?? [];
    list.push([r.date, r.average]);
    byType.set(r.type, list);
  }
  return { ...file, history: byType };
}
