// The ESI budget every process shares through Redis: one admission check before every request and one
// settlement after every response, each a Lua script so all processes see one consistent state.
//  - error-limit guard: X-ESI-Error-Limit-Remain/-Reset of every response are recorded; at the low mark
//    or on a 420 nobody may call ESI until the reset + 1 s, then one request at a time for a while;
//    requests in flight count as potential errors, so the low mark is never overrun by concurrency.
//  - per-group floating-window token buckets (X-Ratelimit-Group/-Limit/-Remaining): a request reserves the
//    worst cost (5) before it is sent; the real cost (2xx 2, 3xx 1, 4xx 5, 5xx 0) replaces it after.
//  - 429 Retry-After pauses the group (or the route) for everyone.
// Keys live under `${queuePrefix}:esi:` (see README.md in this folder).
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { config } from "../helpers/config.ts";
import { redis } from "../helpers/redis.ts";
import { type BlockReason, EsiBlockedError } from "./errors.ts";
import { intHeader, sleep } from "./http.ts";
import { upstreamSettings } from "./settings.ts";

/** Route groups known from the spec (x-rate-limit) before any response told us. */
export const SPEC_ROUTE_GROUPS: Record<string, string> = {
  "/killmails/{killmail_id}/{killmail_hash}": "killmail",
};

/** The worst token cost of one response (a 4xx); reserved before sending. */
export const RESERVE_COST = 5;

/** Token cost of a response (esi-docs rate-limiting): 2xx 2, 3xx 1, 429 0, 4xx 5, 5xx 0. */
export function tokenCost(status: number): number {
  if (status >= 200 && status < 300) return 2;
  if (status >= 300 && status < 400) return 1;
  if (status === 429) return 0;
  if (status >= 400 && status < 500) return 5;
  return 0;
}

export function esiKeys(prefix: string = config().queuePrefix) {
  const p = `${prefix}:esi`;
  return {
    guard: `${p}:guard`,
    events: `${p}:guard-events`,
    errors: `${p}:errors`,
    serial: `${p}:serial`,
    serialLock: `${p}:serial-lock`,
    inflight: `${p}:inflight`,
    active: `${p}:active`,
    groups: `${p}:groups`,
    bucket: (group: string) => `${p}:bucket:${group}`,
    bucketLog: (group: string) => `${p}:bucket:${group}:log`,
    pause: (groupOrRoute: string) => `${p}:pause:${groupOrRoute}`,
    memo: (url: string) => `${p}:memo:${url}`,
  };
}

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

