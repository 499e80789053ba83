// Tunables of the upstream clients (ESI, zKillboard API, R2Z2), read once from the environment and
// validated like config(): timeouts, the error-limit low mark, single-file mode after a guard, how long a
// caller waits inline before its job is delayed instead. Bad values are ConfigErrors naming the variable.
import { z } from "zod";
import { ConfigError } from "../helpers/config.ts";

export interface UpstreamSettings {
  /** ESI: whole-request timeout (connect, headers and body), ms. */
  esiTimeoutMs: number;
  /** ESI: when X-ESI-Error-Limit-Remain falls to this, every process stops calling ESI until the reset + 1 s. */
  esiErrorLowMark: number;
  /** ESI: after a guard, one request at a time (across all processes) for this many ms. */
  esiSerialMs: number;
  /** ESI and zKillboard API: waits (guard, bucket, pause, slot) up to this long happen inline; longer ones
   * throw EsiBlockedError (a job then waits in BullMQ's delayed set, see withEsi). */
  esiMaxInlineWaitMs: number;
  /** ESI: tokens of a rate-limit group kept unused as a safety margin. */
  esiBucketMargin: number;
  /** zKillboard API: whole-request timeout, ms. */
  zkbTimeoutMs: number;
  /** zKillboard API: spacing between requests across all processes, ms (zKillboard asks ~1/s; 10 % more
   * so that network and scheduling jitter do not put two requests inside one of its seconds). */
  zkbIntervalMs: number;
  /** zKillboard API: error answers allowed per 5 minutes before we stop asking (zKillboard blocks at 40). */
  zkbErrorBudget: number;
  /** R2Z2: whole-request timeout, ms. */
  r2z2TimeoutMs: number;
  /** R2Z2: spacing between requests across all processes, ms (R2Z2 allows ~20/s). */
  r2z2IntervalMs: number;
  /** R2Z2: attempts for 5xx/timeouts/resets inside the client (1 = no retry). */
  r2z2Attempts: number;
  /** R2Z2: first backoff delay, ms (doubles per attempt). */
  r2z2BackoffMs: number;
}

const int = (min: number) => z.coerce.number().int().min(min);

const schema = z.object({
  ESI_TIMEOUT_MS: int(1).default(10_000),
  ESI_ERROR_LOW_MARK: int(0).default(20),
  ESI_SERIAL_SECONDS: int(0).default(60),
  ESI_MAX_INLINE_WAIT_MS: int(0).default(3_000),
  ESI_BUCKET_MARGIN: int(0).default(0),
  ZKB_TIMEOUT_MS: int(1).default(15_000),
  ZKB_INTERVAL_MS: int(0).default(1_100),
  ZKB_ERROR_BUDGET: int(1).default(30),
  R2Z2_TIMEOUT_MS: int(1).default(10_000),
  R2Z2_INTERVAL_MS: int(0).default(55),
  R2Z2_ATTEMPTS: int(1).default(4),
  R2Z2_BACKOFF_MS: int(0).default(500),
});

export function parseUpstreamSettings(env: Record<string, string | undefined> = process.env): UpstreamSettings {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([k, v]) => k in schema.shape && v !== undefined && v !== ""));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? "environment");
    throw new ConfigError(`invalid ${variable}=${JSON.stringify(env[variable])}: ${issue.message}`);
  }
  const e = parsed.data;
  return {
    esiTimeoutMs: e.ESI_TIMEOUT_MS,
    esiErrorLowMark: e.ESI_ERROR_LOW_MARK,
    esiSerialMs: e.ESI_SERIAL_SECONDS * 1000,
    esiMaxInlineWaitMs: e.ESI_MAX_INLINE_WAIT_MS,
    esiBucketMargin: e.ESI_BUCKET_MARGIN,
    zkbTimeoutMs: e.ZKB_TIMEOUT_MS,
    zkbIntervalMs: e.ZKB_INTERVAL_MS,
    zkbErrorBudget: e.ZKB_ERROR_BUDGET,
    r2z2TimeoutMs: e.R2Z2_TIMEOUT_MS,
    r2z2IntervalMs: e.R2Z2_INTERVAL_MS,
    r2z2Attempts: e.R2Z2_ATTEMPTS,
    r2z2BackoffMs: e.R2Z2_BACKOFF_MS,
  };
}

let current: UpstreamSettings | undefined;

export function upstreamSettings(): UpstreamSettings {
  current ??= parseUpstreamSettings();
  return current;
}

/** Replaces some settings in this process (tests). */
export function setUpstreamSettings(patch: Partial<UpstreamSettings>): UpstreamSettings {
  current = { ...upstreamSettings(), ...patch };
  return current;
}
