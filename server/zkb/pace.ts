// Request spacing shared by every process through Redis: each caller reserves the next free slot (one Lua
// call, lua/reserve-slot.lua: slot = max(next, now); next = slot + interval) and sleeps until it. Used for
// the zKillboard API (~1 request/s per IP) and R2Z2 (~20/s).
import { sleep } from "../esi/http.ts";
import { config } from "../helpers/config.ts";
import { loadLua, scriptedRedis } from "../helpers/lua.ts";

// Keys, arguments and reply are documented in the script's header.
const RESERVE = loadLua(new URL("./lua/reserve-slot.lua", import.meta.url));

type Reserve = { paceReserve(key: string, intervalMs: number, maxWaitMs: number): Promise<[number, number]> };

const client = scriptedRedis<Reserve>({ paceReserve: RESERVE });

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
