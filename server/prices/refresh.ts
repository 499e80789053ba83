// Materializes type_prices: the price of every type on every day by zKillboard's rule
// (docs/valuation.md), one row per type and day over the requested range, so valuing a kill is a join.
// Set-based: one statement computes the Forge windows (server/prices/window.ts), spreads each history
// row over the days until the next one, folds in custom prices and the ESI average and diffs against
// the stored rows; only the differences are written, and the kills of changed days are flagged for
// revaluation (server/prices/revalue.ts). Refreshes are serialized by an advisory lock.
import type { Sql, TransactionSql } from "postgres";
import { pgArray } from "../db/arrays.ts";
import { sql as defaultSql } from "../db/client.ts";
import { BUILD_COST_CATEGORY, BUILD_COST_GROUPS, ensureBlueprints, GANTRY, MATERIAL_QUANTITY_SQL } from "./blueprints.ts";
import { type DateRange, markRevalue } from "./revalue.ts";
import { PRICE_WINDOW_SQL } from "./window.ts";

/** The Forge: zKillboard prices every item from this region's daily market history. */
export const PRICE_REGION = 10_000_002;

export interface RefreshOptions {
  /** Types to refresh (default: every type with Forge history, a custom price, an ESI average or stored prices). */
  typeIds?: number[];
  /** First day to write (YYYY-MM-DD; default: the earliest Forge history day). */
  fromDate?: string;
  /** Last day to write (default: tomorrow UTC, so kills of today find a row before today's history exists). */
  toDate?: string;
  /** Flag the stored kills of changed days for revaluation (default true). */
  markKills?: boolean;
}

export interface RefreshResult {
  fromDate: string;
  toDate: string;
  /** Rows inserted or updated. */
  written: number;
  /** Rows removed (no price any more). */
  deleted: number;
  /** Days whose prices changed, as inclusive ranges. */
  changed: DateRange[];
  /** Kills flagged for revaluation. */
  marked: number;
}

const LOCK_KEY = 7_140_100_021; // pg_advisory_xact_lock key for type_prices refreshes

/**
 * The select list (price, price_early, source) of a price_base row `b`, given its build costs on D and on
 * D - 1 (SQL expressions, "null" when unknown) and the gantry's sum of parts for price and price_early:
 *   custom price, else titans/supercarriers at build cost when > 1, else the gantry from its parts, else
 *   structure modules at build cost when > 0.01, else the market rule (see writePrices), rounded to the cent.
 */
function finalPrices(buildD: string, buildBefore: string, gantry: string, gantryEarly: string): string {
  const market = (w: string, a: string, build: string) => {
    const v = `(case when ${w} > 0.01 then ${w} when ${w} is null and b.esi > 0 then b.esi
                     when ${build} is not null then ${build} when ${w} is not null then 0.01 end)`;
    return {
      price: `(case when ${a} is not null and (${v} is null or ${a} < ${v}) then ${a} else ${v} end)`,
      source: `(case when ${a} is not null and (${v} is null or ${a} < ${v}) then 'history' when ${w} > 0.01 then 'history'
                     when ${w} is null and b.esi > 0 then 'esi-average' when ${build} is not null then 'build'
                     else 'history' end)`,
    };
  };
  const late = market("b.w_price", "b.day_avg", buildD);
  const early = market("b.w_early", "b.day_avg_early", buildBefore);
  const rule = (marketPrice: string, gantryPrice: string) => `round(case
      when b.custom is not null then b.custom
      when b.rule = 'capital' and ${buildD} > 1 then ${buildD}
      when b.rule = 'gantry' and ${gantryPrice} is not null then ${gantryPrice}
      when b.rule = 'module' and ${buildD} > 0.01 then ${buildD}
      else ${marketPrice} end, 2)`;
  return `${rule(late.price, gantry)} as price, ${rule(early.price, gantryEarly)} as price_early,
    case when b.custom is not null then 'custom'
         when b.rule = 'capital' and ${buildD} > 1 then 'build'
         when b.rule = 'gantry' and ${gantry} is not null then 'gantry'
         when b.rule = 'module' and ${buildD} > 0.01 then 'build'
         -- The rule wanted a build cost and has no blueprint (or a material has no price): listed by verify:zkb.
         when b.rule in ('capital', 'module') and ${buildD} is null then 'build-missing'
         else ${late.source} end as source`;
}

/**
 * Build costs of the rows that may need one, from their materials' price_early (this refresh's, else the
 * stored one): B(t, X) = Σ max(1, ⌈0.9 q⌉) × price_early(material, X) / units per run — zKillboard's
 * Build::getItemPrice prices the materials at the date "X", i.e. on anchor day X - 1. Rows are rewritten
 * only where they change.
 */
