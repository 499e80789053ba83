// Shared HTTP plumbing for the simulator's routes: the parsed request, the reply value, JSON and error
// helpers, and the context (world, limits, caches) every service handler receives.
import type { IncomingHttpHeaders } from "node:http";
import type { FaultAction } from "./faults.ts";
import type { ErrorLimiter, RateGate, ResolvedLimits, RollingCounter, TokenBuckets } from "./limits.ts";
import type { SsoState } from "./sso.ts";
import type { Recorder } from "./stats.ts";
import type { World } from "./world/index.ts";

export interface In {
  method: string;
  /** Path below the service prefix (e.g. "/killmails/1/abc" for ESI, "/ephemeral/1.json" for R2Z2). */
  path: string;
  query: URLSearchParams;
  rawQuery: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  client: string;
  now: number;
}

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body?: string | Buffer;
}

export interface Handled {
  reply: Reply;
  violations: string[];
  during420?: boolean;
}

export interface Ctx {
  world: World;
  limits: ResolvedLimits;
  /** The `killmail` group's buckets (per client). */
  buckets: TokenBuckets;
  /** The `status` group's buckets (per client). */
  statusBuckets: TokenBuckets;
  /** The authenticated groups' buckets (`char-killmail`, `corp-killmail`), per application + character. */
  recentBuckets: TokenBuckets;
  sso: SsoState;
  /** Kills per page of the recent-kills routes. */
  recentPageSize: number;
  /** Expires of the recent-kills routes, seconds (ESI: 300). */
  recentCacheSeconds: number;
  errors: ErrorLimiter;
  zkbGate: RateGate;
  zkbErrors: RollingCounter;
  r2z2Gate: RateGate;
  recorder: Recorder;
  /** R2Z2 sequence.json is rewritten every this many kills. */
  sequenceEvery: number;
  /** zKillboard API leaves out kills published less than this many seconds ago. */
  zkbDelaySeconds: number;
  /** Share of kills R2Z2's raw history files leave out (the id/hash files still list them). */
  rawMissing: number;
  /** Per client+path: when the last answer's Expires passes (to flag early re-fetches). */
  expiries: Map<string, number>;
  /** Per client+group: until when a 429's Retry-After holds. */
  retryAfter: Map<string, number>;
  log(message: string): void;
}

export type Service = {
  routeOf(method: string, path: string): string;
  handle(ctx: Ctx, req: In, route: string, injected: FaultAction): Promise<Handled> | Handled;
};

export const JSON_TYPE = "application/json; charset=utf-8";

export function json(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { "Content-Type": JSON_TYPE, ...headers }, body: JSON.stringify(value) };
}

export function error(status: number, message: string, headers: Record<string, string> = {}): Reply {
  return json(status, { error: message }, headers);
}

export function header(req: In, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(", ") : v;
}

export function userAgentOf(req: In): string | undefined {
  return header(req, "user-agent") || header(req, "x-user-agent") || req.query.get("user_agent") || undefined;
}

export function acceptsGzip(req: In): boolean {
  return /\bgzip\b/i.test(header(req, "accept-encoding") ?? "");
}
