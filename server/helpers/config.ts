// Configuration: every environment variable the project reads, in one schema, read once, validated,
// typed. A bad value is a ConfigError that names the variable (never showing a secret); entry points
// turn it into exit code 2 (see exitOnConfigError). README "Configuration" documents each variable and
// a test checks every documented one against this schema.
import { isIP } from "node:net";
import { z } from "zod";
import { QUEUE_NAMES, type QueueName } from "../queues/registry.ts";

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

/** Tunables of the upstream clients (ESI, zKillboard API, R2Z2); see server/esi/README.md. */
export interface UpstreamSettings {
  /** ESI: whole-request timeout (connect, headers and body), ms. */
  esiTimeoutMs: number;
  /** ESI: the hard floor: when X-ESI-Error-Limit-Remain falls to this, every process stops calling ESI
   * until the reset + 1 s. */
  esiErrorLowMark: number;
  /** ESI: after a guard, one request at a time (across all processes) for this many ms. */
  esiSerialMs: number;
  /** ESI and zKillboard API: waits (guard, bucket, pause, slot) up to this long happen inline; longer ones
   * throw EsiBlockedError (a job then waits in BullMQ's delayed set, see withEsi). */
  esiMaxInlineWaitMs: number;
  /** ESI: tokens of a rate-limit group kept unused as a safety margin. */
  esiBucketMargin: number;
  /** ESI: errors of each window above the low mark that only "high" callers (live work, on-demand) may
   * spend; "normal" callers stop at low mark + this (at most half of what lies above the low mark). */
  esiLiveReserve: number;
  /** ESI: pacing of error-counted requests starts once a caller's spendable errors (above its floor) fall
   * to this share (%) of the window's; 0 = no pacing (only the floors). */
  esiPacePercent: number;
  /** ESI: this many 502/503/504 answers in a row, from at least two routes, mean Tranquility is down. */
  esiDowntimeStreak: number;
  /** ESI: during a downtime, the first spacing of /status probes, ms (doubles up to 4×). */
  esiDowntimeProbeMs: number;
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
  /** R2Z2: how long the listener asks again for a number R2Z2 skipped before filling it from history. */
  r2z2GapRetryMinutes: number;
}

/**
 * Protection of POST /api/killmails, open to anyone (server/routes/intake-guard.ts). A "fetch" is a post
 * that costs an upstream call: its kill is neither stored, nor queued, nor a pair ESI refused, so it
 * needs an ESI killmail fetch (or, for a zKillboard URL, a zKillboard lookup). Limits count over a
 * rolling minute, in Redis (shared by every server process); 0 switches a limit off.
 */
export interface IntakeLimits {
  /** Largest request body accepted, bytes (413 above). */
  maxBodyBytes: number;
  /** Posts of any kind per client (cheap ones too: a repost of a stored kill). */
  clientPostsPerMinute: number;
  /** Fetches per client. */
  clientFetchesPerMinute: number;
  /** Fetches of all clients together. */
  totalFetchesPerMinute: number;
}

/** EVE SSO login and members' kill syncs (server/sso/README.md). */
export interface SsoSettings {
  /** The application's client id at CCP; login is off without it. */
  clientId: string | undefined;
  /** The application's secret (web apps); without it the token requests use PKCE alone (public client). */
  secret: string | undefined;
  /** Where the SSO sends the browser back: this server's /auth/callback as registered at CCP. */
  callbackUrl: string | undefined;
  /** The SSO's base URL (metadata at /.well-known/oauth-authorization-server). */
  url: string;
  /** AES-256 keys for refresh tokens at rest: the first encrypts, every one decrypts (rotation). */
  encryptionKeys: Buffer[];
  /** Seconds between two syncs of one member's recent kills (jittered; never before ESI's Expires). */
  syncIntervalSeconds: number;
}

/** A Redis node or Sentinel address (REDIS_CLUSTER_NODES, REDIS_SENTINELS). */
export interface HostPort {
  host: string;
  port: number;
}