// KEYS: guard errors inflight serial serialLock groupPause routePause bucket bucketLog active
// ARGV: reqId holdMs lowMark reserve margin hasGroup(1/0)
// (errors: hash remain/resetAt of the current window + max = the full allowance seen; inflight: zset of
// admitted requests on error-counted routes, scored by when they stop counting)
// → {admitted 0/1, waitMs, reason}
const ACQUIRE = `${NOW}
local reqId, hold, lowMark = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local reserve, margin = tonumber(ARGV[4]), tonumber(ARGV[5])

local gu = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if gu > now then return {0, gu - now, 'guard'} end

for _, k in ipairs({KEYS[6], KEYS[7]}) do
  local pu = tonumber(redis.call('GET', k) or '0')
  if pu > now then return {0, pu - now, 'pause'} end
end

-- error limit (routes outside a token-bucket group: errors there are paid in tokens instead).
-- Every request in flight may still come back as an error: keep remain - inflight above the low mark.
-- Without a current window's figure, assume the window's full allowance seen before (errors-max);
-- never seen one: one request at a time until a response tells.
local errorCounted = ARGV[6] ~= '1'
if errorCounted then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  local inflight = redis.call('ZCARD', KEYS[3])
  local remain = tonumber(redis.call('HGET', KEYS[2], 'remain') or '-1')
  local resetAt = tonumber(redis.call('HGET', KEYS[2], 'resetAt') or '0')
  if resetAt <= now then remain = tonumber(redis.call('HGET', KEYS[2], 'max') or '-1') end
  if remain < 0 then
    if inflight > 0 then return {0, 50, 'errors'} end
  elseif remain - inflight <= lowMark then
    if inflight > 0 then return {0, 50, 'errors'} end
    if resetAt > now then return {0, resetAt + 1000 - now, 'guard'} end
  end
end

local serial = tonumber(redis.call('GET', KEYS[4]) or '0') > now
if serial and redis.call('EXISTS', KEYS[5]) == 1 then return {0, 25, 'serial'} end

if ARGV[6] == '1' then
  local limit = tonumber(redis.call('HGET', KEYS[8], 'limit') or '-1')
  if limit < 0 then
    -- limit not known yet: one probe at a time until a response tells it
    local pu = tonumber(redis.call('HGET', KEYS[8], 'probeUntil') or '0')
    if pu > now then return {0, 50, 'bucket'} end
    redis.call('HSET', KEYS[8], 'probeUntil', now + hold, 'probeId', reqId)
    redis.call('PEXPIRE', KEYS[8], hold + 60000)
  else
    local windowMs = tonumber(redis.call('HGET', KEYS[8], 'windowMs'))
    -- entries are kept 1 s longer than the window: the server stamps them a little after we do
    local cutoff = now - windowMs - 1000
    local used = tonumber(redis.call('HGET', KEYS[8], 'used') or '0')
    local old = redis.call('ZRANGEBYSCORE', KEYS[9], '-inf', cutoff)
    for _, m in ipairs(old) do used = used - tonumber(string.match(m, '|(%d+)$')) end
    if #old > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[9], '-inf', cutoff) end
    if used < 0 then used = 0 end
    redis.call('HSET', KEYS[8], 'used', used)
    local cap = limit - margin
    if reserve > cap then reserve = cap end
    if used + reserve > cap then
      -- wait until enough of the oldest entries leave the window; if a reservation is still in flight
      -- (r:…), look again soon: its real cost is usually lower than the reserved worst case
      local need = used + reserve - cap
      local entries = redis.call('ZRANGE', KEYS[9], 0, -1, 'WITHSCORES')
      local freed, wait, pending = 0, nil, false
      for i = 1, #entries, 2 do
        local at = tonumber(entries[i + 1])
        if string.sub(entries[i], 1, 2) == 'r:' and at > now - hold then pending = true end
        freed = freed + tonumber(string.match(entries[i], '|(%d+)$'))
        if wait == nil and freed >= need then wait = at + windowMs + 1001 - now end
      end
      wait = wait or windowMs
      if pending and wait > 100 then wait = 100 end
      return {0, wait, 'bucket'}
    end
    redis.call('ZADD', KEYS[9], now, 'r:' .. reqId .. '|' .. reserve)
    redis.call('HSET', KEYS[8], 'used', used + reserve)
    redis.call('PEXPIRE', KEYS[8], windowMs + 60000)
    redis.call('PEXPIRE', KEYS[9], windowMs + 60000)
  end
end

if errorCounted then redis.call('ZADD', KEYS[3], now + hold, reqId) end
redis.call('ZREMRANGEBYSCORE', KEYS[10], '-inf', now)
redis.call('ZADD', KEYS[10], now + hold, reqId)
if serial then redis.call('SET', KEYS[5], reqId, 'PX', hold) end
return {1, 0, 'ok'}
`;

