// What `verify:zkb` reports: our stored values against zKillboard's own (the zkb blocks kept at intake,
// killmail_zkb) — the share of kills equal to the cent on total, destroyed, dropped and fitted (and
// totalDroppableValue where zKillboard sent it), the largest differences each with the rule that explains
// it, and the kills whose build data is missing (a rule wanted a build cost and had no blueprint or
// material price). Read-only.
import type { Sql } from "postgres";
import { ZKB_FIXED_PRICES } from "../prices/fixed-prices.ts";

export interface ZkbFilter {
  /** Inclusive UTC days on killmail_time. */
  fromDate?: string;
  toDate?: string;
  /** Largest differences listed (default 10), and build-missing kills listed (the same). */
  limit?: number;
}

export interface ZkbDifference {
  killmailId: number;
  time: string;
  ours: { total: string; destroyed: string; dropped: string; fitted: string };
  zkb: { total: string; destroyed: string; dropped: string; fitted: string };
  /** The largest absolute difference of the four, ISK. */
  difference: string;
  /** What explains it (our deliberate differences, operator prices, missing data), or "unexplained". */
  rules: string[];
}

export interface ZkbReport {
  filter: { fromDate?: string; toDate?: string };
  /** Kills with a zKillboard zkb block (in the range). */
  withZkb: number;
  /** …of which valued by us (compared). */
  compared: number;
  /** Equal to the cent on all four values. */
  equal: number;
  /** equal / compared × 100, two decimals (100 when nothing compared). */
  equalPercent: number;
  differ: { total: number; destroyed: number; dropped: number; fitted: number };
  /** totalDroppableValue: kills whose block carried it, and how many differ. */
  droppable: { carried: number; differ: number };
  largest: ZkbDifference[];
  /** Kills in the range with a row whose price wanted a build cost it could not get. */
  buildMissing: { kills: number; killmailIds: number[] };
}

interface SummaryRow {
  with_zkb: number;
  compared: number;
  equal: number;
  d_total: number;
  d_destroyed: number;
  d_dropped: number;
  d_fitted: number;
  carried: number;
  d_droppable: number;
}

interface DiffRow {
  killmail_id: number;
  time: string;
  day: string;
  early: boolean;
  o_total: string;
  o_destroyed: string;
  o_dropped: string;
  o_fitted: string;
  z_total: string;
  z_destroyed: string;
  z_dropped: string;
  z_fitted: string;
  difference: string;
  unpriced: number;
  revalue: boolean;
}

interface PricedRow {
  type_id: number;
  name: string | null;
  source: string | null;
  price: string | null;
  both: boolean;
}

/** The kills of a range that have a zkb block, with both sets of values (a SQL fragment). */
function joined(db: Sql, f: ZkbFilter) {
  return db`
    select z.killmail_id, k.killmail_time, v.killmail_id is not null as valued,
           v.total_value as o_total, v.destroyed_value as o_destroyed, v.dropped_value as o_dropped,
           v.fitted_value as o_fitted, v.total_droppable_value as o_droppable, v.unpriced_count, v.revalue,
           z.total_value as z_total, z.destroyed_value as z_destroyed, z.dropped_value as z_dropped,
           z.fitted_value as z_fitted, z.total_droppable_value as z_droppable
    from killmail_zkb z
    join killmails k on k.killmail_id = z.killmail_id
    left join killmail_values v on v.killmail_id = z.killmail_id
    where (${f.fromDate ?? null}::date is null or k.killmail_time >= ${f.fromDate ?? null}::date::timestamp at time zone 'UTC')
      and (${f.toDate ?? null}::date is null or k.killmail_time < (${f.toDate ?? null}::date + 1)::timestamp at time zone 'UTC')`;
}

export async function verifyZkb(db: Sql, f: ZkbFilter = {}): Promise<ZkbReport> {
  // JIT compiles these one-off statements for seconds (each partition's plan) and saves nothing.
  return db.begin(async (tx) => {
    await tx`set local jit = off`;
    return report(tx as unknown as Sql, f);
  }) as Promise<ZkbReport>;
}

