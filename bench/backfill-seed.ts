// A synthetic, priced killboard seeded straight into Postgres with set-based SQL (generate_series, no
// ingest path): categories, groups, types, a daily type_prices table, and kills with attackers and
// items (fitted slots, cargo, nested containers, blueprint copies, capsules, unpriced types). Used by
// bench:backfill (millions of kills in seconds) and by the backfill tests (a few thousand).
// Everything is a pure function of the kill id, so two seeds of the same range are identical.
import type { Sql } from "postgres";

export interface SeedOptions {
  /** Number of kills. */
  kills: number;
  /** First killmail id; ids then grow with gaps of 1–2 (kills are sparse in id space). */
  firstId: number;
  /** First kill day (UTC, YYYY-MM-DD); kills spread over `days` days in id order. */
  firstDay?: string;
  days?: number;
  /** Item rows per kill are 0…maxItems-1 (mean about maxItems/2). */
  maxItems?: number;
  /** Attackers per kill are 1…maxAttackers. */
  maxAttackers?: number;
  /** Connections to seed kills in parallel (each takes a slice of the ids). */
  parallel?: number;
  /**
   * Drop the secondary indexes of killmails and attackers while seeding and build them again after
   * (much faster for millions of rows; only for a database nobody else uses).
   */
  rebuildIndexes?: boolean;
}

export interface SeedResult {
  kills: number;
  items: number;
  attackers: number;
  fromId: number;
  toId: number;
}

export const SEED_TYPES = 2000;
/** Market types t with t % 20 = UNPRICED_RESIDUE have no price yet (valued 0, kill flagged revalue). */
const UNPRICED_RESIDUE = 7;

/** Reference data: categories, groups, types and their daily prices over the seed's days (idempotent). */
export async function seedReference(sql: Sql, firstDay = "2025-01-01", days = 120): Promise<void> {
  await sql`insert into categories (category_id, name) values (6, 'Ship'), (7, 'Module'), (8, 'Charge'), (91, 'SKINs')
            on conflict do nothing`;
  // Groups 1000–1039: 0–9 ships, 10–29 modules, 30–37 charges, 38–39 SKINs; plus capsule 29, shuttle 31, rookie 237.
  await sql`
    insert into groups (group_id, name, category_id)
    select 1000 + g, 'group ' || g,
           case when g < 10 then 6 when g < 30 then 7 when g < 38 then 8 else 91 end
    from generate_series(0, 39) g
    union all values (29, 'Capsule', 6), (31, 'Shuttle', 6), (237, 'Rookie ship', 6)
    on conflict do nothing`;
  await sql`
    insert into types (type_id, name, group_id, market_group_id)
    select 100000 + t, 'type ' || t, 1000 + t % 40, 2000 + t % 40 from generate_series(0, ${SEED_TYPES - 1}) t
    union all values (670, 'Capsule', 29, null), (33328, 'Shuttle', 31, 391), (588, 'Rookie ship', 237, null)
    on conflict do nothing`;
  // Base price 10^(2…9) by type, a daily wobble; early price = the day before's.
  await sql`
    insert into type_prices (type_id, date, price, price_early, source)
    select tt.type_id, d::date,
           round((tt.base * (1 + 0.05 * sin(extract(doy from d))))::numeric, 2),
           round((tt.base * (1 + 0.05 * sin(extract(doy from d) - 1)))::numeric, 2), 'history'
    from (select 100000 + t as type_id, power(10, 2 + (t * 7919 % 700) / 100.0) as base
          from generate_series(0, ${SEED_TYPES - 1}) t where t % 20 <> ${UNPRICED_RESIDUE}
          union all values (33328, 50000.0), (588, 10000.0)) tt,
         generate_series(${firstDay}::date - 1, ${firstDay}::date + ${days}::int, interval '1 day') d
    on conflict do nothing`;
}