// KEYS: guard errors inflight serial serialLock pause bucket bucketLog events groups active
// ARGV: reqId status errRemain errReset lowMark serialMs group limit windowMs remaining retryAfter reserve route cost
const SETTLE = `${NOW}
local reqId, status = ARGV[1], tonumber(ARGV[2])
local remain, reset = tonumber(ARGV[3]), tonumber(ARGV[4])
local lowMark, serialMs = tonumber(ARGV[5]), tonumber(ARGV[6])

redis.call('ZREM', KEYS[3], reqId)
redis.call('ZREM', KEYS[11], reqId)
if redis.call('GET', KEYS[5]) == reqId then redis.call('DEL', KEYS[5]) end

-- error limit: remember the lowest Remain seen in the current window
if remain then
  local resetAt = now + (reset or 60) * 1000
  local oldAt = tonumber(redis.call('HGET', KEYS[2], 'resetAt') or '0')
  local oldRemain = tonumber(redis.call('HGET', KEYS[2], 'remain') or '-1')
  if oldAt > now and resetAt <= oldAt + 1500 and oldRemain >= 0 then
    if oldRemain < remain then remain = oldRemain end
    if oldAt > resetAt then resetAt = oldAt end
  end
  local max = tonumber(redis.call('HGET', KEYS[2], 'max') or '-1')
  if tonumber(ARGV[3]) > max then max = tonumber(ARGV[3]) end
  redis.call('HSET', KEYS[2], 'remain', remain, 'resetAt', resetAt, 'at', now, 'max', max)
  -- the window's figures go stale at resetAt; the allowance (max) is kept while ESI answers (1 h after the last)
  redis.call('PEXPIRE', KEYS[2], 3600000)
end

local trigger = nil
if status == 420 then trigger = 'status-420' elseif remain and remain <= lowMark then trigger = 'low-mark' end
if trigger then
  local untilMs = now + (reset or 60) * 1000 + 1000
  local cur = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
  if untilMs > cur then
    redis.call('HSET', KEYS[1], 'until', untilMs, 'reason', trigger, 'setAt', now)
    redis.call('PEXPIREAT', KEYS[1], untilMs)
    -- every request already sent (any route) may still reach ESI after this moment
    redis.call('ZREMRANGEBYSCORE', KEYS[11], '-inf', now)
    local inflight = redis.call('ZCARD', KEYS[11])
    redis.call('LPUSH', KEYS[9], cjson.encode({kind = 'guard', reason = trigger, setAt = now, ['until'] = untilMs,
      remain = remain or -1, inflight = inflight, extends = cur > now}))
    redis.call('LTRIM', KEYS[9], 0, 499)
    if serialMs > 0 then redis.call('SET', KEYS[4], untilMs + serialMs, 'PX', untilMs + serialMs - now) end
  end
end

-- 429: everyone pauses this group (or route) for Retry-After
if status == 429 then
  local untilMs = now + (tonumber(ARGV[11]) or 60) * 1000
  local cur = tonumber(redis.call('GET', KEYS[6]) or '0')
  if untilMs > cur then
    redis.call('SET', KEYS[6], untilMs, 'PX', untilMs - now)
    redis.call('LPUSH', KEYS[9], cjson.encode({kind = 'pause', reason = 'status-429', group = ARGV[7], setAt = now, ['until'] = untilMs}))
    redis.call('LTRIM', KEYS[9], 0, 499)
  end
end

local group = ARGV[7]
if group ~= '' then
  redis.call('HSET', KEYS[10], ARGV[13], group)
  local limit, windowMs = tonumber(ARGV[8]), tonumber(ARGV[9])
  if limit and windowMs then redis.call('HSET', KEYS[7], 'limit', limit, 'windowMs', windowMs) end
  if redis.call('HGET', KEYS[7], 'probeId') == reqId then redis.call('HDEL', KEYS[7], 'probeId', 'probeUntil') end
  local cost = tonumber(ARGV[14])
  local used = tonumber(redis.call('HGET', KEYS[7], 'used') or '0')
  local member = 'r:' .. reqId .. '|' .. ARGV[12]
  local ts = redis.call('ZSCORE', KEYS[8], member)
  if ts then
    if cost >= 0 then
      redis.call('ZREM', KEYS[8], member)
      used = used - tonumber(ARGV[12])
      if cost > 0 then
        redis.call('ZADD', KEYS[8], ts, reqId .. '|' .. cost)
        used = used + cost
      end
    end
  elseif cost > 0 then
    redis.call('ZADD', KEYS[8], now, reqId .. '|' .. cost)
    used = used + cost
  end
  -- the server's count wins when it is higher (another client on this IP, lost state); reservations of
  -- requests still in flight are already in ours at their worst cost
  local remaining = tonumber(ARGV[10])
  if limit and remaining and limit - remaining > used then
    redis.call('ZADD', KEYS[8], now, 'sync-' .. reqId .. '|' .. (limit - remaining - used))
    used = limit - remaining
  end
  redis.call('HSET', KEYS[7], 'used', used)
  local w = tonumber(redis.call('HGET', KEYS[7], 'windowMs') or '0')
  if w > 0 then
    redis.call('PEXPIRE', KEYS[7], w + 60000)
    redis.call('PEXPIRE', KEYS[8], w + 60000)
  end
end
return 1
`;