async function report(db: Sql, f: ZkbFilter): Promise<ZkbReport> {
  const limit = f.limit ?? 10;
  const [s] = await db<SummaryRow[]>`
    with j as (${joined(db, f)})
    select count(*)::int as with_zkb, count(*) filter (where valued)::int as compared,
           count(*) filter (where valued and (o_total, o_destroyed, o_dropped, o_fitted) = (z_total, z_destroyed, z_dropped, z_fitted))::int as equal,
           count(*) filter (where valued and o_total <> z_total)::int as d_total,
           count(*) filter (where valued and o_destroyed <> z_destroyed)::int as d_destroyed,
           count(*) filter (where valued and o_dropped <> z_dropped)::int as d_dropped,
           count(*) filter (where valued and o_fitted <> z_fitted)::int as d_fitted,
           count(*) filter (where valued and z_droppable is not null)::int as carried,
           count(*) filter (where valued and z_droppable is not null and o_droppable <> z_droppable)::int as d_droppable
    from j`;
  const diffs = await db<DiffRow[]>`
    with j as (${joined(db, f)})
    select killmail_id, to_char(killmail_time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as time,
           (killmail_time at time zone 'UTC')::date::text as day,
           ((killmail_time at time zone 'UTC') - interval '3601 seconds')::date < (killmail_time at time zone 'UTC')::date as early,
           o_total::text, o_destroyed::text, o_dropped::text, o_fitted::text,
           z_total::text, z_destroyed::text, z_dropped::text, z_fitted::text,
           greatest(abs(o_total - z_total), abs(o_destroyed - z_destroyed), abs(o_dropped - z_dropped),
                    abs(o_fitted - z_fitted))::text as difference,
           unpriced_count as unpriced, revalue
    from j
    where valued and (o_total, o_destroyed, o_dropped, o_fitted) <> (z_total, z_destroyed, z_dropped, z_fitted)
    order by greatest(abs(o_total - z_total), abs(o_destroyed - z_destroyed), abs(o_dropped - z_dropped),
                      abs(o_fitted - z_fitted)) desc, killmail_id
    limit ${limit}`;
  const largest: ZkbDifference[] = [];
  for (const d of diffs) {
    largest.push({
      killmailId: d.killmail_id,
      time: d.time,
      ours: { total: d.o_total, destroyed: d.o_destroyed, dropped: d.o_dropped, fitted: d.o_fitted },
      zkb: { total: d.z_total, destroyed: d.z_destroyed, dropped: d.z_dropped, fitted: d.z_fitted },
      difference: d.difference,
      rules: await explain(db, d),
    });
  }
  // The (type, day) prices that lacked build data are few: start from them, then the kills of their days.
  const missing = await db<{ killmail_id: number; n: number }[]>`
    with missing as (
      select type_id, date from type_prices
      where source = 'build-missing'
        and (${f.fromDate ?? null}::date is null or date >= ${f.fromDate ?? null}::date)
        and (${f.toDate ?? null}::date is null or date <= ${f.toDate ?? null}::date)
    ),
    kills as (
      select k.killmail_id, k.victim_ship_type_id, d.date as day
      from (select distinct date from missing) d
      join killmails k on k.killmail_time >= d.date::timestamp at time zone 'UTC'
                      and k.killmail_time < (d.date + 1)::timestamp at time zone 'UTC'
    ),
    hit as (
      select kills.killmail_id from kills join missing m on m.type_id = kills.victim_ship_type_id and m.date = kills.day
      union
      select kills.killmail_id from kills
      join items i on i.killmail_id = kills.killmail_id
      join missing m on m.type_id = i.item_type_id and m.date = kills.day
    )
    select killmail_id, (count(*) over ())::int as n from hit order by killmail_id limit ${limit}`;
  const compared = s?.compared ?? 0;
  return {
    filter: { fromDate: f.fromDate, toDate: f.toDate },
    withZkb: s?.with_zkb ?? 0,
    compared,
    equal: s?.equal ?? 0,
    equalPercent: compared === 0 ? 100 : Math.floor(((s?.equal ?? 0) * 10_000) / compared) / 100,
    differ: { total: s?.d_total ?? 0, destroyed: s?.d_destroyed ?? 0, dropped: s?.d_dropped ?? 0, fitted: s?.d_fitted ?? 0 },
    droppable: { carried: s?.carried ?? 0, differ: s?.d_droppable ?? 0 },
    largest,
    buildMissing: { kills: missing[0]?.n ?? 0, killmailIds: missing.map((m) => m.killmail_id) },
  };
}

/** zKillboard's hard-coded price of a type on a day, as our seeded list has it. */
function zkbFixedPrice(typeId: number, day: string): number | undefined {
  let best: { from: string; price: number } | undefined;
  for (const f of ZKB_FIXED_PRICES) {
    if (f.typeId !== typeId || f.validFrom > day || (f.validTo !== null && day > f.validTo)) continue;
    if (!best || f.validFrom > best.from) best = { from: f.validFrom, price: Number(f.price) };
  }
  return best?.price;
}

/** The rules that explain a kill's difference, from its rows' prices on its day. */
async function explain(db: Sql, d: DiffRow): Promise<string[]> {
  const rows = await db<PricedRow[]>`
    with r as (
      select k.victim_ship_type_id as type_id, false as both from killmails k where k.killmail_id = ${d.killmail_id}
      union all
      select i.item_type_id, coalesce(i.quantity_dropped, 0) > 0 and coalesce(i.quantity_destroyed, 0) > 0
      from items i where i.killmail_id = ${d.killmail_id}
    )
    select r.type_id, t.name, tp.source, (case when ${d.early} then tp.price_early else tp.price end)::text as price, bool_or(r.both) as both
    from r
    left join types t on t.type_id = r.type_id
    left join type_prices tp on tp.type_id = r.type_id and tp.date = ${d.day}::date
    group by r.type_id, t.name, tp.source, tp.price, tp.price_early`;
  const name = (r: PricedRow) => `${r.name ?? "type"} (${r.type_id})`;
  const rules: string[] = [];
  for (const r of rows) {
    if (r.source === "custom") {
      const theirs = zkbFixedPrice(r.type_id, d.day);
      if (theirs === undefined || theirs !== Number(r.price)) {
        rules.push(
          `custom price: ${name(r)} at ${r.price} ISK, zKillboard's list ${theirs === undefined ? "has none" : `says ${theirs.toFixed(2)}`} (bun cli prices:custom)`,
        );
      }
    }
    if (r.source === "build-missing") rules.push(`build data missing: ${name(r)} valued at market (no blueprint or material price)`);
    if (r.source === "esi-average") rules.push(`no Forge window: ${name(r)} at the ESI average (zKillboard: build cost or 0.01)`);
    if (r.both) rules.push(`${name(r)}: a row both dropped and destroyed (zKillboard counts it whole in both)`);
  }
  if (d.unpriced > 0) rules.push(`${d.unpriced} rows without a price yet (valued 0, flagged for revaluation)`);
  if (d.revalue) rules.push("prices changed since this kill was valued (bun cli backfill:values --mode=flagged)");
  if (rules.length === 0) rules.push("unexplained");
  return rules;
}