export interface Config {
  /** Standalone Redis; in Sentinel and Cluster mode it still gives the username, password and TLS. */
  redisUrl: string;
  /** Sentinel mode: the Sentinels to ask and the name of the master they watch. */
  redisSentinels: HostPort[] | undefined;
  redisSentinelName: string | undefined;
  /** Cluster mode: some of the cluster's nodes (the rest are discovered). */
  redisClusterNodes: HostPort[] | undefined;
  databaseUrl: string;
  /** Postgres: how long a connection attempt may take, and a statement (0: no limit), seconds. */
  databaseConnectTimeoutSeconds: number;
  databaseStatementTimeoutSeconds: number;
  queuePrefix: string;
  esiUrl: string;
  zkbUrl: string;
  r2z2Url: string;
  everefUrl: string;
  /** Required before any upstream call; see requireEsiUserAgent(). */
  esiUserAgent: string | undefined;
  adminToken: string | undefined;
  /** HTTP server: the request header (lower case) a trusted reverse proxy puts the client's address in. */
  trustProxyHeader: string | undefined;
  intake: IntakeLimits;
  /** HTTP server: address and port to listen on. */
  host: string;
  port: number;
  /** `bun queue` and `bun cli listen:r2z2`: port of their /metrics and /health (0: off). */
  metricsPort: number;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** json, pretty, or auto: pretty when stderr is a terminal. */
  logFormat: "auto" | "json" | "pretty";
  /** A worker process re-checks an entity a stored kill names at most this often (0: every kill). */
  fanOutRecheckSeconds: number;
  /** How often `bun queue` reconciles Postgres with Redis, ms (0: only at start). */
  reconcileIntervalMs: number;
  /** Kills per batch job for bulk sources (imports, zKillboard sync, the feed catching up). */
  batchJobKills: number;
  /** Kills per store transaction at most, and how long the store collector waits to fill one. */
  storeTransactionKills: number;
  storeTransactionWaitMs: number;
  /** `bun queue` creates the registry's default job schedulers when missing. */
  defaultSchedulers: boolean;
  upstream: UpstreamSettings;
  sso: SsoSettings;
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
    `must be a valid ${protocols.join(" or ")} URL`,
  );

