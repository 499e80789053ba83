// Market data from ESI into Postgres: /markets/prices (average and adjusted price of every type) and
// the Forge daily history of the types kills name. Each type's history is asked for only after ESI's
// Expires, conditionally (ETag); non-market types (404) are remembered. Written set-based, then the
// type_prices of the types that changed are recomputed (which flags their kills for revaluation).
import { pgArray } from "../db/arrays.ts";
import { sql } from "../db/client.ts";
import { EsiBlockedError, getMarketHistory, getMarketPrices, isNotFound } from "../esi/index.ts";
import { readCursor, writeCursor } from "../feeds/cursor.ts";
import { ensureBlueprints, GANTRY } from "./blueprints.ts";
import { PRICE_REGION, refreshTypePrices } from "./refresh.ts";

/**
 * Calls ESI, sleeping through budget waits (guard, pacing) instead of delaying the job: a price job
 * fetches many histories at once, and its lock is renewed by the worker while it waits.
 */
async function esi<T>(fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof EsiBlockedError)) throw err;
      await Bun.sleep(Math.max(100, err.until - Date.now()));
    }
  }
}

/** Runs `fn` over items with at most `limit` in flight; rejects on the first failure. */
async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** Histories fetched at once per job (the ESI budget paces them across all processes). */
const HISTORY_CONCURRENCY = 8;

/** A non-market type is asked about again after this long (it may become tradable). */
const NOT_MARKET_RECHECK_MS = 30 * 86_400_000;
/** When ESI sends no Expires, history is not asked for again before this. */
const DEFAULT_HISTORY_TTL_MS = 6 * 3_600_000;

export interface MarketPricesResult {
  types: number;
  changed: number;
  notModified: boolean;
}

interface PricesCursor {
  etag?: string;
}

/** Refreshes market_prices from ESI /markets/prices; returns how many rows changed. */
export async function updateMarketPrices(): Promise<MarketPricesResult> {
  const cursor = (await readCursor<PricesCursor>("esi-markets-prices")) ?? {};
  const res = await esi(() => getMarketPrices({ etag: cursor.etag }));
  if (res.status === "not-modified") return { types: 0, changed: 0, notModified: true };
  const rows = res.data;
  const changed = await sql()<{ type_id: number }[]>`
    insert into market_prices as m (type_id, average_price, adjusted_price, updated_at)
    select u.type_id, u.average, u.adjusted, now()
    from unnest(${pgArray(rows.map((r) => r.type_id))}::int4[],
                ${pgArray(rows.map((r) => r.average_price ?? null))}::numeric[],
                ${pgArray(rows.map((r) => r.adjusted_price ?? null))}::numeric[]) as u(type_id, average, adjusted)
    on conflict (type_id) do update set average_price = excluded.average_price,
      adjusted_price = excluded.adjusted_price, updated_at = now()
    where (m.average_price, m.adjusted_price) is distinct from (excluded.average_price, excluded.adjusted_price)
    returning type_id`;
  await writeCursor("esi-markets-prices", res.etag ? { etag: res.etag } : {});
  // The ESI average is a price only where there is no Forge window (types without history): only
  // those types are repriced when it moves.
  const averageChanged = changed.map((r) => r.type_id);
  const users =
    averageChanged.length === 0
      ? []
      : await sql()<{ type_id: number }[]>`
    select t.type_id from types t
    where t.type_id = any(${pgArray(averageChanged)}::int4[])
      and not exists (select 1 from market_history h where h.type_id = t.type_id and h.region_id = ${PRICE_REGION})`;
  const typeIds = users.map((r) => r.type_id);
  if (typeIds.length > 0) await refreshTypePrices({ typeIds });
  return { types: rows.length, changed: averageChanged.length, notModified: false };
}

export interface HistoryResult {
  asked: number;
  fresh: number;
  notModified: number;
  notMarket: number;
  rows: number;
  /** type_prices rows written for the types whose history changed. */
  prices: number;
  /** Kills flagged for revaluation by the new prices. */
  flagged: number;
}

interface FetchState {
  type_id: number;
  etag: string | null;
  expires_at: Date | null;
  rows: number;
}

/**
 * Fetches the Forge history of these types (those past their Expires, several at once), stores the
 * days that changed, and reprices the types from the first changed day on (new types entirely).
 */
