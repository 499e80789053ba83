// `bun bench/values.ts [--killmails N] [--batch B] [--range R] [--types T] [--days D] [--keep]`:
// valuation throughput on this machine, in its own database (dropped afterwards unless --keep).
//  1. refreshTypePrices on a synthetic Forge history of T types × D days: the first build, a refresh
//     that changes nothing, and the daily case (a new history day for every type: two days rewritten);
//  2. store: storeKillmails (kills, attackers, items and values in one transaction) in batches of B,
//     one connection, on the real corpus re-numbered (bench/kills.ts) with its prices loaded;
//  3. valueRange mode 'all' over the stored kills in id ranges of R kills, one connection.
// Besides wall time it reports the Postgres backend's CPU time (Linux /proc), steadier on a busy box.
// Prints one JSON line last.
import { readFileSync } from "node:fs";
import { closeDb, createSql } from "../server/db/client.ts";
import { storeKillmails } from "../server/killmails/store.ts";
import { valueRange } from "../server/killmails/values.ts";
import { refreshTypePrices } from "../server/prices/refresh.ts";
import { loadCorpusPrices } from "../test/support/corpus-prices.ts";
import { benchKillmails } from "./kills.ts";
import { benchEnvironment, numberOption, rate, say } from "./support.ts";

const N = numberOption("killmails", 50_000);
const BATCH = numberOption("batch", 500);
const RANGE = numberOption("range", 10_000);
const TYPES = numberOption("types", 10_000);
const DAYS = numberOption("days", 365);

const bench = await benchEnvironment("values");
const { database } = bench;
await closeDb();
const db = createSql(bench.url, { max: 1 });
const figures: Record<string, number> = {};
const [{ pid } = { pid: 0 }] = await db<{ pid: number }[]>`select pg_backend_pid() as pid`;
/** CPU milliseconds used so far by this connection's Postgres backend (0 where /proc is unreadable). */
function backendCpu(): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

