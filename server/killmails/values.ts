// Killmail values by zKillboard's rules (docs/valuation.md), computed set-based in SQL. The rules live
// in ONE place, valueTotals(): CTEs that turn three input relations (the kills, their item rows and
// their attackers) into one row of totals and labels per kill. Both callers read those relations from
// the stored tables: valueStoredKills (the kills a store transaction just wrote, in that transaction;
// server/killmails/store.ts) and valueRange (backfills over id ranges). Prices come from type_prices,
// one row per type and day (server/prices/refresh.ts). Unknown prices or types count as 0 and flag the
// kill `revalue` so a later run completes it.

import type { PendingQuery, Row, Sql, TransactionSql } from "postgres";
import { pgArray } from "../db/arrays.ts";
import { columnList, type FieldOf } from "../db/columns.ts";
import { attackers, items, killmails, killmailValues } from "../db/schema.ts";
import { NPC_CHARACTER_MAX, NPC_CORPORATION_MAX } from "../eve/ids.ts";
import { ITEM_COLUMNS } from "./flatten.ts";
import type { ValueMode } from "./value-modes.ts";

type AnySql = Sql | TransactionSql;
type Fragment = PendingQuery<Row[]>;

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Flag ranges whose top-level items count toward the fitted value: slots, rigs, subsystems, fighter tubes. */
const FITTED_FLAG_RANGES: readonly [number, number][] = [
  [11, 34], // low, mid, high slots
  [92, 98], // rigs
  [125, 132], // subsystems
  [159, 163], // fighter tubes
];
export const FITTED_FLAGS = FITTED_FLAG_RANGES.flatMap(([from, to]) => range(from, to));

export const RULES = {
  /** SKINs (category 91) are valued at 0.01. */
  skinCategory: 91,
  /** Capsules (group 29) are valued at 10,000 (unless an operator set a custom price). */
  capsuleGroup: 29,
  capsulePrice: "10000",
  /** The token price: blueprint copies, frigate escape bay, Golden Pod, SKINs. */
  token: "0.01",
  /** Blueprint copies (singleton 2), ships in the frigate escape bay (flag 179), the Golden Pod (33329 at flag 89). */
  copySingleton: 2,
  escapeBayFlag: 179,
  goldenPodType: 33329,
  goldenPodFlag: 89,
  /** Implants (flag 89), with rigs and subsystems, do not count toward totalDroppableValue. */
  implantFlag: 89,
  /** Before this kill id, mails did not mark copies: a nested item named "…Blueprint…" is taken as a copy. */
  unmarkedCopiesBeforeId: 21_112_472,
  /** Solo never applies to these victim groups (capsule, shuttle, rookie ship); awox: capsule, rookie ship. */
  notSoloGroups: [29, 31, 237],
  notAwoxGroups: [29, 237],
  /** Only ships (category 6) can be solo'ed; a structure (category 65) among the attackers makes it not solo. */
  shipCategory: 6,
  structureCategory: 65,
  /** Player characters and corporations start above these ids (zKillboard). */
  npcCharacterMax: NPC_CHARACTER_MAX,
  npcCorporationMax: NPC_CORPORATION_MAX,
} as const;

/**
 * CTEs ending in `totals` (one row per kill: killmail_id, destroyed, dropped, fitted, droppable, unpriced,
 * prices_as_of, is_solo, is_awox) over three relations the caller defines before them, each with the
 * columns VALUE_INPUTS lists (SELECT_INPUT selects them from the stored tables, for the caller to filter):
 *
 * - `value_kills`: the kills to value;
 * - `value_items`: their item rows;
 * - `value_attackers`: their attackers.
 *
 * Everything becomes one stream of rows aggregated once per kill (no joins on estimated sizes, each
 * distinct type and day priced once): kind 0 = the ship (carrying the victim's fields), 1 = a top-level
 * item, 2 = an item inside a container (its whole quantity goes to the bucket of the top-level row
 * holding it), 3 = an attacker (for solo).
 */
