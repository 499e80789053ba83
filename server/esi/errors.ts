// What an upstream call can end in, as error classes processors and BullMQ understand:
// NotFoundError (404, permanent: the thing is gone), InvalidError (422 and other client errors:
// permanent, BullMQ's UnrecoverableError so no retries), RetryableError (5xx, timeouts, resets,
// malformed bodies: BullMQ retries with backoff) and EsiBlockedError (420/429/guard/pace/reserve/downtime:
// wait, then try again without spending an attempt; see withEsi in job.ts).
import { UnrecoverableError } from "bullmq";

export type Upstream = "esi" | "zkb" | "r2z2" | "sso";

interface Where {
  upstream: Upstream;
  /** Route template or short name, e.g. `/characters/{character_id}`. */
  route: string;
  url: string;
  status: number;
}

/** The thing asked for does not exist (404): a deleted character, a non-market type. Never retried. */
export class NotFoundError extends UnrecoverableError {
  override name = "NotFoundError";
  constructor(
    message: string,
    readonly where: Where,
  ) {
    super(message);
  }
}

/** The request itself is wrong (422 bad killmail hash, 400, 403…). Retrying cannot help. */
export class InvalidError extends UnrecoverableError {
  override name = "InvalidError";
  constructor(
    message: string,
    readonly where: Where,
  ) {
    super(message);
  }
}

/** Transient: 5xx, timeout, connection reset, truncated or unexpected body. BullMQ retries with backoff. */
export class RetryableError extends Error {
  override name = "RetryableError";
  constructor(
    message: string,
    readonly where: Where,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Why a call must wait: guard (error-limit floor or 420 guard), error-limit / rate-limit (a 420 / 429 just
 * came back), pause (a group's 429 pause), bucket (tokens spent), pace (error-counted requests spaced out),
 * reserve (the rest of the window's errors is kept for live work), downtime (Tranquility not answering),
 * zkb-errors (zKillboard API error budget).
 */
export type BlockReason = "guard" | "error-limit" | "rate-limit" | "pause" | "bucket" | "pace" | "reserve" | "downtime" | "zkb-errors";

/**
 * The upstream must not be called before `until` (epoch ms): the shared error-limit guard is up, a
 * group's bucket is empty, the pace or the live reserve holds the call back, Tranquility is down, or a
 * 420/429 just came back. Not a failure: the job waits (withEsi) without spending an attempt.
 */
export class EsiBlockedError extends Error {
  override name = "EsiBlockedError";
  constructor(
    readonly reason: BlockReason,
    readonly until: number,
    readonly where: Pick<Where, "upstream" | "route">,
  ) {
    super(`${where.upstream} ${where.route}: blocked (${reason}) for ${Math.max(0, until - Date.now())} ms`);
  }
}

/** The `error` message of an upstream error body (`{"error": "…"}`), or a short excerpt of the text. */
export function errorMessage(text: string): string {
  try {
    const body = JSON.parse(text) as unknown;
    if (body && typeof body === "object" && "error" in body && typeof body.error === "string") return body.error;
  } catch {
    // not JSON
  }
  return text.slice(0, 200) || "(empty body)";
}

/**
 * Maps a non-success status to its error. 420/429 are handled by the callers (they carry a wait);
 * here they become EsiBlockedError with `until` the caller computed.
 */
export function errorForStatus(where: Where, text: string, blockedUntil?: number): Error {
  const msg = `${where.upstream} ${where.route} → ${where.status}: ${errorMessage(text)}`;
  const s = where.status;
  if (s === 404) return new NotFoundError(msg, where);
  if (s === 420 || s === 429) {
    return new EsiBlockedError(s === 420 ? "error-limit" : "rate-limit", blockedUntil ?? Date.now() + 60_000, where);
  }
  if (s >= 500 || s === 408 || s === 0) return new RetryableError(msg, where);
  return new InvalidError(msg, where);
}

/** True for errors a caller should treat as "this entity is gone" (mark deleted, stop asking). */
export function isNotFound(err: unknown): err is NotFoundError {
  return err instanceof NotFoundError;
}
