// The zKillboard killmail API: GET {ZKB_URL}/{characterID|corporationID|allianceID}/{id}/page/{n}/
// (an entity's kills) and {ZKB_URL}/killID/{id}/ (one kill, for zKillboard URLs, which carry no hash);
// trailing slash, no query string, gzip, User-Agent, a timeout, and one request per ZKB_INTERVAL_MS
// across every process (Redis). Error answers are counted in Redis too: past ZKB_ERROR_BUDGET in 5
// minutes we stop asking before zKillboard blocks us. Elements are full ESI killmails plus `zkb`; the
// legacy `[{killmail_id, zkb}]` form gives ids and hashes only.
import { z } from "zod";
import { EsiBlockedError, errorForStatus, errorMessage, InvalidError, RetryableError } from "../esi/errors.ts";
import { type HttpResponse, httpRequest, intHeader } from "../esi/http.ts";
import type { EsiKillmail } from "../esi/killmail-schema.ts";
import { upstreamSettings } from "../esi/settings.ts";
import { config, requireEsiUserAgent } from "../helpers/config.ts";
import { log } from "../helpers/logger.ts";
import { redis } from "../helpers/redis.ts";
import { waitForSlot } from "./pace.ts";
import { type ZkbBlock, zkbApiFullSchema, zkbApiLegacySchema } from "./schemas.ts";

export type ZkbModifier = "characterID" | "corporationID" | "allianceID";

export interface ZkbKill {
  killmailId: number;
  hash: string;
  /** The ESI body (absent in the legacy form: fetch it from ESI if needed). */
  esi: EsiKillmail | undefined;
  zkb: ZkbBlock;
}

const ERROR_WINDOW_MS = 5 * 60_000;
const ROUTE = "/{modifier}/{id}/page/{n}/";
const KILL_ROUTE = "/killID/{id}/";

function keys() {
  const p = `${config().queuePrefix}:zkb`;
  return { pause: `${p}:pause`, errors: `${p}:errors` };
}

async function pauseUntil(): Promise<number> {
  return Number((await redis().get(keys().pause)) ?? 0);
}

/** When zKillboard must not be asked before some time (a 429, a block, our own error budget). */
async function blockedUntil(): Promise<number> {
  const k = keys();
  const now = Date.now();
  const [pause, errors] = await Promise.all([
    redis().get(k.pause),
    redis().zrangebyscore(k.errors, now - ERROR_WINDOW_MS, "+inf", "WITHSCORES"),
  ]);
  let until = Number(pause ?? 0);
  const budget = upstreamSettings().zkbErrorBudget;
  const count = errors.length / 2;
  if (count >= budget) {
    // the oldest errors that must age out before we are under budget again
    const oldest = Number(errors[(count - budget) * 2 + 1]);
    until = Math.max(until, oldest + ERROR_WINDOW_MS + 1_000);
  }
  return until > now ? until : 0;
}

async function recordError(res: HttpResponse): Promise<void> {
  const k = keys();
  const now = Date.now();
  await redis()
    .multi()
    .zadd(k.errors, now, `${now}-${Math.random().toString(36).slice(2, 8)}`)
    .zremrangebyscore(k.errors, "-inf", now - ERROR_WINDOW_MS)
    .pexpire(k.errors, ERROR_WINDOW_MS)
    .exec();
  let pauseMs = 0;
  if (res.status === 429) pauseMs = (intHeader(res.headers["retry-after"]) ?? 5) * 1000;
  else if (res.status === 403 && /block/i.test(errorMessage(res.text))) pauseMs = ERROR_WINDOW_MS;
  if (pauseMs > 0) await redis().set(k.pause, String(now + pauseMs), "PX", pauseMs);
}

export interface ZkbOptions {
  /** How long to wait inline for the shared 1 req/s slot or a pause (default ESI_MAX_INLINE_WAIT_MS). */
  maxWaitMs?: number;
}

/**
 * One page (1–100, newest first) of an entity's kills and losses. Throws NotFoundError (404),
 * InvalidError (bad request, 403), RetryableError (5xx, timeout, malformed body) or EsiBlockedError
 * (wait: rate limit, block, pacing) — withEsi() turns the last into a delayed job.
 */
export async function getZkbKills(modifier: ZkbModifier, id: number, page = 1, opts: ZkbOptions = {}): Promise<ZkbKill[]> {
  if (!Number.isSafeInteger(id) || id <= 0) throw new TypeError(`id must be a positive integer, got ${id}`);
  if (!Number.isInteger(page) || page < 1 || page > 100) throw new TypeError(`page must be 1–100, got ${page}`);
  return zkbGetKills(ROUTE, `${config().zkbUrl}/${modifier}/${id}/page/${page}/`, opts);
}