type BudgetCommands = {
  esiAcquire(...args: (string | number)[]): Promise<[number, number, string]>;
  esiSettle(...args: (string | number)[]): Promise<number>;
};

const prepared = new WeakSet<Redis>();

function client(): Redis & BudgetCommands {
  const r = redis();
  if (!prepared.has(r)) {
    r.defineCommand("esiAcquire", { numberOfKeys: 10, lua: ACQUIRE });
    r.defineCommand("esiSettle", { numberOfKeys: 11, lua: SETTLE });
    prepared.add(r);
  }
  return r as Redis & BudgetCommands;
}

/** One admitted request: pass it to settle() with the response. */
export interface Ticket {
  reqId: string;
  route: string;
  group: string | undefined;
}

const learned = new Map<string, { group: string | undefined; until: number }>();

/** The rate-limit group of a route: from the spec, or learned from an earlier response (any process). */
async function groupOf(route: string): Promise<string | undefined> {
  const known = SPEC_ROUTE_GROUPS[route];
  if (known) return known;
  const cached = learned.get(route);
  if (cached && (cached.group || cached.until > Date.now())) return cached.group;
  const group = (await client().hget(esiKeys().groups, route)) ?? undefined;
  learned.set(route, { group, until: Date.now() + 30_000 });
  return group;
}

let counter = 0;
const instance = randomBytes(3).toString("hex");

/** Options of one admission: how long to wait inline before giving up with EsiBlockedError. */
export interface AcquireOptions {
  maxWaitMs?: number;
}

const REASONS: Record<string, BlockReason> = { guard: "guard", pause: "pause", bucket: "bucket", errors: "guard", serial: "guard" };

/**
 * Waits until the shared budget admits one request to `route` (a path template). Short waits happen
 * inline; when the budget will not admit it within maxWaitMs, throws EsiBlockedError with the time
 * to come back.
 */
export async function acquire(route: string, opts: AcquireOptions = {}): Promise<Ticket> {
  const s = upstreamSettings();
  const maxWaitMs = opts.maxWaitMs ?? s.esiMaxInlineWaitMs;
  const deadline = Date.now() + maxWaitMs;
  const k = esiKeys();
  const group = await groupOf(route);
  const reqId = `${process.pid}.${instance}.${++counter}`;
  const routePause = k.pause(`route:${route}`);
  for (;;) {
    const [admitted, waitMs, reason] = await client().esiAcquire(
      k.guard,
      k.errors,
      k.inflight,
      k.serial,
      k.serialLock,
      group ? k.pause(group) : routePause,
      routePause,
      k.bucket(group ?? "-"),
      k.bucketLog(group ?? "-"),
      k.active,
      reqId,
      s.esiTimeoutMs + 5_000,
      s.esiErrorLowMark,
      RESERVE_COST,
      s.esiBucketMargin,
      group ? 1 : 0,
    );
    if (admitted === 1) return { reqId, route, group };
    const now = Date.now();
    if (now + waitMs > deadline) {
      // Short holds (serial lock, errors in flight) come back soon; do not bounce a job for a few ms.
      throw new EsiBlockedError(REASONS[reason] ?? "guard", now + Math.max(waitMs, 1_000), { upstream: "esi", route });
    }
    await sleep(waitMs);
  }
}

