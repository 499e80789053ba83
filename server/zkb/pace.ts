// Request spacing shared by every process through Redis: each caller reserves the next free slot
// (one Lua call: slot = max(next, now); next = slot + interval) and sleeps until it. Used for the
// zKillboard API (~1 request/s per IP) and R2Z2 (~20/s).
import type { Redis } from "ioredis";
import { sleep } from "../esi/http.ts";
import { config } from "../helpers/config.ts";
import { redis } from "../helpers/redis.ts";

// KEYS: next  ARGV: intervalMs maxWaitMs → {reserved 0/1, ms to wait}; a slot further away than
// maxWaitMs is not reserved (a caller that gives up must not push everyone else's slots back)
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now then slot = now end
if slot - now > tonumber(ARGV[2]) then return {0, slot - now} end
local interval = tonumber(ARGV[1])
redis.call('SET', KEYS[1], slot + interval, 'PX', slot + interval - now + 60000)
return {1, slot - now}
`;

const prepared = new WeakSet<Redis>();

type Reserve = { paceReserve(key: string, intervalMs: number, maxWaitMs: number): Promise<[number, number]> };

function client(): Redis & Reserve {
  const r = redis();
  if (!prepared.has(r)) {
    r.defineCommand("paceReserve", { numberOfKeys: 1, lua: RESERVE });
    prepared.add(r);
  }
  return r as Redis & Reserve;
}

export function paceKey(name: string): string {
  return `${config().queuePrefix}:${name}:next-slot`;
}

/**
 * Waits for this caller's slot of `name` (e.g. "zkb"); slots are `intervalMs` apart across processes.
 * Returns false (nothing reserved) when the next free slot is more than maxWaitMs away; `until` then
 * tells when to come back.
 */
export async function waitForSlot(
  name: string,
  intervalMs: number,
  maxWaitMs = Infinity,
): Promise<{ ok: true } | { ok: false; until: number }> {
  if (intervalMs <= 0) return { ok: true };
  const [reserved, waitMs] = await client().paceReserve(paceKey(name), intervalMs, Number.isFinite(maxWaitMs) ? maxWaitMs : 1e15);
  if (!reserved) return { ok: false, until: Date.now() + waitMs };
  if (waitMs > 0) await sleep(waitMs);
  return { ok: true };
}