async function applyBuildCosts(tx: TransactionSql): Promise<void> {
  const partSum = (column: string) =>
    `(select sum(case when x.part = ${GANTRY.gantry} then 1 else ${GANTRY.partsTimes} end
                 * coalesce((select f.${column} from price_fresh f where f.type_id = x.part and f.date = p.date),
                            (select t.${column} from type_prices t where t.type_id = x.part and t.date = p.date)))
      from unnest(array[${[GANTRY.gantry, ...GANTRY.parts].join(", ")}]) x(part))`;
  await tx`
    with pending as (
      select * from price_base b where b.custom is null and (b.has_bp or b.rule = 'gantry')
    ),
    need_days as (
      select type_id, date as x from pending where has_bp
      union
      select type_id, date - 1 from pending where has_bp
    ),
    build as (
      select n.type_id, n.x,
             case when count(mp.pe) = count(*)
                  then sum(${tx.unsafe(MATERIAL_QUANTITY_SQL("m.quantity"))} * mp.pe) / max(m.product_quantity) end as cost
      from need_days n
      join blueprint_materials m on m.product_type_id = n.type_id
      cross join lateral (
        select coalesce((select coalesce(f.price_early, f.price) from price_fresh f where f.type_id = m.material_type_id and f.date = n.x),
                        (select t.price_early from type_prices t where t.type_id = m.material_type_id and t.date = n.x)) as pe) mp
      group by n.type_id, n.x
    ),
    computed as (
      select b.type_id, b.date,
             ${tx.unsafe(finalPrices("bd.cost", "bm.cost", partSum("price"), partSum("price_early")).replaceAll("p.date", "b.date"))}
      from pending b
      left join build bd on bd.type_id = b.type_id and bd.x = b.date
      left join build bm on bm.type_id = b.type_id and bm.x = b.date - 1
    )
    update price_fresh f set price = c.price, price_early = c.price_early, source = c.source
    from computed c
    where f.type_id = c.type_id and f.date = c.date
      and (f.price, f.price_early, f.source) is distinct from (c.price, c.price_early, c.source)`;
}

/** Recomputes type_prices for the types and days asked (see RefreshOptions); returns what changed. */
export async function refreshTypePrices(opts: RefreshOptions = {}, db: Sql | TransactionSql = defaultSql()): Promise<RefreshResult> {
  // Inside the caller's transaction when given one (its sql has savepoint), else in a transaction of its own.
  return "savepoint" in db ? refreshIn(db, opts) : db.begin((tx) => refreshIn(tx, opts));
}

async function refreshIn(tx: TransactionSql, opts: RefreshOptions): Promise<RefreshResult> {
  await tx`select pg_advisory_xact_lock(${LOCK_KEY})`;
  // Millions of rows are sorted and hashed; the default 4MB would spill to disk.
  await tx`set local work_mem = '512MB'`;
  await tx`set local jit = off`;
  await ensureBlueprints(tx);
  const { fromDate, toDate } = await bounds(tx, opts);
  if (fromDate > toDate) return { fromDate, toDate, written: 0, deleted: 0, changed: [], marked: 0 };
  const typeIds = opts.typeIds ? await withDependents(tx, opts.typeIds) : undefined;
  const result = await writePrices(tx, typeIds, fromDate, toDate);
  const marked = opts.markKills === false || result.changed.length === 0 ? 0 : await markRevalue(tx, result.changed);
  return { fromDate, toDate, ...result, marked };
}

/** The types asked for, plus what is priced from them: products built from them (two levels), the gantry. */
async function withDependents(tx: TransactionSql, typeIds: number[]): Promise<number[]> {
  const rows = await tx<{ type_id: number }[]>`
    with recursive products(type_id, depth) as (
      select unnest(${pgArray(typeIds)}::int4[]), 0
      union
      select b.product_type_id, p.depth + 1 from blueprint_materials b join products p on b.material_type_id = p.type_id
      where p.depth < 2
    )
    select distinct type_id from products
    union
    select ${GANTRY.typeId} where ${pgArray([GANTRY.gantry, ...GANTRY.parts])}::int4[] && ${pgArray(typeIds)}::int4[]`;
  return rows.map((r) => r.type_id);
}

async function bounds(tx: TransactionSql, opts: RefreshOptions): Promise<{ fromDate: string; toDate: string }> {
  const ids = opts.typeIds ? pgArray(opts.typeIds) : null;
  const [row] = await tx<{ from_date: string; to_date: string }[]>`
    select coalesce(${opts.fromDate ?? null}::date,
                    (select min(date) from market_history
                     where region_id = ${PRICE_REGION} and (${ids}::int4[] is null or type_id = any(${ids}::int4[]))),
                    (now() at time zone 'UTC')::date)::text as from_date,
           coalesce(${opts.toDate ?? null}::date, (now() at time zone 'UTC')::date + 1)::text as to_date`;
  return { fromDate: row!.from_date, toDate: row!.to_date };
}

