// The ESI budget every process shares through Redis: one admission check before every request and one
// settlement after every response, each a Lua script (lua/) so all processes see one consistent state.
//  - error limit: X-ESI-Error-Limit-Remain/-Reset of every response are recorded; requests in flight count
//    as potential errors. Below a threshold, error-counted requests are paced (the errors left above the
//    caller's floor spread over the time left in the window, at the recent error share of answers);
//    "normal" callers stop at the low mark + a live reserve, "high" ones (live work, on-demand) at the low
//    mark, the hard floor: there, or on a 420, nobody may call ESI until the reset + 1 s, then one request
//    at a time for a while.
//  - Tranquility downtime: a run of 502/503/504 (from two routes, or confirmed by GET /status) refuses every
//    call until a /status probe, one at a time and spaced, gets an answer.
//  - per-group floating-window token buckets (X-Ratelimit-Group/-Limit/-Remaining): a request reserves the
//    worst cost (5) before it is sent; the real cost (2xx 2, 3xx 1, 4xx 5, 5xx 0) replaces it after.
//  - 429 Retry-After pauses the group (or the route) for everyone.
// Each change of mode (pacing, reserve, guard, downtime) is decided inside a script, so exactly one caller
// of all processes logs it (one warn line) and it is kept in budgetEvents().
// Keys live under `${queuePrefix}:esi:` (see README.md in this folder).
import { randomBytes } from "node:crypto";
import { config } from "../helpers/config.ts";
import { log } from "../helpers/logger.ts";
import { loadLua, scriptedRedis } from "../helpers/lua.ts";
import { esiResponseClass, esiResponses } from "../metrics/registry.ts";
import { currentEsiClass, type EsiClass } from "./caller.ts";
import { type BlockReason, EsiBlockedError } from "./errors.ts";
import { esiHeaders } from "./headers.ts";
import { httpDate, httpRequest, intHeader, sleep } from "./http.ts";
import { upstreamSettings } from "./settings.ts";

/** Route groups known from the spec (x-rate-limit) before any response told us. */
export const SPEC_ROUTE_GROUPS: Record<string, string> = {
  "/killmails/{killmail_id}/{killmail_hash}": "killmail",
  "/status": "status",
  "/characters/{character_id}/killmails/recent": "char-killmail",
  "/corporations/{corporation_id}/killmails/recent": "corp-killmail",
};

/** GET /status: the cluster's state; the budget's downtime checks and probes. */
export const STATUS_ROUTE = "/status";

/**
 * The bucket a request draws on: the group's (per IP), or for an authenticated route the group's
 * bucket of one character (ESI keeps those per application + character), `<group>:<scope>`.
 */
export function bucketName(group: string, scope: string | undefined): string {
  return scope ? `${group}:${scope}` : group;
}

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
    paceSlot: (cls: EsiClass) => `${p}:pace:${cls}`,
    modes: `${p}:modes`,
    downtime: `${p}:downtime`,
    probeLock: `${p}:probe-lock`,
    streak: `${p}:5xx-streak`,
    statusCheck: `${p}:status-check`,
    statusFresh: `${p}:status-fresh`,
    routeErrors: `${p}:route-errors`,
  };
}

// The scripts, each with its keys and arguments documented in its header (lua/*.lua).
const ACQUIRE = loadLua(new URL("./lua/acquire.lua", import.meta.url));
const SETTLE = loadLua(new URL("./lua/settle.lua", import.meta.url));

type BudgetCommands = {
  esiAcquire(...args: (string | number)[]): Promise<[number, number, string, number, string]>;
  esiSettle(...args: (string | number)[]): Promise<[number, number, number, string]>;
};

const client = scriptedRedis<BudgetCommands>({ esiAcquire: ACQUIRE, esiSettle: SETTLE });

