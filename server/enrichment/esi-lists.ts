// ESI id lists the enrichment workflows read (`GET /alliances`, `GET /alliances/{id}/corporations`):
// kept in Redis until ESI's Expires so a rerun within the cache period never asks ESI again (the lists
// are only worth re-reading when ESI would answer something new), and called inline from the CLI
// (no job to delay): waits out budget blocks and retries transient failures a few times.
import { z } from "zod";
import { EsiBlockedError, type EsiResult, getAlliances, RetryableError } from "../esi/index.ts";
import { config } from "../helpers/config.ts";
import { log } from "../helpers/logger.ts";
import { redis } from "../helpers/redis.ts";

const cachedSchema = z.array(z.number().int().positive());

function listKey(name: string): string {
  return `${config().queuePrefix}:enrichment:list:${name}`;
}

export interface IdList {
  ids: number[];
  /** True when the list came from our cache (ESI not asked). */
  cached: boolean;
}

/** The list under `name`: from the cache while ESI's copy is fresh, else fetched and cached until Expires. */
export async function cachedIdList(name: string, fetch: () => Promise<EsiResult<number[]>>): Promise<IdList> {
  const key = listKey(name);
  const raw = await redis().get(key);
  if (raw !== null) {
    const parsed = cachedSchema.safeParse(JSON.parse(raw));
    if (parsed.success) return { ids: parsed.data, cached: true };
  }
  const res = await fetch();
  // Fetched without an ETag, so ESI cannot answer 304; guard anyway rather than use an empty list.
  if (res.status !== "ok") throw new Error(`ESI answered 'not modified' to an unconditional request for ${name}`);
  if (res.expires && res.expires > Date.now()) await redis().set(key, JSON.stringify(res.data), "PXAT", res.expires);
  return { ids: res.data, cached: false };
}

/** Forgets a cached list (tests, or an operator who wants a fresh read). */
export async function forgetIdList(name: string): Promise<void> {
  await redis().del(listKey(name));
}

export const allianceListName = "alliances";
export const allianceCorporationsListName = (allianceId: number) => `alliance-corporations-${allianceId}`;

export interface InlineOptions {
  /** Transient failures (5xx, timeouts) retried this many times (default 3). */
  retries?: number;
  /** Give up waiting for the budget after this long (default 10 minutes). */
  maxBlockedMs?: number;
}

/**
 * Runs an ESI call outside a job (CLI): an EsiBlockedError waits until the budget allows it, a
 * RetryableError is retried with backoff; permanent errors (404, 4xx) are thrown at once.
 */
export async function inlineEsi<T>(fn: () => Promise<T>, opts: InlineOptions = {}): Promise<T> {
  const retries = opts.retries ?? 3;
  const giveUpAt = Date.now() + (opts.maxBlockedMs ?? 600_000);
  for (let attempt = 0; ; ) {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof EsiBlockedError) {
        if (err.until > giveUpAt) throw new Error(`ESI is blocked (${err.reason}) until ${new Date(err.until).toISOString()}: giving up`);
        log("esi").info({ reason: err.reason, until: err.until }, "waiting for the ESI budget");
        await Bun.sleep(Math.max(50, err.until - Date.now()));
        continue;
      }
      if (err instanceof RetryableError && attempt < retries) {
        attempt++;
        await Bun.sleep(500 * 2 ** attempt);
        continue;
      }
      throw err;
    }
  }
}

/** Every active alliance id (ESI `GET /alliances`), for the CLI. */
export function esiAllianceIds(): Promise<IdList> {
  return inlineEsi(() => cachedIdList(allianceListName, () => getAlliances()));
}