/**
 * The statements. Per type and day D (kill day), with W(A) the trimmed window ending on day A, a(A) the
 * day's own Forge average, e the ESI average, c a custom price valid on D and B(X) the build cost from
 * the materials' prices of date X (server/prices/blueprints.ts; finalPrices, applyBuildCosts):
 *   price(D) = c, else B(D) for titans/supercarriers when > 1, else the gantry from its parts, else B(D)
 *   for structure modules (category 66) when > 0.01, else cap(fallback(W(D), B(D)), a(D));
 *   price_early(D) the same with W(D-1), B(D-1) and a(D-1): a first-hour kill's anchor day is D - 1 (the
 *   date of kill time - 3601 s, so 01:00:00 still belongs to D - 1); B(D) for capitals and modules;
 *   fallback(m, b) = m when m > 0.01, else e when there is no window at all, else b, else 0.01 when m exists;
 *   cap(v, a) = the lower of v and a, a when v is unknown, v when the anchor day has no history.
 */
async function writePrices(
  tx: TransactionSql,
  typeIds: number[] | undefined,
  from: string,
  to: string,
): Promise<{ written: number; deleted: number; changed: DateRange[] }> {
  const ids = typeIds ? pgArray([...new Set(typeIds)].sort((a, b) => a - b)) : null;
  const region = PRICE_REGION;
  // Types with history / stored prices: the given ones, or every one (loose index scans over the primary keys).
  const historyTypes = ids ? tx`select unnest(${ids}::int4[]) as type_id` : tx`select type_id from history_types where type_id is not null`;
  const storedTypes = ids ? tx`select unnest(${ids}::int4[]) as type_id` : tx`select type_id from stored_types where type_id is not null`;
  const onlyGiven = (column: string) => (ids ? tx`and ${tx.unsafe(column)} = any(${ids}::int4[])` : tx``);

  // The inputs of every (type, day): window, anchor-day averages, custom price, ESI average, rule.
  await tx`
    create temp table price_base on commit drop as
    with recursive
    history_types(type_id) as (
      (select type_id from market_history where region_id = ${region} order by type_id limit 1)
      union all
      select (select m.type_id from market_history m where m.type_id > h.type_id and m.region_id = ${region}
              order by m.type_id limit 1)
      from history_types h where h.type_id is not null
    ),
    -- Where each type's window history starts: the 34 rows before the first day suffice.
    window_start as (
      select h.type_id,
             coalesce((select min(x.date) from (
                         select m.date from market_history m
                         where m.type_id = h.type_id and m.region_id = ${region} and m.date < ${from}::date and m.average > 0
                         order by m.date desc limit 34) x), ${from}::date) as first_date
      from (${historyTypes}) h
    ),
    price_history as (
      select s.type_id, m.date, (m.average * 100)::int8 as c
      from window_start s
      join lateral (select m.date, m.average from market_history m
                    where m.type_id = s.type_id and m.region_id = ${region} and m.average > 0
                      and m.date between s.first_date and ${to}::date) m on true
    ),
    anchors as (${tx.unsafe(PRICE_WINDOW_SQL)}),
    fallback_types as (
      select type_id from custom_prices
      where valid_from <= ${to}::date and coalesce(valid_to, ${to}::date) >= ${from}::date ${onlyGiven("type_id")}
      union
      select type_id from market_prices where average_price > 0 ${onlyGiven("type_id")}
      union
      -- Types kills name that zKillboard can build (no market needed) or compute (the gantry).
      select t.type_id from types t
      where (exists (select 1 from blueprint_materials b where b.product_type_id = t.type_id) or t.type_id = ${GANTRY.typeId})
            ${onlyGiven("t.type_id")}
    ),
    days as (
      -- Each history row prices its own day (window capped by the day's average) and the days up to
      -- the next history row (the same window, no day average).
      select a.type_id, a.date + i as date, a.wc / 100 as w_price,
             case when i = 0 then a.wc_prev else a.wc end / 100 as w_early,
             case when i = 0 then a.c end / 100.0 as day_avg,
             -- The anchor day of a first-hour kill is D - 1: its own average caps price_early.
             case when i = 1 then a.c when i = 0 and a.prev_date = a.date - 1 then a.c_prev end / 100.0 as day_avg_early
      from anchors a
      cross join lateral generate_series(greatest(0, ${from}::date - a.date),
                                         least(coalesce(a.next_date - 1, ${to}::date), ${to}::date) - a.date) i
      where a.date <= ${to}::date and coalesce(a.next_date - 1, ${to}::date) >= ${from}::date
      union all
      -- Days before a type's first history: only a custom price, the ESI average or a build cost price them.
      select f.type_id, ${from}::date + i, null, null, null, null
      from fallback_types f
      cross join lateral (select min(m.date) as first_date from market_history m
                          where m.type_id = f.type_id and m.region_id = ${region} and m.average > 0
                            and m.date <= ${to}::date) fh
      cross join lateral generate_series(0, least(${to}::date, coalesce(fh.first_date - 1, ${to}::date)) - ${from}::date) i
    ),
    custom_days as (
      select distinct on (cp.type_id, d.date) cp.type_id, d.date, cp.price
      from custom_prices cp
      cross join lateral (
        select ${from}::date + i as date
        from generate_series(greatest(cp.valid_from, ${from}::date) - ${from}::date,
                             least(coalesce(cp.valid_to, ${to}::date), ${to}::date) - ${from}::date) i) d
      where true ${onlyGiven("cp.type_id")}
      order by cp.type_id, d.date, cp.valid_from desc
    )
    select d.type_id, d.date, d.w_price, d.w_early, d.day_avg, d.day_avg_early, cd.price as custom,
           mp.average_price as esi,
           case when g.group_id = any(${pgArray(BUILD_COST_GROUPS)}::int4[]) then 'capital'
                when d.type_id = ${GANTRY.typeId} then 'gantry'
                when g.category_id = ${BUILD_COST_CATEGORY} then 'module' end as rule,
           exists (select 1 from blueprint_materials b where b.product_type_id = d.type_id) as has_bp
    from days d
    left join custom_days cd on cd.type_id = d.type_id and cd.date = d.date
    left join market_prices mp on mp.type_id = d.type_id and mp.average_price > 0
    left join types t on t.type_id = d.type_id
    left join groups g on g.group_id = t.group_id`;
  await tx`alter table price_base add primary key (type_id, date)`;
  await tx`analyze price_base`;

  // Final prices without build costs first, then build costs from the materials' prices (fresh ones,
  // else stored), twice: a material can itself be built (a structure module made from another).
  await tx`
    create temp table price_fresh on commit drop as
    select type_id, date, ${tx.unsafe(finalPrices("null", "null", "null", "null"))}
    from price_base b`;
  await tx`alter table price_fresh add primary key (type_id, date)`;
  for (let round = 0; round < 2; round++) await applyBuildCosts(tx);

  // The differences go to a temporary table first: the writes below then get plans from its real size.
  await tx`
    create temp table price_diff on commit drop as
    with recursive
    stored_types(type_id) as (
      (select type_id from type_prices order by type_id limit 1)
      union all
      select (select p.type_id from type_prices p where p.type_id > s.type_id order by p.type_id limit 1)
      from stored_types s where s.type_id is not null
    ),
    fresh as (
      select type_id, date, round(price, 2) as price, round(coalesce(price_early, price), 2) as price_early, source
      from price_fresh where price is not null
    ),
    stored as (
      select p.type_id, p.date, p.price, p.price_early, p.source
      from (${storedTypes}) s
      join lateral (select * from type_prices x
                    where x.type_id = s.type_id and x.date between ${from}::date and ${to}::date) p on true
    ),
    diff as (
      select coalesce(f.type_id, s.type_id) as type_id, coalesce(f.date, s.date) as date,
             f.price, f.price_early, f.source, f.type_id is null as gone
      from fresh f
      full join stored s on s.type_id = f.type_id and s.date = f.date
      where f.type_id is null or s.type_id is null
         or (f.price, f.price_early, f.source) is distinct from (s.price, s.price_early, s.source)
    )
    select * from diff`;
  await tx`analyze price_diff`;
  const written = await tx`
    insert into type_prices (type_id, date, price, price_early, source)
    select type_id, date, price, price_early, source from price_diff where not gone
    on conflict (type_id, date) do update
      set price = excluded.price, price_early = excluded.price_early, source = excluded.source`;
  const deleted = await tx`
    delete from type_prices p using price_diff d
    where d.gone and p.type_id = d.type_id and p.date = d.date`;
  const changed = await tx<DateRange[]>`
    select min(date)::text as "fromDate", max(date)::text as "toDate"
    from (select date, date - (row_number() over (order by date))::int as island
          from (select distinct date from price_diff) d) c
    group by island
    order by 1`;
  await tx`drop table price_diff`;
  await tx`drop table price_fresh`;
  await tx`drop table price_base`;
  return { written: written.count, deleted: deleted.count, changed: [...changed] };
}