export async function fetchHistories(typeIds: number[], onProgress?: (done: number) => void): Promise<HistoryResult> {
  const result: HistoryResult = { asked: 0, fresh: 0, notModified: 0, notMarket: 0, rows: 0, prices: 0, flagged: 0 };
  const ids = [...new Set(typeIds)].sort((a, b) => a - b);
  const states = new Map(
    (await sql()<FetchState[]>`select type_id, etag, expires_at, rows from price_fetches where type_id = any(${pgArray(ids)}::int4[])`).map(
      (s) => [s.type_id, s],
    ),
  );
  /** Types with history for the first time, and the earliest changed day of the others. */
  const whole: number[] = [];
  const since = new Map<number, string>();
  let done = 0;
  await inParallel(ids, HISTORY_CONCURRENCY, async (typeId) => {
    const state = states.get(typeId);
    if (state?.expires_at && state.expires_at.getTime() > Date.now()) {
      result.fresh++;
      onProgress?.(++done);
      return;
    }
    result.asked++;
    try {
      const res = await esi(() => getMarketHistory(PRICE_REGION, typeId, { etag: state?.etag ?? undefined }));
      const expires = new Date(res.expires ?? Date.now() + DEFAULT_HISTORY_TTL_MS);
      if (res.status === "not-modified") {
        result.notModified++;
        await sql()`update price_fetches set expires_at = ${expires}, updated_at = now() where type_id = ${typeId}`;
      } else {
        const days = res.data;
        const changedDays =
          days.length === 0
            ? []
            : await sql()<{ date: string }[]>`
          insert into market_history as h (type_id, region_id, date, average, highest, lowest, volume, order_count)
          select ${typeId}, ${PRICE_REGION}, u.date, u.average, u.highest, u.lowest, u.volume, u.order_count
          from unnest(${pgArray(days.map((d) => d.date))}::date[], ${pgArray(days.map((d) => d.average))}::numeric[],
                      ${pgArray(days.map((d) => d.highest))}::numeric[], ${pgArray(days.map((d) => d.lowest))}::numeric[],
                      ${pgArray(days.map((d) => d.volume))}::int8[], ${pgArray(days.map((d) => d.order_count))}::int8[])
               as u(date, average, highest, lowest, volume, order_count)
          on conflict (type_id, region_id, date) do update set average = excluded.average,
            highest = excluded.highest, lowest = excluded.lowest, volume = excluded.volume, order_count = excluded.order_count
          where (h.average, h.highest, h.lowest, h.volume, h.order_count)
                is distinct from (excluded.average, excluded.highest, excluded.lowest, excluded.volume, excluded.order_count)
          returning date::text`;
        result.rows += changedDays.length;
        if (changedDays.length > 0) {
          if (!state || state.rows === 0) whole.push(typeId);
          else since.set(typeId, changedDays.map((d) => d.date).sort()[0]!); // earliest day (ISO dates sort as strings)
        }
        await sql()`
          insert into price_fetches (type_id, market, rows, etag, expires_at, updated_at)
          values (${typeId}, true, ${days.length}, ${res.etag ?? null}, ${expires}, now())
          on conflict (type_id) do update set market = true, rows = excluded.rows, etag = excluded.etag,
            expires_at = excluded.expires_at, updated_at = now()`;
      }
    } catch (err) {
      if (!isNotFound(err)) throw err;
      result.notMarket++;
      await sql()`
        insert into price_fetches (type_id, market, rows, etag, expires_at, updated_at)
        values (${typeId}, false, 0, null, ${new Date(Date.now() + NOT_MARKET_RECHECK_MS)}, now())
        on conflict (type_id) do update set market = false, rows = 0, etag = null,
          expires_at = excluded.expires_at, updated_at = now()`;
    }
    onProgress?.(++done);
  });
  const refreshes: { typeIds: number[]; fromDate?: string }[] = [];
  if (whole.length > 0) refreshes.push({ typeIds: whole });
  if (since.size > 0) {
    const fromDate = [...since.values()].sort()[0]!;
    refreshes.push({ typeIds: [...since.keys()], fromDate });
  }
  for (const r of refreshes) {
    const refreshed = await refreshTypePrices(r);
    result.prices += refreshed.written;
    result.flagged += refreshed.marked;
  }
  return result;
}

/**
 * The types a build cost or the gantry reads (materials of the blueprints of types kills name, two levels
 * deep; the gantry's parts), as SQL: they need Forge history though no kill names them.
 */
const BUILD_INPUTS = `
  with recursive inputs(type_id, depth) as (
    select b.material_type_id, 1 from blueprint_materials b join types t on t.type_id = b.product_type_id
    union
    select b.material_type_id, i.depth + 1 from blueprint_materials b join inputs i on b.product_type_id = i.type_id
    where i.depth < 2
  )
  select type_id from inputs
  union
  select unnest(array[${[GANTRY.gantry, ...GANTRY.parts].join(", ")}]) where exists (select 1 from types where type_id = ${GANTRY.typeId})`;

/** The types whose prices matter: every market type named by a stored kill (known to the types table), and the build inputs. */
export async function pricedTypeIds(): Promise<number[]> {
  await ensureBlueprints(sql());
  const rows = await sql()<{ type_id: number }[]>`
    select type_id from types where market_group_id is not null and not deleted
    union
    select type_id from (${sql().unsafe(BUILD_INPUTS)}) inputs
    order by type_id`;
  return rows.map((r) => r.type_id);
}

/** Market types kills name whose Forge history was never fetched (at most `limit`). */
export async function unfetchedTypeIds(limit = 500): Promise<number[]> {
  await ensureBlueprints(sql());
  const rows = await sql()<{ type_id: number }[]>`
    select x.type_id from (
      select t.type_id from types t where t.market_group_id is not null and not t.deleted
      union
      select type_id from (${sql().unsafe(BUILD_INPUTS)}) inputs
    ) x
    where not exists (select 1 from price_fetches f where f.type_id = x.type_id)
    order by x.type_id limit ${limit}`;
  return rows.map((r) => r.type_id);
}

/**
 * Fetches the history of every market type never fetched, in rounds, until none is left: types the
 * type processor stores while this runs are picked up by the next round.
 */
export async function fetchNewTypes(): Promise<HistoryResult & { rounds: number }> {
  const total = { asked: 0, fresh: 0, notModified: 0, notMarket: 0, rows: 0, prices: 0, flagged: 0, rounds: 0 };
  for (let ids = await unfetchedTypeIds(); ids.length > 0; ids = await unfetchedTypeIds()) {
    const r = await fetchHistories(ids);
    for (const k of Object.keys(r) as (keyof HistoryResult)[]) total[k] += r[k];
    total.rounds++;
  }
  return total;
}