const httpUrl = url(["http:", "https:"]).transform((v) => v.replace(/\/+$/, ""));
/** A whole number in [min, max]; "5m", "1e3" or "abc" are refused, not read as NaN or 0. */
const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(/^-?\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
const hostname = z
  .string()
  .refine((v) => isIP(v) !== 0 || /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(v), {
    message: "must be an IP address or a host name",
  });

/** A 32-byte key, written as 64 hex digits or base64 (`openssl rand -base64 32`). */
function decodeKey(v: string): Buffer | undefined {
  const text = v.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(text)
    ? Buffer.from(text, "hex")
    : /^[A-Za-z0-9+/_-]{43}=?$/.test(text)
      ? Buffer.from(text, "base64")
      : undefined;
  return bytes?.length === 32 ? bytes : undefined;
}

/** `host:port,host:port` (IPv6 in brackets: `[::1]:7000`); at least one entry. */
const hostPorts = z
  .string()
  .transform((v) => v.split(",").map((entry) => entry.trim()))
  .transform((entries, ctx) =>
    entries.map((entry) => {
      const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(entry);
      const host = m?.[1] ?? m?.[2];
      const port = Number(m?.[3]);
      if (!m || !host || !hostname.safeParse(host).success || port < 1 || port > 65535) {
        ctx.addIssue({ code: "custom", message: `'${entry}' is not host:port (comma-separated list, e.g. 10.0.0.1:7000,10.0.0.2:7000)` });
        return { host: "", port: 0 };
      }
      return { host, port };
    }),
  );

/**
 * A key prefix, optionally with one hash tag: `{kb}` or `kb:{eu}`. Redis Cluster hashes only the part
 * between the first `{` and the next `}`, so every key under a tagged prefix lives in one slot.
 */
const PREFIX = /^[A-Za-z0-9_.:-]*(\{[A-Za-z0-9_.:-]+\})?[A-Za-z0-9_.:-]*$/;

/** The hash tag of a prefix (`{kb}` → `kb`), or undefined. */
export function hashTag(prefix: string): string | undefined {
  return /\{([^{}]+)\}/.exec(prefix)?.[1];
}

/** A prefix for `name` that fits the configured mode: hash-tagged (`{name}`) on a Redis Cluster. */
export function prefixFor(name: string, cfg: Config = config()): string {
  return cfg.redisClusterNodes ? `{${name}}` : name;
}

const encryptionKeys = z
  .string()
  .transform((v) => v.split(",").map(decodeKey))
  .refine(
    (keys) => keys.every((k) => k !== undefined),
    "must be 32-byte keys (64 hex digits or base64), comma-separated: the first encrypts",
  )
  .transform((keys) => keys as Buffer[]);

/** Every variable, with its default. The keys are the documented names. */
const schema = z.object({
  REDIS_URL: url(["redis:", "rediss:"]).default("redis://127.0.0.1:6379"),
  REDIS_SENTINELS: hostPorts.optional(),
  REDIS_SENTINEL_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, "must be the master's name as the Sentinels know it")
    .optional(),
  REDIS_CLUSTER_NODES: hostPorts.optional(),
  DATABASE_URL: url(["postgres:", "postgresql:"]).default("postgres://postgres@127.0.0.1:5432/postgres"),
  DATABASE_CONNECT_TIMEOUT_SECONDS: int(1, 300).default(10),
  DATABASE_STATEMENT_TIMEOUT_SECONDS: int(0).default(600),
  QUEUE_PREFIX: z
    .string()
    .regex(PREFIX, "letters, digits, '_', '.', ':', '-' and at most one hash tag in braces, e.g. {kb}")
    .refine((v) => !v.endsWith(":"), "must not end with ':' (keys add their own)")
    .default("bull"),
  ESI_URL: httpUrl.default("https://esi.evetech.net"),
  ZKB_URL: httpUrl.default("https://zkillboard.com/api"),
  R2Z2_URL: httpUrl.default("https://r2z2.zkillboard.com"),
  EVEREF_URL: httpUrl.default("https://data.everef.net"),
  ESI_USER_AGENT: z
    .string()
    .trim()
    .min(8, "must name the app and a contact (e.g. 'mykb/1.0 admin@example.com')")
    .regex(/^[\x20-\x7e]+$/, "printable ASCII only (it is sent as an HTTP header)")
    .optional(),
  ADMIN_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  TRUST_PROXY_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/, "must be an HTTP header name (letters, digits, '-'), e.g. x-forwarded-for")
    .transform((v) => v.toLowerCase())
    .optional(),
  INTAKE_MAX_BODY_BYTES: int(256, 1_048_576).default(4_096),
  INTAKE_CLIENT_POSTS_PER_MINUTE: int(0).default(120),
  INTAKE_CLIENT_FETCHES_PER_MINUTE: int(0).default(6),
  INTAKE_TOTAL_FETCHES_PER_MINUTE: int(0).default(15),
  HOST: hostname.default("0.0.0.0"),
  PORT: int(0, 65535).default(3000),
  METRICS_PORT: int(0, 65535).default(0),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  LOG_FORMAT: z.enum(["auto", "json", "pretty"]).default("auto"),
  FANOUT_RECHECK_SECONDS: int(0).default(300),
  RECONCILE_INTERVAL_MS: int(0).default(300_000),
  BATCH_JOB_KILLS: int(1, 250).default(100),
  STORE_TRANSACTION_KILLS: int(1, 5_000).default(500),
  STORE_TRANSACTION_WAIT_MS: int(0, 10_000).default(20),
  DEFAULT_SCHEDULERS: z.enum(["on", "off"]).default("on"),
  // Read by Bun's allocator, not by our code: checked so a typo does not silently change memory use.
  MIMALLOC_PURGE_DELAY: int(-1).optional(),
  ESI_TIMEOUT_MS: int(1).default(10_000),
  ESI_ERROR_LOW_MARK: int(0, 100).default(20),
  ESI_SERIAL_SECONDS: int(0).default(60),
  ESI_MAX_INLINE_WAIT_MS: int(0).default(3_000),
  ESI_BUCKET_MARGIN: int(0).default(0),
  ESI_LIVE_RESERVE: int(0, 100).default(15),
  ESI_PACE_PERCENT: int(0, 100).default(50),
  ESI_DOWNTIME_STREAK: int(2, 1000).default(5),
  ESI_DOWNTIME_PROBE_SECONDS: int(1, 3600).default(15),
  ZKB_TIMEOUT_MS: int(1).default(15_000),
  ZKB_INTERVAL_MS: int(0).default(1_100),
  ZKB_ERROR_BUDGET: int(1).default(30),
  R2Z2_TIMEOUT_MS: int(1).default(10_000),
  R2Z2_INTERVAL_MS: int(0).default(55),
  R2Z2_ATTEMPTS: int(1).default(4),
  R2Z2_BACKOFF_MS: int(0).default(500),
  R2Z2_GAP_RETRY_MINUTES: int(0).default(30),
  EVE_SSO_URL: httpUrl.default("https://login.eveonline.com"),
  EVE_SSO_CLIENT_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{8,128}$/, "must be the client id CCP gave the application (letters and digits)")
    .optional(),
  EVE_SSO_SECRET: z
    .string()
    .regex(/^[A-Za-z0-9_.~+/=-]{8,512}$/, "must be the secret CCP gave the application (letters, digits, _ . ~ + / = -)")
    .optional(),
  EVE_SSO_CALLBACK_URL: url(["http:", "https:"]).optional(),
  TOKEN_ENCRYPTION_KEY: encryptionKeys.optional(),
  SSO_SYNC_INTERVAL_SECONDS: int(1, 86_400).default(900),
});

