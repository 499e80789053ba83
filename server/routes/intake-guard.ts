// Protection of POST /api/killmails, which anyone may call: each kill it does not know costs an ESI
// killmail fetch from the `killmail` token bucket (about 2 fetches a second per IP, a refused pair 5
// tokens), which the whole installation shares with the live feed and the imports. Here:
//  - who the client is: the connection's address, or with TRUST_PROXY_HEADER the address a trusted
//    reverse proxy names (IPv6 clients by their /64: one host holds a whole /64);
//  - rate limits over a rolling minute, kept in Redis so every server process counts together
//    (lua/sliding-window.lua): posts of any kind per client, and "fetches" — posts whose kill must be
//    looked up upstream — per client and of all clients together; over a limit, 429 with Retry-After;
//  - the body size limit (413);
//  - an operator presenting ADMIN_TOKEN is not limited.
// The route decides what counts as a fetch (routes/killmails.ts): a stored, queued or known-bad kill does not.
import { randomBytes } from "node:crypto";
import { isIP } from "node:net";
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { config } from "../helpers/config.ts";
import { log } from "../helpers/logger.ts";
import { loadLua, scriptedRedis } from "../helpers/lua.ts";
import { presentsAdminToken } from "./admin-token.ts";

/** The window every intake limit counts over. */
export const WINDOW_MS = 60_000;

const SLIDING_WINDOW = loadLua(new URL("./lua/sliding-window.lua", import.meta.url));

type GuardCommands = { intakeAdmit(...args: (string | number)[]): Promise<[number, number, number]> };

const client = scriptedRedis<GuardCommands>({ intakeAdmit: SLIDING_WINDOW });

export function intakeKeys(prefix: string = config().queuePrefix) {
  const p = `${prefix}:intake`;
  return {
    clientPosts: (client: string) => `${p}:client-posts:${client}`,
    clientFetches: (client: string) => `${p}:client-fetches:${client}`,
    totalFetches: `${p}:total-fetches`,
  };
}

/** Bun's server, which hono passes as the env of app.fetch (absent under app.request in tests). */
type ConnectionEnv = { requestIP?: (req: Request) => { address: string } | null } | undefined;

/**
 * The client a request counts for: the address named by the trusted proxy header when one is set and
 * present (its last entry: the one the proxy itself appended; earlier ones are whatever the client
 * sent), else the connection's address, else "unknown" (every such request shares one client's limits).
 */
export function clientOf(c: Context, trustProxyHeader: string | undefined = config().trustProxyHeader): string {
  if (trustProxyHeader) {
    const named = c.req.header(trustProxyHeader)?.split(",").at(-1);
    const key = named === undefined ? undefined : addressKey(named);
    if (key) return key;
  }
  const env = c.env as ConnectionEnv;
  const address = typeof env?.requestIP === "function" ? env.requestIP(c.req.raw)?.address : undefined;
  return (address && addressKey(address)) || "unknown";
}

/** An address as a limit key: IPv4 as is (also when IPv4-mapped), IPv6 by its /64; undefined if not an IP. */
export function addressKey(raw: string): string | undefined {
  let address = raw.trim();
  if (address.startsWith("[") && address.endsWith("]")) address = address.slice(1, -1);
  const zone = address.indexOf("%");
  if (zone >= 0) address = address.slice(0, zone);
  const family = isIP(address);
  if (family === 4) return address;
  if (family !== 6) return undefined;
  const groups = ipv6Groups(address.toLowerCase());
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 255, groups[7]! >> 8, groups[7]! & 255].join(".");
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(":")}::/64`;
}

/** The eight 16-bit groups of an address isIP() accepted as IPv6. */
function ipv6Groups(address: string): number[] {
  let text = address;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split("::") as [string, string | undefined];
  const left = head ? head.split(":") : [];
  const right = tail === undefined ? [] : tail ? tail.split(":") : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill("0");
  return [...left, ...zeros, ...right].map((g) => Number.parseInt(g, 16));
}

/** True when the request presents the admin token: an operator, not limited. */
export function isOperator(c: Context): boolean {
  return presentsAdminToken(c, config().adminToken);
}

export type LimitName = "client-posts" | "client-fetches" | "total-fetches";

/** A post a limit refused: answer it with tooMany(). */
export interface Refusal {
  limit: LimitName;
  retryAfterSeconds: number;
  message: string;
}

let counter = 0;
const instance = randomBytes(3).toString("hex");

async function admit(
  first: { key: string; limit: number; name: LimitName },
  second?: { key: string; limit: number; name: LimitName },
): Promise<Refusal | undefined> {
  if (first.limit <= 0 && (second?.limit ?? 0) <= 0) return undefined;
  // keys, then arguments, in the order of lua/sliding-window.lua's header
  const [admitted, waitMs, refusedBy] = await client().intakeAdmit(
    first.key,
    second?.key ?? first.key,
    WINDOW_MS,
    first.limit,
    second?.limit ?? 0,
    `${process.pid}.${instance}.${++counter}`,
  );
  if (admitted === 1) return undefined;
  const which = refusedBy === 2 && second ? second : first;
  const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
  return { limit: which.name, retryAfterSeconds, message: `${MESSAGES[which.name](which.limit)}; retry in ${retryAfterSeconds} s` };
}

const MESSAGES: Record<LimitName, (limit: number) => string> = {
  "client-posts": (n) => `too many killmail posts from your address: at most ${n} a minute`,
  "client-fetches": (n) => `too many posts of killmails this server does not know from your address: at most ${n} a minute`,
  "total-fetches": (n) => `too many posts of killmails this server does not know, from everyone: at most ${n} a minute`,
};

/** Counts a post of any kind against the client's limit. */
export function admitPost(clientKey: string): Promise<Refusal | undefined> {
  const limits = config().intake;
  return admit({ key: intakeKeys().clientPosts(clientKey), limit: limits.clientPostsPerMinute, name: "client-posts" });
}

/** Counts a post that costs an upstream call against the client's and the total limit (both or neither). */
export function admitFetch(clientKey: string): Promise<Refusal | undefined> {
  const limits = config().intake;
  const k = intakeKeys();
  return admit(
    { key: k.clientFetches(clientKey), limit: limits.clientFetchesPerMinute, name: "client-fetches" },
    { key: k.totalFetches, limit: limits.totalFetchesPerMinute, name: "total-fetches" },
  );
}

/** The 429 answer: Retry-After in seconds, and the reason as JSON. */
export function tooMany(c: Context, refusal: Refusal, clientKey: string): Response {
  log("http").debug({ client: clientKey, limit: refusal.limit, retryAfter: refusal.retryAfterSeconds }, "killmail post rate-limited");
  c.header("Retry-After", String(refusal.retryAfterSeconds));
  return c.json({ error: refusal.message, limit: refusal.limit, retryAfter: refusal.retryAfterSeconds }, 429);
}

/** 413 for a body over INTAKE_MAX_BODY_BYTES (by Content-Length, or while a chunked body streams in). */
export function limitBody(): MiddlewareHandler {
  return (c, next) => {
    const maxSize = config().intake.maxBodyBytes;
    return bodyLimit({
      maxSize,
      onError: (ctx) => ctx.json({ error: `request body too large: at most ${maxSize} bytes` }, 413),
    })(c, next);
  };
}
