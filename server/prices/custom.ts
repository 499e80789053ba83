// Custom prices, the operator's editable copy of zKillboard's fixed-price list (seeded by migration
// 0011 from server/prices/fixed-prices.ts): list, set and remove. A change reprices the type's days at
// once (type_prices) and flags the kills of the days whose price changed, so the flagged value backfill
// re-values them (`bun cli backfill:values --mode=flagged`).
import { sql as defaultSql } from "../db/client.ts";
import { type RefreshResult, refreshTypePrices } from "./refresh.ts";

export interface CustomPrice {
  typeId: number;
  name: string | null;
  validFrom: string;
  validTo: string | null;
  price: string;
  note: string | null;
}

/** Every custom price, or one type's, ordered by type and start. */
export async function listCustomPrices(typeId?: number): Promise<CustomPrice[]> {
  const rows = await defaultSql()<CustomPrice[]>`
    select c.type_id as "typeId", t.name, c.valid_from::text as "validFrom", c.valid_to::text as "validTo",
           c.price::text as price, c.note
    from custom_prices c left join types t on t.type_id = c.type_id
    where ${typeId ?? null}::int4 is null or c.type_id = ${typeId ?? null}::int4
    order by c.type_id, c.valid_from`;
  return [...rows];
}

export interface SetCustomPrice {
  typeId: number;
  price: string;
  /** First day (default: 2003-01-01, every kill). */
  validFrom?: string;
  /** Last day, inclusive (default: open-ended). */
  validTo?: string | null;
  note?: string | null;
}

export const EARLIEST_DAY = "2003-01-01";

/** Inserts or replaces the custom price of a type starting on validFrom; reprices and flags kills. */
export async function setCustomPrice(p: SetCustomPrice): Promise<RefreshResult> {
  return defaultSql().begin(async (tx) => {
    await tx`
      insert into custom_prices (type_id, valid_from, valid_to, price, note)
      values (${p.typeId}, ${p.validFrom ?? EARLIEST_DAY}, ${p.validTo ?? null}, ${p.price}, ${p.note ?? null})
      on conflict (type_id, valid_from) do update
        set valid_to = excluded.valid_to, price = excluded.price, note = excluded.note`;
    return refreshTypePrices({ typeIds: [p.typeId], fromDate: p.validFrom ?? EARLIEST_DAY }, tx);
  });
}

/** Removes a type's custom prices (all, or the one starting on validFrom); reprices and flags kills. */
export async function removeCustomPrice(typeId: number, validFrom?: string): Promise<{ removed: number; refresh: RefreshResult }> {
  return defaultSql().begin(async (tx) => {
    const gone = await tx<{ from: string }[]>`
      delete from custom_prices
      where type_id = ${typeId} and (${validFrom ?? null}::date is null or valid_from = ${validFrom ?? null}::date)
      returning valid_from::text as from`;
    const from = gone.map((g) => g.from).sort()[0];
    const refresh = await refreshTypePrices({ typeIds: [typeId], fromDate: from ?? EARLIEST_DAY }, tx);
    return { removed: gone.length, refresh };
  });
}