export function valueTotals(sql: AnySql): Fragment {
  const r = RULES;
  const token = sql.unsafe(`${r.token}::numeric`);
  // Range tests, not `= any(array)`: a scan of 44 flags per row adds up over thousands of rows.
  const fittedFlag = sql.unsafe(FITTED_FLAG_RANGES.map(([from, to]) => `b.flag between ${from} and ${to}`).join(" or "));
  return sql`
    value_kill_days as (
      select k.*, (k.killmail_time at time zone 'UTC')::date as d,
             -- zKillboard's anchor day is the date of (kill time - 3601 s): a kill at 01:00:00 is still early.
             ((k.killmail_time at time zone 'UTC') - interval '3601 seconds')::date < (k.killmail_time at time zone 'UTC')::date as early
      from value_kills k
    ),
    value_rows as (
      select k.killmail_id, k.d, k.early, k.victim_ship_type_id as type_id, 0 as kind, 0::int2 as flag,
             0::int2 as singleton, 0::int8 as q_dropped, 1::int8 as q_destroyed, false as in_dropped,
             null::int4 as character_id, k.victim_character_id, k.victim_corporation_id, k.final_blow_corporation_id
      from value_kill_days k
      union all
      select k.killmail_id, k.d, k.early, i.item_type_id, case when i.parent_index is null then 1 else 2 end,
             i.flag, i.singleton, coalesce(i.quantity_dropped, 0), coalesce(i.quantity_destroyed, 0),
             coalesce(i.container_dropped, false), null, null, null, null
      from value_items i join value_kill_days k on k.killmail_id = i.killmail_id
    ),
    value_crew_rows as (
      select k.killmail_id, k.d, k.early, a.ship_type_id as type_id, 3 as kind, 0::int2 as flag, 0::int2 as singleton,
             0::int8 as q_dropped, 0::int8 as q_destroyed, false as in_dropped, a.character_id,
             null::int4 as victim_character_id, null::int4 as victim_corporation_id, null::int4 as final_blow_corporation_id
      from value_attackers a join value_kill_days k on k.killmail_id = a.killmail_id
    ),
    -- The prices these rows need, looked up once per (type, day) by primary key: a batch names few
    -- distinct pairs, and type_prices holds a row per type and day of history.
    value_needs as (select distinct type_id, d from value_rows),
    value_prices as (
      select n.type_id, p.date, p.price, p.price_early, p.source
      from value_needs n
      cross join lateral (select tp.date, tp.price, tp.price_early, tp.source from type_prices tp
                          where tp.type_id = n.type_id and tp.date = n.d limit 1) p
    ),
    value_parts as (
      -- Per row: base = the type's price on the kill's day (zKillboard's Price::getItemPrice), null
      -- when unknown; adj = what an item row counts in the totals (the 0.01 adjustments never apply
      -- to the ship); then its share of each total. OFFSET 0 keeps the prices computed once per row.
      select killmail_id, kind, group_id, category_id, character_id, victim_character_id, victim_corporation_id,
             final_blow_corporation_id, price_date,
             case when kind = 1 then coalesce(adj, 0) * q_destroyed
                  when kind = 0 or (kind = 2 and not in_dropped) then coalesce(adj, 0) * (q_dropped + q_destroyed)
                  else 0 end as destroyed,
             case when kind = 1 then coalesce(adj, 0) * q_dropped
                  when kind = 2 and in_dropped then coalesce(adj, 0) * (q_dropped + q_destroyed)
                  else 0 end as dropped,
             case when kind = 0 or fitted_row then coalesce(base, 0) * (q_dropped + q_destroyed) else 0 end as fitted,
             -- What totalDroppableValue leaves out of the item rows (null for the rest: nothing to add up).
             case when kind in (1, 2) and not_droppable then coalesce(adj, 0) * (q_dropped + q_destroyed) end as not_droppable,
             kind < 3 and (adj is null or (fitted_row and base is null)) as unpriced
      from (
        select b.*,
               case when b.kind in (0, 3) then b.base
                    when b.singleton = ${r.copySingleton}
                      or b.flag = ${r.escapeBayFlag}
                      or (b.type_id = ${r.goldenPodType} and b.flag = ${r.goldenPodFlag})
                      or (b.kind = 2 and b.killmail_id < ${r.unmarkedCopiesBeforeId} and strpos(b.name, 'Blueprint') > 0)
                    then ${token}
                    else b.base end as adj,
               b.kind = 1 and (${fittedFlag}) as fitted_row,
               -- totalDroppableValue leaves out implants, rigs and subsystems.
               b.flag = ${r.implantFlag} or b.flag between 92 and 98 or b.flag between 125 and 132 as not_droppable
        from (
          select v.*, t.name, g.group_id, g.category_id, tp.date as price_date,
                 case when t.deleted then ${token}
                      when g.group_id is null then null
                      when g.category_id = ${r.skinCategory} then ${token}
                      when tp.source = 'custom' then tp.price
                      when g.group_id = ${r.capsuleGroup} then ${r.capsulePrice}::numeric
                      -- Not a market type, or ESI's Forge history answered 404: zKillboard's 0.01.
                      when tp.date is null and (t.market_group_id is null or pf.market = false) then ${token}
                      when v.early then tp.price_early
                      else tp.price end as base
          from (select * from value_rows union all select * from value_crew_rows) v
          left join types t on t.type_id = v.type_id
          left join groups g on g.group_id = t.group_id
          left join price_fetches pf on pf.type_id = v.type_id and v.kind < 3
          left join value_prices tp on tp.type_id = v.type_id and tp.date = v.d and v.kind < 3
          offset 0
        ) b
        offset 0
      ) a
    ),
    value_sums as (
      select killmail_id,
             round(sum(destroyed), 2) as destroyed,
             round(sum(dropped), 2) as dropped,
             round(sum(fitted), 2) as fitted,
             -- totalDroppableValue: every item row (destroyed + dropped, less the ship) but those left out; 0 on old mails.
             case when killmail_id < ${r.unmarkedCopiesBeforeId} then 0
                  else round(sum(destroyed) + sum(dropped) - coalesce(sum(destroyed) filter (where kind = 0), 0)
                             - coalesce(sum(not_droppable), 0), 2) end as droppable,
             (count(*) filter (where unpriced))::int as unpriced,
             max(price_date) as prices_as_of,
             min(group_id) filter (where kind = 0) as ship_group,
             min(category_id) filter (where kind = 0) as ship_category,
             min(victim_character_id) filter (where kind = 0) as victim_character_id,
             min(victim_corporation_id) filter (where kind = 0) as victim_corporation_id,
             min(final_blow_corporation_id) filter (where kind = 0) as final_blow_corporation_id,
             count(*) filter (where kind = 3 and character_id > ${r.npcCharacterMax}) as players,
             coalesce(bool_or(kind = 3 and category_id = ${r.structureCategory}), false) as structure
      from value_parts
      group by killmail_id
    ),
    totals as (
      select killmail_id, destroyed, dropped, fitted, droppable, unpriced, prices_as_of,
             coalesce(ship_category = ${r.shipCategory}
               and ship_group <> all(${pgArray(r.notSoloGroups)}::int4[])
               and players = 1 and not structure
               -- zKillboard's NPC rule for the victim side: no character, in an NPC corporation.
               and not (victim_character_id is null
                        and coalesce(victim_corporation_id between 2 and ${r.npcCorporationMax}, false)), false) as is_solo,
             coalesce(ship_group <> all(${pgArray(r.notAwoxGroups)}::int4[])
               and victim_corporation_id > ${r.npcCorporationMax}
               and final_blow_corporation_id = victim_corporation_id, false) as is_awox
      from value_sums
    )`;
}

