// Configuration: read once from the environment, validated, typed. A bad value is a ConfigError that
// names the variable; entry points turn it into exit code 2 (see exitOnConfigError).
import { z } from "zod";

export const QUEUE_NAMES = ["killmail", "character", "corporation", "alliance", "type", "price", "backfill"] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export class ConfigError extends Error {
  override name = "ConfigError";
}

export interface QueueOverride {
  /** Worker concurrency (jobs in flight per process). */
  concurrency?: number;
  /** Max jobs started per second by this queue's workers (BullMQ limiter). */
  ratePerSecond?: number;
  /** Job lock in seconds: a job whose worker died returns to the queue after about this long. */
  lockSeconds?: number;
}

export interface Config {
  redisUrl: string;
  databaseUrl: string;
  queuePrefix: string;
  esiUrl: string;
  zkbUrl: string;
  r2z2Url: string;
  everefUrl: string;
  /** Required before any upstream call; see requireEsiUserAgent(). */
  esiUserAgent: string | undefined;
  adminToken: string | undefined;
  port: number;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** A worker process re-checks an entity a stored kill names at most this often (0: every kill). */
  fanOutRecheckSeconds: number;
  queues: Partial<Record<QueueName, QueueOverride>>;
}

const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    `must be a ${protocols.join(" or ")} URL`,
  );

const httpUrl = url(["http:", "https:"]).transform((v) => v.replace(/\/+$/, ""));
const positiveInt = z.coerce.number().int().positive();

const schema = z.object({
  REDIS_URL: url(["redis:", "rediss:"]).default("redis://127.0.0.1:6379"),
  DATABASE_URL: url(["postgres:", "postgresql:"]).default("postgres://postgres@127.0.0.1:5432/postgres"),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, '_', '.', '-' only")
    .default("bull"),
  ESI_URL: httpUrl.default("https://esi.evetech.net"),
  ZKB_URL: httpUrl.default("https://zkillboard.com/api"),
  R2Z2_URL: httpUrl.default("https://r2z2.zkillboard.com"),
  EVEREF_URL: httpUrl.default("https://data.everef.net"),
  ESI_USER_AGENT: z.string().trim().min(8, "must name the app and a contact (e.g. 'mykb/1.0 admin@example.com')").optional(),
  ADMIN_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  FANOUT_RECHECK_SECONDS: z.coerce.number().int().min(0).default(300),
});

const OVERRIDE = /^QUEUE_([A-Z]+)_(CONCURRENCY|RATE|LOCK_SECONDS)$/;

/** Parses an environment (process.env by default). Throws ConfigError naming the first bad variable. */
export function parseConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? "environment");
    throw new ConfigError(`invalid ${variable}=${JSON.stringify(redactValue(variable, env[variable]))}: ${issue.message}`);
  }
  const e = parsed.data;

  const queues: Config["queues"] = {};
  for (const [key, value] of Object.entries(cleaned)) {
    const m = OVERRIDE.exec(key);
    if (!m) continue;
    const queue = m[1]!.toLowerCase();
    if (!(QUEUE_NAMES as readonly string[]).includes(queue)) {
      throw new ConfigError(`invalid ${key}: no queue named '${queue}' (queues: ${QUEUE_NAMES.join(", ")})`);
    }
    const n = positiveInt.safeParse(value);
    if (!n.success) throw new ConfigError(`invalid ${key}=${JSON.stringify(value)}: must be a positive integer`);
    queues[queue as QueueName] ??= {};
    const entry = queues[queue as QueueName]!;
    if (m[2] === "CONCURRENCY") entry.concurrency = n.data;
    else if (m[2] === "RATE") entry.ratePerSecond = n.data;
    else entry.lockSeconds = n.data;
  }

  return {
    redisUrl: e.REDIS_URL,
    databaseUrl: e.DATABASE_URL,
    queuePrefix: e.QUEUE_PREFIX,
    esiUrl: e.ESI_URL,
    zkbUrl: e.ZKB_URL,
    r2z2Url: e.R2Z2_URL,
    everefUrl: e.EVEREF_URL,
    esiUserAgent: e.ESI_USER_AGENT,
    adminToken: e.ADMIN_TOKEN,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    fanOutRecheckSeconds: e.FANOUT_RECHECK_SECONDS,
    queues,
  };
}

let current: Config | undefined;

/** The process-wide configuration, parsed from process.env on first use. */
export function config(): Config {
  current ??= parseConfig();
  return current;
}

/** Replaces parts of the process-wide configuration (tests, the demo). */
export function setConfig(patch: Partial<Config>): Config {
  current = { ...config(), ...patch };
  return current;
}

/** The User-Agent for upstream calls; ESI asks every client to name itself and a contact. */
export function requireEsiUserAgent(cfg: Config = config()): string {
  if (!cfg.esiUserAgent) {
    throw new ConfigError(
      "ESI_USER_AGENT is required to call ESI/zKillboard: set it to your app name and a contact, e.g. 'mykillboard/1.0 (admin@example.com)'",
    );
  }
  return cfg.esiUserAgent;
}

/** Hides the password of a URL (redis://:secret@host → redis://:***@host). */
export function redactUrl(value: string): string {
  try {
    const u = new URL(value);
    if (u.password) u.password = "***";
    return u.toString().replace(/\/$/, value.endsWith("/") ? "/" : "");
  } catch {
    return value;
  }
}

function redactValue(variable: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (/TOKEN|SECRET|PASSWORD/.test(variable)) return "***";
  return variable.endsWith("_URL") ? redactUrl(value) : value;
}

/** Configuration safe to log (no secrets). */
export function describeConfig(cfg: Config = config()): Record<string, unknown> {
  return {
    redisUrl: redactUrl(cfg.redisUrl),
    databaseUrl: redactUrl(cfg.databaseUrl),
    queuePrefix: cfg.queuePrefix,
    esiUrl: cfg.esiUrl,
    zkbUrl: cfg.zkbUrl,
    r2z2Url: cfg.r2z2Url,
    everefUrl: cfg.everefUrl,
    esiUserAgent: cfg.esiUserAgent ?? null,
    adminToken: cfg.adminToken ? "***" : null,
    port: cfg.port,
    logLevel: cfg.logLevel,
    queues: cfg.queues,
  };
}

/** Runs an entry point; a ConfigError prints its message and exits 2. */
export function exitOnConfigError(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`configuration error: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}