/** What settle() needs of a response; undefined when none came (timeout, reset). */
export interface Outcome {
  status: number;
  headers: Record<string, string>;
}

/** Parses `3600/15m` → { limit: 3600, windowMs: 900000 }. */
export function parseRateLimit(value: string | undefined): { limit: number; windowMs: number } | undefined {
  const m = value ? /^\s*(\d+)\s*\/\s*(\d+)\s*([smhd])\s*$/.exec(value) : null;
  if (!m) return undefined;
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[3] as "s" | "m" | "h" | "d"];
  return { limit: Number(m[1]), windowMs: Number(m[2]) * unit };
}

/** Records a response (or its absence) in the shared budget: error limit, guard, bucket, pauses. */
export async function settle(ticket: Ticket, outcome: Outcome | undefined): Promise<void> {
  const s = upstreamSettings();
  const k = esiKeys();
  const h = outcome?.headers ?? {};
  const group = h["x-ratelimit-group"] || ticket.group || "";
  if (group) learned.set(ticket.route, { group, until: Infinity });
  const rl = parseRateLimit(h["x-ratelimit-limit"]);
  const str = (n: number | undefined) => (n === undefined ? "" : String(n));
  await client().esiSettle(
    k.guard,
    k.errors,
    k.inflight,
    k.serial,
    k.serialLock,
    group ? k.pause(group) : k.pause(`route:${ticket.route}`),
    k.bucket(group || "-"),
    k.bucketLog(group || "-"),
    k.events,
    k.groups,
    k.active,
    ticket.reqId,
    outcome?.status ?? 0,
    str(intHeader(h["x-esi-error-limit-remain"])),
    str(intHeader(h["x-esi-error-limit-reset"])),
    s.esiErrorLowMark,
    s.esiSerialMs,
    group,
    str(rl?.limit),
    str(rl?.windowMs),
    str(intHeader(h["x-ratelimit-remaining"])),
    str(intHeader(h["retry-after"])),
    RESERVE_COST,
    ticket.route,
    outcome ? tokenCost(outcome.status) : -1,
  );
}

/** A guard or pause as recorded when it was set (newest first); for operators and tests. */
export interface BudgetEvent {
  kind: "guard" | "pause";
  reason: string;
  setAt: number;
  until: number;
  group?: string;
  remain?: number;
  /** Requests already sent (in flight) when the guard went up. */
  inflight?: number;
  extends?: boolean;
}

export async function budgetEvents(): Promise<BudgetEvent[]> {
  const raw = await client().lrange(esiKeys().events, 0, -1);
  return raw.map((r) => JSON.parse(r) as BudgetEvent);
}

/** The shared state as operators see it (`guardUntil` 0 when no guard). */
export async function budgetState(): Promise<{
  guardUntil: number;
  guardReason: string | null;
  errorRemain: number | null;
  errorResetAt: number | null;
  serialUntil: number;
  inflight: number;
}> {
  const k = esiKeys();
  const r = client();
  const [guard, errors, serial, inflight] = await Promise.all([
    r.hgetall(k.guard),
    r.hgetall(k.errors),
    r.get(k.serial),
    r.zcount(k.active, Date.now(), "+inf"),
  ]);
  return {
    guardUntil: Number(guard.until ?? 0),
    guardReason: guard.reason ?? null,
    errorRemain: errors.remain === undefined ? null : Number(errors.remain),
    errorResetAt: errors.resetAt === undefined ? null : Number(errors.resetAt),
    serialUntil: Number(serial ?? 0),
    inflight,
  };
}