/** The columns of the relations valueTotals reads (`value_kills`, `value_items`, `value_attackers`). */
export const VALUE_INPUTS = {
  kills: columnList(killmails, [
    "killmailId",
    "killmailTime",
    "victimShipTypeId",
    "victimCharacterId",
    "victimCorporationId",
    "finalBlowCorporationId",
  ]),
  // The stored item rows as value_items wants them: every column but the item's own index.
  items: columnList(
    items,
    ITEM_COLUMNS.fields.filter((f) => f !== "itemIndex"),
  ),
  attackers: columnList(attackers, ["killmailId", "characterId", "shipTypeId"]),
};

/** `select <columns> from <table> <alias>`: the start of a `value_*` relation, which its caller filters. */
const SELECT_INPUT = {
  kills: `select ${VALUE_INPUTS.kills.qualified("k")} from ${VALUE_INPUTS.kills.tableSql} k`,
  items: `select ${VALUE_INPUTS.items.qualified("i")} from ${VALUE_INPUTS.items.tableSql} i`,
  attackers: `select ${VALUE_INPUTS.attackers.qualified("a")} from ${VALUE_INPUTS.attackers.tableSql} a`,
};

/**
 * What each killmail_values column gets from `totals t`. Every column: one added to the table must
 * be given its value here (the upsert rewrites whole rows).
 */
const VALUE_FROM_TOTALS = {
  killmailId: "t.killmail_id",
  totalValue: "t.destroyed + t.dropped",
  destroyedValue: "t.destroyed",
  droppedValue: "t.dropped",
  fittedValue: "t.fitted",
  totalDroppableValue: "t.droppable",
  unpricedCount: "t.unpriced",
  isSolo: "t.is_solo",
  isAwox: "t.is_awox",
  pricesAsOf: "t.prices_as_of",
  valuedAt: "now()",
  revalue: "t.unpriced > 0",
} satisfies Record<FieldOf<typeof killmailValues>, string>;

export const VALUE_WRITE_COLUMNS = columnList(killmailValues, Object.keys(VALUE_FROM_TOTALS) as FieldOf<typeof killmailValues>[]);