/** The documented variables (README "Configuration"), besides the per-queue QUEUE_<NAME>_* overrides. */
export const CONFIG_VARIABLES = Object.keys(schema.shape) as (keyof typeof schema.shape)[];

/** Variables an earlier version read, with what replaced them: setting one is an error, not a silent no-op. */
const RENAMED: Record<string, string> = {
  KILLMAIL_BATCH_SIZE: "STORE_TRANSACTION_KILLS (kills per store transaction)",
  KILLMAIL_BATCH_WAIT_MS: "STORE_TRANSACTION_WAIT_MS (how long a store transaction waits to fill)",
};

const OVERRIDE = /^QUEUE_([A-Z0-9_]+)_(CONCURRENCY|RATE|LOCK_SECONDS)$/;

function fail(variable: string, value: string | undefined, message: string): never {
  throw new ConfigError(`invalid ${variable}=${JSON.stringify(redactValue(variable, value))}: ${message}`);
}

/** Parses an environment (process.env by default). Throws ConfigError naming the first bad variable. */
export function parseConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== "")) as Record<string, string>;
  for (const [old, replacement] of Object.entries(RENAMED)) {
    if (old in cleaned) fail(old, cleaned[old], `this variable was renamed: set ${replacement} instead`);
  }
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(cleaned).filter(([k]) => k in schema.shape)));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? "environment");
    fail(variable, env[variable], issue.message);
  }
  const e = parsed.data;
  if (e.REDIS_CLUSTER_NODES && e.REDIS_SENTINELS) {
    fail("REDIS_SENTINELS", cleaned.REDIS_SENTINELS, "set either REDIS_SENTINELS or REDIS_CLUSTER_NODES, not both");
  }
  if (e.REDIS_SENTINELS && !e.REDIS_SENTINEL_NAME) {
    fail("REDIS_SENTINEL_NAME", undefined, "is required with REDIS_SENTINELS: the name of the master the Sentinels watch");
  }
  if (e.REDIS_SENTINEL_NAME && !e.REDIS_SENTINELS) {
    fail("REDIS_SENTINELS", undefined, "is required with REDIS_SENTINEL_NAME: the Sentinels' host:port list");
  }
  if (e.REDIS_CLUSTER_NODES && !hashTag(e.QUEUE_PREFIX)) {
    fail(
      "QUEUE_PREFIX",
      e.QUEUE_PREFIX,
      "must hold a hash tag on a Redis Cluster (e.g. {kb}), so that BullMQ's and the ESI budget's scripts find all their keys in one slot",
    );
  }

  const queues: Config["queues"] = {};
  for (const [key, value] of Object.entries(cleaned)) {
    const m = OVERRIDE.exec(key);
    if (!m) continue;
    const queue = m[1]!.toLowerCase();
    if (!(QUEUE_NAMES as readonly string[]).includes(queue)) {
      fail(key, value, `no queue named '${queue}' (queues: ${QUEUE_NAMES.join(", ")})`);
    }
    const n = int(1).safeParse(value);
    if (!n.success) fail(key, value, "must be a positive whole number");
    queues[queue as QueueName] ??= {};
    const entry = queues[queue as QueueName]!;
    if (m[2] === "CONCURRENCY") entry.concurrency = n.data;
    else if (m[2] === "RATE") entry.ratePerSecond = n.data;
    else entry.lockSeconds = n.data;
  }

  return {
    redisUrl: e.REDIS_URL,
    redisSentinels: e.REDIS_SENTINELS,
    redisSentinelName: e.REDIS_SENTINEL_NAME,
    redisClusterNodes: e.REDIS_CLUSTER_NODES,
    databaseUrl: e.DATABASE_URL,
    databaseConnectTimeoutSeconds: e.DATABASE_CONNECT_TIMEOUT_SECONDS,
    databaseStatementTimeoutSeconds: e.DATABASE_STATEMENT_TIMEOUT_SECONDS,
    queuePrefix: e.QUEUE_PREFIX,
    esiUrl: e.ESI_URL,
    zkbUrl: e.ZKB_URL,
    r2z2Url: e.R2Z2_URL,
    everefUrl: e.EVEREF_URL,
    esiUserAgent: e.ESI_USER_AGENT,
    adminToken: e.ADMIN_TOKEN,
    trustProxyHeader: e.TRUST_PROXY_HEADER,
    intake: {
      maxBodyBytes: e.INTAKE_MAX_BODY_BYTES,
      clientPostsPerMinute: e.INTAKE_CLIENT_POSTS_PER_MINUTE,
      clientFetchesPerMinute: e.INTAKE_CLIENT_FETCHES_PER_MINUTE,
      totalFetchesPerMinute: e.INTAKE_TOTAL_FETCHES_PER_MINUTE,
    },
    host: e.HOST,
    port: e.PORT,
    metricsPort: e.METRICS_PORT,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    fanOutRecheckSeconds: e.FANOUT_RECHECK_SECONDS,
    reconcileIntervalMs: e.RECONCILE_INTERVAL_MS,
    batchJobKills: e.BATCH_JOB_KILLS,
    storeTransactionKills: e.STORE_TRANSACTION_KILLS,
    storeTransactionWaitMs: e.STORE_TRANSACTION_WAIT_MS,
    defaultSchedulers: e.DEFAULT_SCHEDULERS === "on",
    upstream: {
      esiTimeoutMs: e.ESI_TIMEOUT_MS,
      esiErrorLowMark: e.ESI_ERROR_LOW_MARK,
      esiSerialMs: e.ESI_SERIAL_SECONDS * 1000,
      esiMaxInlineWaitMs: e.ESI_MAX_INLINE_WAIT_MS,
      esiBucketMargin: e.ESI_BUCKET_MARGIN,
      esiLiveReserve: e.ESI_LIVE_RESERVE,
      esiPacePercent: e.ESI_PACE_PERCENT,
      esiDowntimeStreak: e.ESI_DOWNTIME_STREAK,
      esiDowntimeProbeMs: e.ESI_DOWNTIME_PROBE_SECONDS * 1000,
      zkbTimeoutMs: e.ZKB_TIMEOUT_MS,
      zkbIntervalMs: e.ZKB_INTERVAL_MS,
      zkbErrorBudget: e.ZKB_ERROR_BUDGET,
      r2z2TimeoutMs: e.R2Z2_TIMEOUT_MS,
      r2z2IntervalMs: e.R2Z2_INTERVAL_MS,
      r2z2Attempts: e.R2Z2_ATTEMPTS,
      r2z2BackoffMs: e.R2Z2_BACKOFF_MS,
      r2z2GapRetryMinutes: e.R2Z2_GAP_RETRY_MINUTES,
    },
    sso: {
      clientId: e.EVE_SSO_CLIENT_ID,
      secret: e.EVE_SSO_SECRET,
      callbackUrl: e.EVE_SSO_CALLBACK_URL,
      url: e.EVE_SSO_URL,
      encryptionKeys: e.TOKEN_ENCRYPTION_KEY ?? [],
      syncIntervalSeconds: e.SSO_SYNC_INTERVAL_SECONDS,
    },
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

/**
 * Hides the password of a URL (redis://:secret@host → redis://:***@host), also when the URL does not
 * parse (a bad port, a stray character): whatever sits between '//' and the last '@' of the authority
 * loses its password part.
 */
export function redactUrl(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i, (_, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(":");
    return colon === -1 ? `${scheme}${userinfo}@` : `${scheme}${userinfo.slice(0, colon)}:***@`;
  });
}