/** Seeds reference data and `kills` kills from `firstId`; returns the counts written. */
export async function seedKills(sql: Sql, opts: SeedOptions): Promise<SeedResult> {
  const firstDay = opts.firstDay ?? "2025-01-01";
  const days = opts.days ?? 120;
  const maxItems = opts.maxItems ?? 25;
  const maxAttackers = opts.maxAttackers ?? 8;
  const parallel = Math.max(1, opts.parallel ?? 1);
  await seedReference(sql, firstDay, days);
  await sql`select ensure_kill_partitions(${opts.firstId + 2 * opts.kills + 20_000_000})`;

  const secondary = opts.rebuildIndexes
    ? await sql<{ name: string; def: string }[]>`
        select indexname as name, indexdef as def from pg_indexes
        where schemaname = 'public' and tablename in ('killmails', 'attackers')
          and not exists (select 1 from pg_constraint c where c.conname = indexname)`
    : [];
  for (const index of secondary) await sql.unsafe(`drop index "${index.name}"`);

  const slice = Math.ceil(opts.kills / parallel);
  const parts = Array.from({ length: parallel }, (_, p) => [p * slice, Math.min(opts.kills, (p + 1) * slice) - 1] as const).filter(
    ([lo, hi]) => hi >= lo,
  );
  // Kill number g (0-based) has id firstId + 2g + (g mod 2 pseudo-random bit): strictly increasing, gaps 1–3.
  const seconds = days * 86_400;
  await Promise.all(
    parts.map(async ([lo, hi]) => {
      await sql`
        insert into killmails (killmail_id, hash, killmail_time, solar_system_id, victim_character_id,
          victim_corporation_id, victim_alliance_id, victim_ship_type_id, victim_damage_taken, attacker_count,
          final_blow_character_id, final_blow_corporation_id, is_npc)
        select id, md5(id::text) || substr(md5(id::text), 1, 8),
               ${firstDay}::timestamptz + make_interval(secs => (g::float8 * ${seconds}::float8 / ${opts.kills}::float8)),
               30000001 + h % 5000, 90000000 + h % 100000, 98000000 + h % 3000,
               case when h % 3 = 0 then null else 99000000 + h % 300 end,
               case when h % 20 = 0 then 670 when h % 50 = 1 then 33328 when h % 50 = 2 then 588
                    else 100000 + (h % 50) * 40 + h % 10 end,
               1000 + h % 50000, 1 + h % ${maxAttackers},
               90100000 + (h / 7) % 100000,
               case when h % 17 = 0 then 98000000 + h % 3000 else 98100000 + (h / 11) % 3000 end,
               false
        from (select g, ${opts.firstId}::int8 + 2 * g + ((g * 2654435761) >> 7) % 2 as id,
                     ((g * 2654435761) >> 3) % 1000003 as h
              from generate_series(${lo}::int8, ${hi}::int8) g) s`;
      const [from, to] = [opts.firstId + 2 * lo, opts.firstId + 2 * hi + 1];
      // Rows i = 8n+7 sit inside row 8n+6 (a container); rows 0–7 are fitted (flags 11–18), the rest cargo.
      await sql`
        insert into items (killmail_id, item_index, parent_index, flag, item_type_id, singleton,
          quantity_dropped, quantity_destroyed, container_dropped)
        select k.killmail_id, i, case when i % 8 = 7 then i - 1 end,
               case when i < 8 then 11 + i else 5 end,
               100000 + ((k.killmail_id * 13 + i * 101) % ${SEED_TYPES}),
               case when (k.killmail_id + i) % 97 = 0 then 2 else 0 end,
               case when (k.killmail_id * 31 + i * 17) % 3 = 0 then q end,
               case when (k.killmail_id * 31 + i * 17) % 3 <> 0 then q end,
               case when i % 8 = 7 then (k.killmail_id * 31 + (i - 1) * 17) % 3 = 0 end
        from killmails k,
             lateral (select i, case when i < 8 then 1 else 1 + (k.killmail_id + i) % 100 end as q
                      from generate_series(0, (k.killmail_id * 2654435761 >> 5) % ${maxItems} - 1) i) it
        where k.killmail_id between ${from} and ${to}`;
      await sql`
        insert into attackers (killmail_id, attacker_index, character_id, corporation_id, alliance_id,
          ship_type_id, weapon_type_id, damage_done, final_blow, security_status)
        select k.killmail_id, j, case when j = 0 then k.final_blow_character_id else 90100000 + (k.killmail_id + j) % 100000 end,
               case when j = 0 then k.final_blow_corporation_id else 98100000 + (k.killmail_id + j) % 3000 end,
               null, 100000 + ((k.killmail_id + j) % 50) * 40, 100000 + ((k.killmail_id + j) * 7 % ${SEED_TYPES}),
               100 + j, j = 0, 0.5
        from killmails k, generate_series(0, k.attacker_count - 1) j
        where k.killmail_id between ${from} and ${to}`;
    }),
  );
  // Rebuilt two at a time (one per core).
  const queue = [...secondary];
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let index = queue.shift(); index; index = queue.shift()) await sql.unsafe(index.def);
    }),
  );
  const [row] = await sql<{ kills: number; items: number; attackers: number }[]>`
    select (select count(*) from killmails where killmail_id between ${opts.firstId} and ${opts.firstId + 2 * opts.kills})::int as kills,
           (select count(*) from items where killmail_id between ${opts.firstId} and ${opts.firstId + 2 * opts.kills})::int as items,
           (select count(*) from attackers where killmail_id between ${opts.firstId} and ${opts.firstId + 2 * opts.kills})::int as attackers`;
  return { ...row!, fromId: opts.firstId, toId: opts.firstId + 2 * (opts.kills - 1) + 1 };
}
