// Which failures a retry can fix: a connection refused, reset or timed out, Postgres shutting down or
// out of connections, a serialization failure or deadlock, Redis gone, an upstream 5xx. Code that waits
// out outages (the R2Z2 listener, imports) retries these and gives up on anything else at once.
import { RetryableError } from "../esi/errors.ts";
import { TimeoutError } from "./timeout.ts";

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  // postgres.js
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
]);

/** SQLSTATE classes and codes of faults that pass: connection (08), resources (53), operator (57), retryable conflicts. */
const TRANSIENT_SQLSTATE = /^(08|53|57|40001$|40P01$|55P03$)/;

/**
 * A database error no retry can fix, because the data or the code says no: SQLSTATE class 22 (data
 * exception: a value out of range), 23 (constraint violation) and P0 (raised by a function or trigger).
 */
export function isPermanentDatabaseError(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && /^(22|23|P0)/.test(code);
}

/** A fault of our own infrastructure (Postgres, Redis, the network to them), not of an upstream. */
export function isInfrastructureOutage(err: unknown): boolean {
  return isTransientFailure(err) && !(err instanceof RetryableError);
}

export function isTransientFailure(err: unknown): boolean {
  if (err instanceof RetryableError || err instanceof TimeoutError) return true;
  const e = err as { code?: unknown; name?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === "string" ? e.code : "";
  if (NETWORK_CODES.has(code) || TRANSIENT_SQLSTATE.test(code)) return true;
  // ioredis: a command on a connection that is down or gave up reconnecting.
  if (e?.name === "MaxRetriesPerRequestError") return true;
  return typeof e?.message === "string" && /Connection is closed|Stream isn't writeable|connect ECONNREFUSED/.test(e.message);
}

/** Names of errors a retry can outlive (the classes above, as a failed job records them). */
const TRANSIENT_NAMES = new Set(["RetryableError", "TimeoutError", "MaxRetriesPerRequestError"]);
/** Names of errors no retry fixes (UnrecoverableError and the upstream 404/4xx classes). */
const PERMANENT_NAMES = new Set(["UnrecoverableError", "NotFoundError", "InvalidError", "InvalidPayloadError"]);

/**
 * isTransientFailure for a failure known only by its error name and message — a failed job keeps no
 * more (BullMQ stores the message and the stack). A Postgres SQLSTATE is not in the message, so database
 * faults count as transient only when their message names a connection problem.
 */
export function isTransientReason(name: string, message: string): boolean {
  if (PERMANENT_NAMES.has(name)) return false;
  if (TRANSIENT_NAMES.has(name)) return true;
  if ([...NETWORK_CODES].some((code) => message.includes(code))) return true;
  return /Connection is closed|Stream isn't writeable|connect ECONNREFUSED|timed out|did not answer within|terminating connection|too many clients|deadlock detected|could not serialize/i.test(
    message,
  );
}