try {
  say(`bench:values — database ${database}`);
  await loadCorpusPrices(db);
  const kills = benchKillmails(N);
  const items = kills.reduce((n, k) => n + k.items, 0);
  const days = new Map<string, Set<number>>();
  for (const k of kills) {
    const day = k.esi.killmail_time.slice(0, 10);
    const set = days.get(day) ?? new Set<number>();
    set.add(k.esi.victim.ship_type_id);
    const walk = (list: typeof k.esi.victim.items) => {
      for (const i of list ?? []) {
        set.add(i.item_type_id);
        walk(i.items);
      }
    };
    walk(k.esi.victim.items);
    days.set(day, set);
  }
  for (const [day, types] of days) await refreshTypePrices({ typeIds: [...types], fromDate: day, toDate: day, markKills: false }, db);
  say(`${N} kills, ${(items / N).toFixed(1)} item rows per kill, ${days.size} price days`);

  let t0 = 0;
  // 1. price materialization on a synthetic history (it also makes type_prices production-sized)
  if (TYPES > 0 && DAYS > 0) {
    const base = 1_000_000; // type ids of the synthetic history
    const start = "2024-01-01";
    say(`synthetic Forge history: ${TYPES} types × ${DAYS} days (90% of days traded)…`);
    await db`
      insert into market_history (type_id, region_id, date, average, highest, lowest, volume, order_count)
      select ${base} + t, 10000002, ${start}::date + d, round((100 + hashint4(t * 1000 + d) % 100000 + 100000)::numeric / 7, 2), 1, 1, 10, 1
      from generate_series(0, ${TYPES - 1}) t, generate_series(0, ${DAYS - 1}) d
      where hashint4(t * 7919 + d) % 10 <> 0`;
    await db`analyze market_history`;
    const lastDay = (await db<{ d: string }[]>`select (${start}::date + ${DAYS - 1}::int)::text as d`)[0]!.d;
    const firstDay = (await db<{ d: string }[]>`select (${start}::date + 34)::text as d`)[0]!.d;
    t0 = performance.now();
    const build = await refreshTypePrices({ fromDate: firstDay, toDate: lastDay, markKills: false }, db);
    figures.refreshBuildMs = Math.round(performance.now() - t0);
    say(`refresh, first build ${firstDay}…${lastDay}: ${build.written} rows in ${figures.refreshBuildMs} ms`);
    t0 = performance.now();
    const noop = await refreshTypePrices({ fromDate: firstDay, toDate: lastDay, markKills: false }, db);
    figures.refreshNoopMs = Math.round(performance.now() - t0);
    say(`refresh again, nothing changed: ${noop.written} rows in ${figures.refreshNoopMs} ms`);
    await db`
      insert into market_history (type_id, region_id, date, average, highest, lowest, volume, order_count)
      select ${base} + t, 10000002, ${lastDay}::date + 1, 100, 1, 1, 10, 1 from generate_series(0, ${TYPES - 1}) t`;
    const nextDay = (await db<{ d: string }[]>`select (${lastDay}::date + 1)::text as d`)[0]!.d;
    t0 = performance.now();
    const daily = await refreshTypePrices({ fromDate: lastDay, toDate: nextDay, markKills: false }, db);
    figures.refreshDailyMs = Math.round(performance.now() - t0);
    say(`daily refresh (a new history day for every type): ${daily.written} rows in ${figures.refreshDailyMs} ms`);
  }
  // 2. the store statement
  t0 = performance.now();
  let c0 = backendCpu();
  for (let i = 0; i < kills.length; i += BATCH) await storeKillmails(db, kills.slice(i, i + BATCH));
  figures.storeKillsPerS = rate(N, performance.now() - t0);
  figures.storeKillsPerCpuS = rate(N, backendCpu() - c0);
  say(
    `store (batches of ${BATCH}, values included): ${figures.storeKillsPerS} kills/s, ${figures.storeKillsPerCpuS} kills per backend CPU second`,
  );
  const [{ unpriced } = { unpriced: 0 }] = await db<
    { unpriced: number }[]
  >`select sum(unpriced_count)::int as unpriced from killmail_values`;
  say(`unpriced rows: ${unpriced}`);

  // 3. backfill over id ranges
  await db`vacuum analyze`;
  const firstId = kills[0]!.esi.killmail_id;
  const lastId = kills[kills.length - 1]!.esi.killmail_id;
  t0 = performance.now();
  c0 = backendCpu();
  let written = 0;
  for (let lo = firstId; lo <= lastId; lo += RANGE)
    written += await valueRange(db, { fromId: lo, toId: Math.min(lastId, lo + RANGE - 1), mode: "all" });
  figures.valueRangeKillsPerS = rate(written, performance.now() - t0);
  figures.valueRangeKillsPerCpuS = rate(written, backendCpu() - c0);
  say(
    `valueRange mode all (ranges of ${RANGE} ids): ${figures.valueRangeKillsPerS} kills/s, ${figures.valueRangeKillsPerCpuS} per backend CPU second (${written} kills)`,
  );
  t0 = performance.now();
  await db`update killmail_values set revalue = true where killmail_id % 10 = 0`;
  let flagged = 0;
  for (let lo = firstId; lo <= lastId; lo += RANGE)
    flagged += await valueRange(db, { fromId: lo, toId: Math.min(lastId, lo + RANGE - 1), mode: "flagged" });
  say(`valueRange mode flagged, 10% flagged: ${rate(flagged, performance.now() - t0)} kills/s (${flagged} kills)`);

  process.stdout.write(
    `${JSON.stringify({ killmails: N, itemsPerKill: Number((items / N).toFixed(1)), batch: BATCH, range: RANGE, types: TYPES, days: DAYS, ...figures })}\n`,
  );
} finally {
  await db.end();
  await bench.drop();
}
