// The ESI client: one call = budget admission (budget.ts) → request with the required headers and a
// timeout → settlement → status mapped to a result or an error (errors.ts) → JSON validated with the
// route's zod schema. GETs are conditional: a caller passes the ETag it stored; a Redis memo of
// url → {etag, expires} shared by all processes answers "not modified" without asking ESI again
// before Expires. A 5xx or a missing answer while Tranquility is down is a wait (EsiBlockedError
// "downtime"), not a failure: no job spends an attempt on a downtime.
import type { z } from "zod";
import { config } from "../helpers/config.ts";
import { log } from "../helpers/logger.ts";
import { redis } from "../helpers/redis.ts";
import { acquire, checkStatus, esiKeys, type SettleResult, settle, type Ticket } from "./budget.ts";
import type { EsiClass } from "./caller.ts";
import { EsiBlockedError, errorForStatus, RetryableError } from "./errors.ts";
import { esiHeaders } from "./headers.ts";
import { type HttpResponse, httpDate, httpRequest, intHeader } from "./http.ts";
import { upstreamSettings } from "./settings.ts";

export { COMPATIBILITY_DATE } from "./headers.ts";

export interface EsiOk<T> {
  status: "ok";
  data: T;
  /** ETag to store and send back next time (undefined when ESI sent none, e.g. POST routes). */
  etag: string | undefined;
  /** Epoch ms before which ESI must not be asked again for this URL. */
  expires: number | undefined;
  lastModified: number | undefined;
  /** X-Pages of a paged route. */
  pages?: number | undefined;
}

export interface EsiNotModified {
  status: "not-modified";
  expires: number | undefined;
}

export type EsiResult<T> = EsiOk<T> | EsiNotModified;

export interface ConditionalOptions {
  /** The ETag of the copy the caller holds: ESI (or the memo) answers "not-modified" when it is current. */
  etag?: string | undefined;
}

export interface CallOptions extends ConditionalOptions {
  /** How long to wait inline for the budget before throwing EsiBlockedError (default ESI_MAX_INLINE_WAIT_MS). */
  maxWaitMs?: number;
  /** Who the call serves: "high" may spend the live reserve (default: the surrounding withEsiClass(), else "normal"). */
  class?: EsiClass;
}

export interface EsiCall<T> {
  method: "GET" | "POST";
  /** Path template, e.g. `/characters/{character_id}` (budget, logs). */
  route: string;
  /** Concrete path, e.g. `/characters/90000001`. */
  path: string;
  query?: Record<string, string | number>;
  body?: unknown;
  schema: z.ZodType<T>;
  /** Keep a url → etag/expires memo (GETs of refreshable resources). */
  memo?: boolean;
  /**
   * An authenticated route: the character's access token (sent as a bearer token, never logged) and
   * its id, whose own bucket of the route's group the budget draws on.
   */
  auth?: { accessToken: string; characterId: number };
}

export function esiUrl(path: string, query?: Record<string, string | number>): string {
  const qs = query ? `?${new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString()}` : "";
  return `${config().esiUrl}${path}${qs}`;
}

interface Memo {
  etag: string | undefined;
  expires: number;
}

async function readMemo(url: string): Promise<Memo | undefined> {
  const m = await redis().hgetall(esiKeys().memo(url));
  if (!m.expires) return undefined;
  return { etag: m.etag || undefined, expires: Number(m.expires) };
}

async function writeMemo(url: string, etag: string | undefined, expires: number | undefined): Promise<void> {
  if (!expires || expires <= Date.now()) return;
  const key = esiKeys().memo(url);
  const fields: Record<string, string> = { expires: String(expires) };
  if (etag) fields.etag = etag;
  await redis().multi().del(key).hset(key, fields).pexpireat(key, expires).exec();
}