/**
 * One kill by id (GET /killID/{id}/): its hash and, since 2026-06, its ESI body; null when zKillboard
 * does not list it (`[]`). Throws like getZkbKills.
 */
export async function getZkbKill(killmailId: number, opts: ZkbOptions = {}): Promise<ZkbKill | null> {
  if (!Number.isSafeInteger(killmailId) || killmailId <= 0)
    throw new TypeError(`killmail id must be a positive integer, got ${killmailId}`);
  const kills = await zkbGetKills(KILL_ROUTE, `${config().zkbUrl}/killID/${killmailId}/`, opts);
  return kills.find((k) => k.killmailId === killmailId) ?? null;
}

/** GET of an API URL answering a killmail list: pacing, pauses, error budget, parsing. */
async function zkbGetKills(route: string, url: string, opts: ZkbOptions): Promise<ZkbKill[]> {
  const userAgent = requireEsiUserAgent();
  const s = upstreamSettings();
  const maxWaitMs = opts.maxWaitMs ?? s.esiMaxInlineWaitMs;
  const where = { upstream: "zkb" as const, route, url };

  const deadline = Date.now() + maxWaitMs;
  let res: HttpResponse;
  for (;;) {
    const until = await blockedUntil();
    if (until > deadline) throw new EsiBlockedError(until > (await pauseUntil()) ? "zkb-errors" : "pause", until, where);
    if (until > 0) await new Promise((r) => setTimeout(r, until - Date.now()));
    const slot = await waitForSlot("zkb", s.zkbIntervalMs, Math.max(0, deadline - Date.now()));
    if (!slot.ok) throw new EsiBlockedError("pause", slot.until, where);

    const sentAt = Date.now();
    res = await httpRequest({ upstream: "zkb", route, url, headers: { "user-agent": userAgent }, timeoutMs: s.zkbTimeoutMs });
    log("zkb").debug({ route, url, status: res.status, ms: res.ms, sentAt }, "zkb call");
    if (res.status === 200) break;
    await recordError(res);
    if (res.status === 429) {
      // Someone else on this IP used the second (or clocks disagree): wait Retry-After if allowed.
      const retryAt = Date.now() + (intHeader(res.headers["retry-after"]) ?? 5) * 1000;
      log("zkb").warn({ url, retryAt }, "zkb rate-limited (429)");
      if (retryAt <= deadline) continue;
      throw new EsiBlockedError("rate-limit", retryAt, where);
    }
    if (res.status === 403 && /block/i.test(errorMessage(res.text)))
      throw new EsiBlockedError("zkb-errors", Date.now() + ERROR_WINDOW_MS, where);
    throw errorForStatus({ ...where, status: res.status }, res.text);
  }
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    throw new RetryableError(`zkb ${route}: malformed JSON (${res.text.length} bytes)`, { ...where, status: 200 });
  }
  if (!Array.isArray(body)) {
    const parsedError = z.object({ error: z.string() }).safeParse(body);
    if (parsedError.success) throw new InvalidError(`zkb ${route}: ${parsedError.data.error}`, { ...where, status: 200 });
    throw new RetryableError(`zkb ${route}: expected an array`, { ...where, status: 200 });
  }
  try {
    return parseZkbPage(body);
  } catch (err) {
    throw new RetryableError(`zkb ${route}: ${(err as Error).message}`, { ...where, status: 200 }, { cause: err });
  }
}

/**
 * The elements of one API page: full ESI killmails plus zkb (validated as such), or the legacy
 * `{killmail_id, zkb}` form (id and hash only). Throws on an element that is neither.
 */
export function parseZkbPage(body: readonly unknown[]): ZkbKill[] {
  return body.map((element, i) => {
    const full = zkbApiFullSchema.safeParse(element);
    if (full.success) {
      const { zkb, ...esi } = full.data;
      return { killmailId: esi.killmail_id, hash: zkb.hash, esi, zkb };
    }
    const legacy = zkbApiLegacySchema.safeParse(element);
    if (legacy.success && !(element && typeof element === "object" && "victim" in element)) {
      return { killmailId: legacy.data.killmail_id, hash: legacy.data.zkb.hash, esi: undefined, zkb: legacy.data.zkb };
    }
    const issue = full.error.issues[0];
    throw new Error(`element ${i} is neither a killmail with zkb nor {killmail_id, zkb}: ${issue?.path.join(".")}: ${issue?.message}`);
  });
}
