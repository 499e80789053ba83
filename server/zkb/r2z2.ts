// The R2Z2 client (zKillboard's live feed and daily history, NOTES.md "zKillboard"): sequence.json, one
// envelope per sequence number (null past the head: caught up), history totals, day maps and raw ESI
// bodies. For the listener's convenience it retries 5xx, timeouts, resets, malformed bodies and 429s
// itself with exponential backoff, a bounded number of times (R2Z2_ATTEMPTS), and spaces requests
// across processes (R2Z2_INTERVAL_MS). Bodies are validated with zod.
import type { z } from "zod";
import { errorForStatus, RetryableError } from "../esi/errors.ts";
import { httpRequest, intHeader, sleep } from "../esi/http.ts";
import type { EsiKillmail } from "../esi/killmail-schema.ts";
import { upstreamSettings } from "../esi/settings.ts";
import { config, requireEsiUserAgent } from "../helpers/config.ts";
import { log } from "../helpers/logger.ts";
import { waitForSlot } from "./pace.ts";
import { indexRawDay, RawDayFormatError, type RawDayIndex } from "./raw-day.ts";
import {
  historyDaySchema,
  historyRawSchema,
  historyTotalsSchema,
  type R2z2Envelope,
  r2z2EnvelopeSchema,
  r2z2SequenceSchema,
} from "./schemas.ts";

export type { R2z2Envelope } from "./schemas.ts";

/** Turns a 200 body into a value; throws BodyError when the body is not what the route serves. */
type Decode<T> = (text: string) => T;

class BodyError extends Error {}

/** JSON validated by a zod schema. */
function json<T>(schema: z.ZodType<T>): Decode<T> {
  return (text) => {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new BodyError(`malformed JSON (${text.length} bytes)`);
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new BodyError(`unexpected body at ${issue?.path.join(".") || "(root)"}: ${issue?.message}`);
    }
    return parsed.data;
  };
}

/** GET with retries (a body that does not decode is retried too); `null` for a 404 when allowed. */
async function r2z2Get<T>(route: string, path: string, schema: z.ZodType<T> | Decode<T>, allow404: true): Promise<T | null>;
async function r2z2Get<T>(route: string, path: string, schema: z.ZodType<T> | Decode<T>, allow404?: false): Promise<T>;
async function r2z2Get<T>(route: string, path: string, schema: z.ZodType<T> | Decode<T>, allow404 = false): Promise<T | null> {
  const decode = typeof schema === "function" ? schema : json(schema);
  const userAgent = requireEsiUserAgent();
  const s = upstreamSettings();
  const url = `${config().r2z2Url}${path}`;
  const where = { upstream: "r2z2" as const, route, url };
  const logger = log("r2z2");
  for (let attempt = 1; ; attempt++) {
    let retryAfterMs: number | undefined;
    try {
      await waitForSlot("r2z2", s.r2z2IntervalMs);
      const res = await httpRequest({ upstream: "r2z2", route, url, headers: { "user-agent": userAgent }, timeoutMs: s.r2z2TimeoutMs });
      logger.debug({ route, url, status: res.status, ms: res.ms }, "r2z2 call");
      if (res.status === 404 && allow404) return null;
      if (res.status === 429) {
        retryAfterMs = (intHeader(res.headers["retry-after"]) ?? 1) * 1000;
        throw new RetryableError(`r2z2 ${route} → 429`, { ...where, status: 429 });
      }
      if (res.status !== 200) throw errorForStatus({ ...where, status: res.status }, res.text);
      try {
        return decode(res.text);
      } catch (err) {
        if (err instanceof BodyError || err instanceof RawDayFormatError) {
          throw new RetryableError(`r2z2 ${route}: ${err.message}`, { ...where, status: 200 });
        }
        throw err;
      }
    } catch (err) {
      if (!(err instanceof RetryableError) || attempt >= s.r2z2Attempts) throw err;
      const backoff = retryAfterMs ?? s.r2z2BackoffMs * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5);
      logger.warn({ route, url, attempt, err: err.message, retryInMs: Math.round(backoff) }, "r2z2 call failed, retrying");
      await sleep(backoff);
    }
  }
}

/** The newest sequence number R2Z2 reports (it may lag the real head by up to ~51 kills). */
export async function getSequence(): Promise<number> {
  return (await r2z2Get("sequence", "/ephemeral/sequence.json", r2z2SequenceSchema)).sequence;
}

/** The envelope of sequence number n, or null when n is past the head (caught up: wait ~6 s, ask again). */
export async function getEphemeral(n: number): Promise<R2z2Envelope | null> {
  if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`sequence must be a non-negative integer, got ${n}`);
  return r2z2Get("ephemeral", `/ephemeral/${n}.json`, r2z2EnvelopeSchema, true);
}

/** Kills per day: { YYYYMMDD: count }. */
export async function getHistoryTotals(): Promise<Record<string, number>> {
  return r2z2Get("history_totals", "/history/totals.json", historyTotalsSchema);
}

function assertDay(day: string): string {
  if (!/^\d{8}$/.test(day)) throw new TypeError(`day must be YYYYMMDD, got '${day}'`);
  return day;
}

/** Killmail id → hash of every kill of a day (UTC); null when R2Z2 has no file for that day (404). */
export async function getHistoryDay(day: string): Promise<Map<number, string> | null> {
  const body = await r2z2Get("history_day", `/history/${assertDay(day)}.json`, historyDaySchema, true);
  return body && new Map(Object.entries(body).map(([id, hash]) => [Number(id), hash]));
}

/** Killmail id → ESI body of every kill of a day (UTC); null when R2Z2 has no file for that day (404). */
export async function getHistoryRaw(day: string): Promise<Map<number, EsiKillmail> | null> {
  const body = await r2z2Get("history_raw", `/history/raw/${assertDay(day)}.json`, historyRawSchema, true);
  return body && new Map(Object.entries(body).map(([id, esi]) => [Number(id), esi]));
}

/**
 * Like getHistoryRaw, for bulk imports: the day kept as text and each body parsed (unchecked) only when
 * asked for (server/zkb/raw-day.ts), so a big day costs about its file in memory, not its object tree;
 * the import validates every body itself so that one bad body costs that kill its body, not the whole day.
 */
export async function getHistoryRawIndex(day: string): Promise<RawDayIndex | null> {
  return r2z2Get("history_raw", `/history/raw/${assertDay(day)}.json`, indexRawDay, true);
}