/** One admitted request: pass it to settle() with the response. */
export interface Ticket {
  reqId: string;
  route: string;
  group: string | undefined;
  /** The character whose bucket of the group was drawn on (authenticated routes). */
  scope?: string | undefined;
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

/** Options of one admission: how long to wait inline before giving up with EsiBlockedError, and for whom. */
export interface AcquireOptions {
  maxWaitMs?: number;
  /** Who the call serves (default: the surrounding withEsiClass(), else "normal"); see caller.ts. */
  class?: EsiClass;
  /** Authenticated routes: the character whose token is sent (its own bucket of the route's group). */
  scope?: string;
}

const REASONS: Record<string, BlockReason> = {
  guard: "guard",
  pause: "pause",
  bucket: "bucket",
  errors: "guard",
  serial: "guard",
  pace: "pace",
  reserve: "reserve",
  downtime: "downtime",
};

/**
 * Waits until the shared budget admits one request to `route` (a path template). Short waits happen
 * inline; when the budget will not admit it within maxWaitMs, throws EsiBlockedError with the time
 * to come back. During a downtime the caller whose turn it is sends the /status probe first.
 */
export async function acquire(route: string, opts: AcquireOptions = {}): Promise<Ticket> {
  const s = upstreamSettings();
  const maxWaitMs = opts.maxWaitMs ?? s.esiMaxInlineWaitMs;
  const cls = opts.class ?? currentEsiClass();
  const deadline = Date.now() + maxWaitMs;
  const k = esiKeys();
  const group = await groupOf(route);
  const reqId = `${process.pid}.${instance}.${++counter}`;
  const routePause = k.pause(`route:${route}`);
  const bucket = group ? bucketName(group, opts.scope) : "-";
  for (;;) {
    // keys, then arguments, in the order of lua/acquire.lua's header
    const [admitted, waitMs, reason, untilMs, reports] = await client().esiAcquire(
      k.guard,
      k.errors,
      k.inflight,
      k.serial,
      k.serialLock,
      group ? k.pause(bucket) : routePause,
      routePause,
      k.bucket(bucket),
      k.bucketLog(bucket),
      k.active,
      k.paceSlot(cls),
      k.modes,
      k.downtime,
      k.probeLock,
      k.statusFresh,
      k.routeErrors,
      k.events,
      reqId,
      s.esiTimeoutMs + 5_000,
      s.esiErrorLowMark,
      RESERVE_COST,
      s.esiBucketMargin,
      group ? 1 : 0,
      cls,
      s.esiLiveReserve,
      s.esiPacePercent,
      s.esiDowntimeProbeMs,
    );
    logReports(reports);
    if (admitted === 1) return { reqId, route, group, scope: opts.scope };
    if (reason === "probe") {
      // this caller's turn to ask ESI whether Tranquility is back; then ask the budget again
      await sendStatus({ reqId, route: STATUS_ROUTE, group: SPEC_ROUTE_GROUPS[STATUS_ROUTE] });
      continue;
    }
    const now = Date.now();
    if (now + waitMs > deadline) {
      // Short holds (serial lock, errors in flight) come back soon; do not bounce a job for a few ms.
      throw new EsiBlockedError(REASONS[reason] ?? "guard", now + Math.max(untilMs, waitMs, 1_000), { upstream: "esi", route });
    }
    await sleep(waitMs);
  }
}

/**
 * One GET /status under a ticket the budget gave (a downtime probe, or a check after a 5xx): its answer
 * is settled like any other (a 5xx confirms or continues a downtime, anything else ends it).
 */
async function sendStatus(ticket: Ticket): Promise<SettleResult> {
  const url = `${config().esiUrl}${STATUS_ROUTE}`;
  let outcome: Outcome | undefined;
  try {
    const res = await httpRequest({
      upstream: "esi",
      route: STATUS_ROUTE,
      url,
      headers: esiHeaders(),
      timeoutMs: upstreamSettings().esiTimeoutMs,
    });
    outcome = { status: res.status, headers: res.headers };
    log("esi").debug({ route: STATUS_ROUTE, url, status: res.status, ms: res.ms }, "esi status probe");
  } catch (err) {
    log("esi").debug({ route: STATUS_ROUTE, url, status: 0, err: (err as Error).message }, "esi status probe failed");
  }
  return settle(ticket, outcome);
}

/**
 * Asks GET /status now, when settle() said a 5xx calls for it: /status failing too means Tranquility is
 * down. Never throws; returns whether a downtime is on after it (and until when to stay away).
 */
export async function checkStatus(): Promise<SettleResult> {
  let ticket: Ticket;
  try {
    ticket = await acquire(STATUS_ROUTE, { maxWaitMs: 0, class: "high" });
  } catch (err) {
    // the budget says not now (guard, pause, a downtime started meanwhile): report the downtime if any
    const until = err instanceof EsiBlockedError && err.reason === "downtime" ? err.until : 0;
    return { down: until > 0, until, check: false };
  }
  return sendStatus(ticket);
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

/** What the budget concluded from one answer. */
export interface SettleResult {
  /** A downtime is on (Tranquility is not answering): the caller's 5xx or missing answer is a wait, not a failure. */
  down: boolean;
  /** While down: epoch ms of the next /status probe (come back then). */
  until: number;
  /** The answer was the first 5xx of a run: check GET /status now (checkStatus()). */
  check: boolean;
}

/** Records a response (or its absence) in the shared budget: error limit, guard, downtime, bucket, pauses. */
export async function settle(ticket: Ticket, outcome: Outcome | undefined): Promise<SettleResult> {
  const s = upstreamSettings();
  const k = esiKeys();
  const h = outcome?.headers ?? {};
  const group = h["x-ratelimit-group"] || ticket.group || "";
  esiResponses.inc({ group: group || "none", class: esiResponseClass(outcome?.status) });
  if (group) learned.set(ticket.route, { group, until: Infinity });
  const bucket = group ? bucketName(group, ticket.scope) : "-";
  const rl = parseRateLimit(h["x-ratelimit-limit"]);
  const str = (n: number | undefined) => (n === undefined ? "" : String(n));
  // a /status answer is not asked again before its Expires (ESI discourages it): no probe or check until then
  const expires = ticket.route === STATUS_ROUTE && outcome && outcome.status < 400 ? httpDate(h.expires) : undefined;
  // keys, then arguments, in the order of lua/settle.lua's header
  const [down, downIn, check, reports] = await client().esiSettle(
    k.guard,
    k.errors,
    k.inflight,
    k.serial,
    k.serialLock,
    group ? k.pause(bucket) : k.pause(`route:${ticket.route}`),
    k.bucket(bucket),
    k.bucketLog(bucket),
    k.events,
    k.groups,
    k.active,
    k.modes,
    k.downtime,
    k.probeLock,
    k.streak,
    k.statusCheck,
    k.statusFresh,
    k.routeErrors,
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
    s.esiDowntimeStreak,
    s.esiDowntimeProbeMs,
    expires === undefined ? 0 : Math.max(0, expires - Date.now()),
  );
  logReports(reports);
  return { down: down === 1, until: down === 1 ? Date.now() + Math.max(downIn, 1_000) : 0, check: check === 1 };
}

/** A change of the budget's mode, or a guard or pause, as recorded when it happened (newest first). */
export interface BudgetEvent {
  /**
   * guard: the guard went up (low mark or 420); guard-down: it ended; pause: a 429 paused a group;
   * pacing / pacing-end: error-counted requests are spaced out / a whole window passed without it;
   * reserve / reserve-end: "normal" callers refused until the window resets / a new window;
   * downtime / downtime-end: Tranquility not answering / a probe or call got an answer.
   */
  kind: "guard" | "guard-down" | "pause" | "pacing" | "pacing-end" | "reserve" | "reserve-end" | "downtime" | "downtime-end";
  reason: string;
  setAt: number;
  /** guard, pause: its end; pacing, reserve: the window's reset; downtime: the first probe; *-end: when it ended. */
  until: number;
  group?: string;
  remain?: number;
  /** The window's full allowance. */
  max?: number;
  /** Requests already sent (in flight) when the guard went up. */
  inflight?: number;
  extends?: boolean;
  /** Errors of the window per route (pacing, reserve, guard), 5xx of the run per route (downtime). */
  routes?: Record<string, number>;
  /** The route whose answer caused it (guard, downtime-end). */
  route?: string;
  /** downtime-end: when the downtime began. */
  since?: number;
}

export async function budgetEvents(): Promise<BudgetEvent[]> {
  const raw = await client().lrange(esiKeys().events, 0, -1);
  return raw.map((r) => JSON.parse(r) as BudgetEvent);
}

/** The routes that spent most errors, for a log line: `/characters/{character_id} ×14, …`. */
function topRoutes(routes: Record<string, number> | undefined): string {
  const top = Object.entries(routes ?? {})
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3);
  return top.length ? top.map(([r, n]) => `${r} ×${n}`).join(", ") : "no route of ours";
}

const at = (ms: number) => new Date(ms).toISOString();

function describeEvent(e: BudgetEvent): string {
  const left = `${e.remain} of ${e.max} errors left in the window`;
  switch (e.kind) {
    case "pacing":
      return `esi pacing: ${left}; error-counted requests spaced out until ${at(e.until)} (spent by ${topRoutes(e.routes)})`;
    case "pacing-end":
      return "esi pacing ended: a whole error window passed without it";
    case "reserve":
      return `esi live reserve: ${left}; only live work (priority ≤ 2, on-demand) may call error-counted routes until ${at(e.until)} (spent by ${topRoutes(e.routes)})`;
    case "reserve-end":
      return "esi live reserve released: a new error window";
    case "guard":
      return `esi guard up (${e.reason}, answered on ${e.route}): no ESI call until ${at(e.until)} (errors of the window from ${topRoutes(e.routes)})`;
    case "guard-down":
      return "esi guard down: calls resume";
    case "downtime":
      return `esi downtime (${e.reason}): Tranquility is not answering; every call refused, /status probed from ${at(e.until)} (5xx from ${topRoutes(e.routes)})`;
    case "downtime-end":
      return `esi downtime over (${e.route} answered ${e.reason.replace("status-", "")}): calls resume after ${Math.round((e.setAt - (e.since ?? e.setAt)) / 1000)} s`;
    default:
      return `esi ${e.kind} (${e.reason})`;
  }
}

/** One warn line per change of mode, from the one caller whose script call made it. */
function logReports(reports: string): void {
  if (!reports) return;
  for (const e of JSON.parse(reports) as BudgetEvent[]) {
    const { kind, ...fields } = e;
    log("esi").warn({ transition: kind, ...fields }, describeEvent(e));
  }
}

/** The shared state as operators see it (`guardUntil` 0 when no guard). */
export async function budgetState(): Promise<{
  guardUntil: number;
  guardReason: string | null;
  errorRemain: number | null;
  errorResetAt: number | null;
  /** The share of errors among recent answers on error-counted routes (what pacing expects; 1 until known). */
  errorShare: number;
  serialUntil: number;
  inflight: number;
  /** Error-counted requests are being spaced out (the window's Remain is below the pacing threshold). */
  pacing: boolean;
  /** "Normal" callers are refused until the window resets (Remain at the low mark + the live reserve). */
  reserve: boolean;
  /** Tranquility is not answering: since when, why, and when the next /status probe may go. */
  downtime: { since: number; reason: string; probeAt: number } | null;
  /** Errors of the current window per route. */
  routeErrors: Record<string, number>;
}> {
  const k = esiKeys();
  const r = client();
  const [guard, errors, serial, inflight, modes, downtime, routeErrors] = await Promise.all([
    r.hgetall(k.guard),
    r.hgetall(k.errors),
    r.get(k.serial),
    r.zcount(k.active, Date.now(), "+inf"),
    r.hgetall(k.modes),
    r.hgetall(k.downtime),
    r.hgetall(k.routeErrors),
  ]);
  return {
    guardUntil: Number(guard.until ?? 0),
    guardReason: guard.reason ?? null,
    errorRemain: errors.remain === undefined ? null : Number(errors.remain),
    errorResetAt: errors.resetAt === undefined ? null : Number(errors.resetAt),
    errorShare: errors.share === undefined ? 1 : Number(errors.share),
    serialUntil: Number(serial ?? 0),
    inflight,
    pacing: modes.pacing === "1",
    reserve: modes.reserve === "1",
    downtime:
      downtime.since === undefined
        ? null
        : { since: Number(downtime.since), reason: downtime.reason ?? "", probeAt: Number(downtime.probeAt ?? 0) },
    routeErrors: Object.fromEntries(Object.entries(routeErrors).map(([route, n]) => [route, Number(n)])),
  };
}

/** One route group's shared token bucket as operators see it (per IP; the per-character buckets are not listed). */
export interface GroupState {
  group: string;
  /** Tokens per window (X-Ratelimit-Limit), null until an answer told us. */
  limit: number | null;
  windowSeconds: number | null;
  /** Tokens spent or reserved in the current floating window. */
  used: number;
  /** limit − used (null while the limit is unknown). */
  tokensLeft: number | null;
  /** A 429 paused the group until then (epoch ms; 0: not paused). */
  pausedUntil: number;
}

/** Every route group known (from the spec or learned from answers) with its bucket and pause. */
export async function groupStates(now: number = Date.now()): Promise<GroupState[]> {
  const k = esiKeys();
  const r = client();
  const learnedGroups = Object.values(await r.hgetall(k.groups));
  const groups = [...new Set([...Object.values(SPEC_ROUTE_GROUPS), ...learnedGroups])].filter((g) => g !== "").sort();
  const pipeline = r.pipeline();
  for (const g of groups) {
    pipeline.hgetall(k.bucket(g));
    pipeline.get(k.pause(g));
  }
  const replies = (await pipeline.exec()) ?? [];
  const states: GroupState[] = [];
  for (const [i, group] of groups.entries()) {
    const bucket = (replies[i * 2]?.[1] ?? {}) as Record<string, string>;
    const pause = Number(replies[i * 2 + 1]?.[1] ?? 0);
    const limit = bucket.limit === undefined ? null : Number(bucket.limit);
    const windowMs = bucket.windowMs === undefined ? null : Number(bucket.windowMs);
    // The log holds the window's spendings (`[r:]<reqId>|<cost>` → ms); `used` in the hash is only trimmed on acquire.
    let used = 0;
    if (windowMs) {
      for (const m of await r.zrangebyscore(k.bucketLog(group), now - windowMs, "+inf"))
        used += Number(m.slice(m.lastIndexOf("|") + 1)) || 0;
    }
    states.push({
      group,
      limit,
      windowSeconds: windowMs === null ? null : windowMs / 1000,
      used,
      tokensLeft: limit === null ? null : Math.max(0, limit - used),
      pausedUntil: pause > now ? pause : 0,
    });
  }
  return states;
}