function redactValue(variable: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (/TOKEN|SECRET|PASSWORD|KEY/.test(variable)) return "***";
  return /_URL$/.test(variable) ? redactUrl(value) : value;
}

/** Configuration safe to log (no secrets). */
export function describeConfig(cfg: Config = config()): Record<string, unknown> {
  return {
    redis: describeRedis(cfg),
    databaseUrl: redactUrl(cfg.databaseUrl),
    queuePrefix: cfg.queuePrefix,
    esiUrl: cfg.esiUrl,
    zkbUrl: cfg.zkbUrl,
    r2z2Url: cfg.r2z2Url,
    everefUrl: cfg.everefUrl,
    esiUserAgent: cfg.esiUserAgent ?? null,
    adminToken: cfg.adminToken ? "***" : null,
    trustProxyHeader: cfg.trustProxyHeader ?? null,
    intake: cfg.intake,
    host: cfg.host,
    port: cfg.port,
    metricsPort: cfg.metricsPort,
    logLevel: cfg.logLevel,
    reconcileIntervalMs: cfg.reconcileIntervalMs,
    batchJobKills: cfg.batchJobKills,
    storeTransactionKills: cfg.storeTransactionKills,
    storeTransactionWaitMs: cfg.storeTransactionWaitMs,
    defaultSchedulers: cfg.defaultSchedulers,
    sso: {
      url: cfg.sso.url,
      clientId: cfg.sso.clientId ?? null,
      secret: cfg.sso.secret ? "***" : null,
      callbackUrl: cfg.sso.callbackUrl ?? null,
      encryptionKeys: cfg.sso.encryptionKeys.length,
      syncIntervalSeconds: cfg.sso.syncIntervalSeconds,
    },
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

/** Where Redis is, safe to log: the URL (password hidden), or the Sentinels and master, or the cluster's nodes. */
export function describeRedis(cfg: Config = config()): string {
  const list = (nodes: HostPort[]) => nodes.map((n) => (n.host.includes(":") ? `[${n.host}]:${n.port}` : `${n.host}:${n.port}`)).join(",");
  if (cfg.redisClusterNodes) return `cluster ${list(cfg.redisClusterNodes)}`;
  if (cfg.redisSentinels) return `sentinel ${cfg.redisSentinelName} at ${list(cfg.redisSentinels)}`;
  return redactUrl(cfg.redisUrl);
}
