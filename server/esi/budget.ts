// The ESI budget every process shares through Redis: one admission check before every request and one
// settlement after every response, each a Lua script (lua/) so all processes see one consistent state.
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
import { loadLua } from "../helpers/lua.ts";
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

// The scripts, each with its keys and arguments documented in its header (lua/*.lua).
const ACQUIRE = loadLua(new URL("./lua/acquire.lua", import.meta.url));
const SETTLE = loadLua(new URL("./lua/settle.lua", import.meta.url));

type BudgetCommands = {
  esiAcquire(...args: (string | number)[]): Promise<[number, number, string]>;
  esiSettle(...args: (string | number)[]): Promise<number>;
};

const prepared = new WeakSet<Redis>();

function client(): Redis & BudgetCommands {
  const r = redis();
  if (!prepared.has(r)) {
    r.defineCommand("esiAcquire", ACQUIRE);
    r.defineCommand("esiSettle", SETTLE);
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
    // keys, then arguments, in the order of lua/acquire.lua's header
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
  // keys, then arguments, in the order of lua/settle.lua's header
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