/** Sends one ESI request and returns its result; throws NotFoundError, InvalidError, RetryableError or EsiBlockedError. */
export async function esiCall<T>(call: EsiCall<T>, opts: CallOptions = {}): Promise<EsiResult<T>> {
  const base = esiHeaders();
  const url = esiUrl(call.path, call.query);
  const logger = log("esi");
  const where = { upstream: "esi" as const, route: call.route, url };

  if (call.memo && opts.etag) {
    // The caller holds the copy the memo describes and it is still fresh: do not ask ESI again.
    const memo = await readMemo(url);
    if (memo && memo.expires > Date.now() && memo.etag === opts.etag) {
      logger.debug({ route: call.route, url, status: "memo", expires: memo.expires }, "esi fresh (not asked)");
      return { status: "not-modified", expires: memo.expires };
    }
  }

  const headers: Record<string, string> = { ...base };
  if (opts.etag && call.method === "GET") headers["if-none-match"] = opts.etag;
  if (call.body !== undefined) headers["content-type"] = "application/json";
  if (call.auth) headers.authorization = `Bearer ${call.auth.accessToken}`;

  const ticket: Ticket = await acquire(call.route, {
    ...(opts.maxWaitMs === undefined ? {} : { maxWaitMs: opts.maxWaitMs }),
    ...(opts.class === undefined ? {} : { class: opts.class }),
    ...(call.auth ? { scope: String(call.auth.characterId) } : {}),
  });
  let res: HttpResponse | undefined;
  let failure: unknown;
  try {
    res = await httpRequest({
      upstream: "esi",
      route: call.route,
      url,
      method: call.method,
      headers,
      ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
      timeoutMs: upstreamSettings().esiTimeoutMs,
    });
  } catch (err) {
    failure = err;
  }
  let settled: SettleResult = await settle(ticket, res && { status: res.status, headers: res.headers });
  // The first 5xx of a run: is it Tranquility (GET /status fails too) or this route?
  if (settled.check) settled = await checkStatus();
  if (!res) {
    logger.debug({ route: call.route, url, status: 0, err: (failure as Error).message }, "esi call failed");
    if (settled.down) throw new EsiBlockedError("downtime", settled.until, where);
    throw failure;
  }
  logger.debug({ route: call.route, url, status: res.status, ms: res.ms }, "esi call");
  if (res.status >= 500 && settled.down) throw new EsiBlockedError("downtime", settled.until, where);

  const expires = httpDate(res.headers.expires);
  const etag = res.headers.etag || undefined;
  const s = res.status;
  if (s === 304) {
    if (call.memo) await writeMemo(url, etag ?? opts.etag, expires);
    return { status: "not-modified", expires };
  }
  if (s >= 200 && s < 300) {
    let json: unknown;
    try {
      json = JSON.parse(res.text);
    } catch {
      throw new RetryableError(`esi ${call.route}: malformed JSON (${res.text.length} bytes)`, { ...where, status: s });
    }
    const parsed = call.schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new RetryableError(`esi ${call.route}: unexpected body at ${issue?.path.join(".") || "(root)"}: ${issue?.message}`, {
        ...where,
        status: s,
      });
    }
    if (call.memo) await writeMemo(url, etag, expires);
    const pages = intHeader(res.headers["x-pages"]);
    return { status: "ok", data: parsed.data, etag, expires, lastModified: httpDate(res.headers["last-modified"]), pages };
  }
  if (s === 420 || s === 429) {
    const seconds = s === 429 ? Number(res.headers["retry-after"]) : Number(res.headers["x-esi-error-limit-reset"]);
    const until = Date.now() + (Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 + (s === 420 ? 1000 : 0) : 60_000);
    logger.warn({ route: call.route, url, status: s, until }, s === 420 ? "esi error-limited (420)" : "esi rate-limited (429)");
    throw new EsiBlockedError(s === 420 ? "error-limit" : "rate-limit", until, where);
  }
  throw errorForStatus({ ...where, status: s }, res.text);
}