/** Writes `totals t` into killmail_values, replacing a kill's row if it has one. Ends the statement. */
const UPSERT_VALUES = (() => {
  const v = VALUE_WRITE_COLUMNS;
  const key = v.sql("killmailId");
  const update = v.fields.filter((f) => f !== "killmailId").map((f) => `${v.sql(f)} = excluded.${v.sql(f)}`);
  return `insert into ${v.tableSql} (${v.list()})
    select ${v.fields.map((f) => VALUE_FROM_TOTALS[f]).join(", ")} from totals t
    on conflict (${key}) do update set ${update.join(", ")}`;
})();

/**
 * Values kills just stored in this transaction, read back from the tables by id (their rows are in
 * shared buffers: an index probe per kill). Attackers matter only to the solo rule, which needs exactly
 * one player attacker: only `soloCandidates`' attackers are read (the others count zero players, so
 * they are not solo either). The id range lets Postgres skip the other partitions.
 */
export async function valueStoredKills(tx: TransactionSql, killmailIds: number[], soloCandidates: number[]): Promise<void> {
  if (killmailIds.length === 0) return;
  let lo = killmailIds[0]!;
  let hi = lo;
  for (const id of killmailIds) {
    if (id < lo) lo = id;
    if (id > hi) hi = id;
  }
  const ids = pgArray(killmailIds);
  // A partition that has just started filling has no statistics yet: Postgres would take the batch's
  // 500 kills and ~10,000 item rows for a handful each and join them by nested loop (quadratic in the
  // batch's size). Hash joins are right at every size; the price lookup stays a loop (it has no other way).
  await tx`set local enable_nestloop = off`;
  await tx`
    with value_kills as (
      ${tx.unsafe(SELECT_INPUT.kills)}
      where k.killmail_id = any(${ids}::int8[]) and k.killmail_id between ${lo} and ${hi}
    ),
    value_items as (
      ${tx.unsafe(SELECT_INPUT.items)}
      where i.killmail_id = any(${ids}::int8[]) and i.killmail_id between ${lo} and ${hi}
    ),
    value_attackers as (
      ${tx.unsafe(SELECT_INPUT.attackers)}
      where a.killmail_id = any(${pgArray(soloCandidates)}::int8[]) and a.killmail_id between ${lo} and ${hi}
    ),
    ${valueTotals(tx)}
    ${tx.unsafe(UPSERT_VALUES)}`;
  await tx`set local enable_nestloop = on`;
}

export interface ValueRange {
  fromId: number;
  toId: number;
  mode: ValueMode;
  /** Inclusive UTC dates (YYYY-MM-DD) on killmail_time. */
  fromDate?: string;
  toDate?: string;
}

/**
 * (Re)values the stored kills of an id range that match the mode, re-checked at execution time:
 * null = never valued, zero = valued at 0, flagged = marked for revaluation, all = every kill.
 * Runs in its own transaction (or the caller's) with JIT off: compiling the statement costs more than
 * running it. Returns how many kills were written.
 */
export async function valueRange(sql: AnySql, scope: ValueRange): Promise<number> {
  const run = async (tx: AnySql) => {
    await tx`set local jit = off`;
    await tx`set local work_mem = '64MB'`;
    return writeRange(tx, scope);
  };
  // A transaction's sql (it has savepoint) runs the statement in place; a pool opens a transaction.
  return "savepoint" in sql ? run(sql) : sql.begin(run);
}

async function writeRange(sql: AnySql, scope: ValueRange): Promise<number> {
  const { fromId: lo, toId: hi } = scope;
  const mode =
    scope.mode === "null"
      ? sql`and v.killmail_id is null`
      : scope.mode === "zero"
        ? sql`and v.total_value = 0`
        : scope.mode === "flagged"
          ? sql`and v.revalue`
          : sql``;
  const dates = sql`${scope.fromDate ? sql`and k.killmail_time >= ${scope.fromDate}::date::timestamp at time zone 'UTC'` : sql``}
                    ${scope.toDate ? sql`and k.killmail_time < (${scope.toDate}::date + 1)::timestamp at time zone 'UTC'` : sql``}`;
  // The explicit id range on every kill table lets Postgres prune partitions and scan by index.
  const result = await sql`
    with value_kills as (
      ${sql.unsafe(SELECT_INPUT.kills)}
      left join killmail_values v on v.killmail_id = k.killmail_id and v.killmail_id between ${lo} and ${hi}
      where k.killmail_id between ${lo} and ${hi} ${mode} ${dates}
    ),
    value_items as (
      ${sql.unsafe(SELECT_INPUT.items)}
      where i.killmail_id between ${lo} and ${hi}
    ),
    value_attackers as (
      ${sql.unsafe(SELECT_INPUT.attackers)}
      where a.killmail_id between ${lo} and ${hi}
    ),
    ${valueTotals(sql)}
    ${sql.unsafe(UPSERT_VALUES)}`;
  return result.count;
}
