// The simulator's HTTP server (node:http, so faults can hang or reset connections): one origin serving
// ESI at "/", R2Z2 at "/r2z2", the zKillboard API at "/zkb", EVE Ref at "/everef" and the admin API at
// "/_sim". Startable in-process (startSimulator) or from the CLI (sim/index.ts).
import http from "node:http";
import type { Socket } from "node:net";
import { gzipSync } from "node:zlib";
import { FaultEngine, type FaultRule, type Faults } from "./faults.ts";
import { acceptsGzip, type Ctx, error, type In, type Reply, type Service, userAgentOf } from "./http.ts";
import { ErrorLimiter, type LimitOptions, RateGate, REAL_LIMITS, type ResolvedLimits, RollingCounter, TokenBuckets } from "./limits.ts";
import { admin } from "./routes/admin.ts";
import { esi, STATUS_TOKENS, STATUS_WINDOW_SECONDS } from "./routes/esi.ts";
import { everef } from "./routes/everef.ts";
import { r2z2 } from "./routes/r2z2.ts";
import { zkb } from "./routes/zkb.ts";
import { SsoState, sso } from "./sso.ts";
import { Recorder, type SimRequest, type SimStats } from "./stats.ts";
import type { CatalogChoice } from "./world/catalog.ts";
import { World } from "./world/index.ts";

export type { FaultRule, Faults } from "./faults.ts";
export type { SsoState, SsoStats, TokenTweak } from "./sso.ts";
export type { SimRequest, SimStats } from "./stats.ts";
export type { World } from "./world/index.ts";

export interface SimulatorOptions {
  /** 0 = any free port (default). */
  port?: number;
  host?: string;
  /** World seed (default 1). */
  seed?: number;
  /** Generated killmails (default 3000); the real corpus comes on top. */
  killmails?: number;
  /** Days the generated kills span (default 30) from startDate (default 2026-07-26). */
  days?: number;
  startDate?: string;
  /** R2Z2 kills per second (default 5; 0 = frozen). */
  feedRate?: number;
  /** Share of the generated kills still ahead of the feed at start (default 0.1). */
  feedShare?: number;
  /** R2Z2 sequence.json is rewritten every N kills (default 5; real ≈ 51). */
  sequenceEvery?: number;
  /** zKillboard API leaves out kills published less than this many seconds ago (default 300; tests use 0). */
  zkbDelaySeconds?: number;
  /** Share (0–1) of kills left out of R2Z2's raw history files (still listed with their hashes; default 0). */
  rawMissing?: number;
  /** Share (0–1) of generated kills nobody posted to zKillboard: only ESI and members' tokens see them (default 0). */
  privateShare?: number;
  /** Lifetime of the SSO's access tokens, seconds (default 1200, as CCP's). */
  accessTokenSeconds?: number;
  /** Kills per page of /characters|corporations/{id}/killmails/recent (default 50). */
  recentPageSize?: number;
  /** Expires of the recent-kills routes, seconds (default 300, as ESI's). */
  recentCacheSeconds?: number;
  /** Serve the 106 real killmails (default: when ../shared/killmails exists). */
  corpus?: boolean;
  catalog?: CatalogChoice;
  /** Where ../shared is (default: SIM_SHARED_DIR or <project root>/../shared). */
  sharedDir?: string;
  limits?: LimitOptions;
  faults?: Faults;
  /** No log lines on stderr. */
  quiet?: boolean;
}

export interface Simulator {
  url: string;
  world: World;
  /** The EVE SSO's state: revoke or transfer a character, grant Director, spoil the next token. */
  sso: SsoState;
  setFaults(f: Faults): void;
  faults(): FaultRule[];
  stats(): SimStats;
  requests(): SimRequest[];
  /** Counters, log, limits (token buckets, error windows, rate gates) and faults' spent counts; not the world. */
  reset(): void;
  /** Pushes the R2Z2 head forward by n kills now. */
  advanceFeed(n: number): void;
  setFeedRate(rate: number): void;
  /** Answers 420 on every ESI route for the next `seconds`. */
  forceErrorLimit(seconds: number): void;
  stop(): Promise<void>;
}

const SERVICES: [string, "r2z2" | "zkb" | "everef" | "sso", Service][] = [
  ["/sso", "sso", sso],
  ["/r2z2", "r2z2", r2z2],
  ["/zkb", "zkb", zkb],
  ["/everef", "everef", everef],
];

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    req.on("end", () => resolve(size > limit ? undefined : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function send(res: http.ServerResponse, reply: Reply, gzip: boolean): void {
  const headers: Record<string, string> = { ...reply.headers };
  let body = reply.body === undefined ? undefined : typeof reply.body === "string" ? Buffer.from(reply.body) : reply.body;
  if (body && gzip && !/bzip2/.test(headers["Content-Type"] ?? "")) {
    body = gzipSync(body);
    headers["Content-Encoding"] = "gzip";
    headers.Vary = "Accept-Encoding";
  }
  if (reply.status !== 304) headers["Content-Length"] = String(body?.length ?? 0);
  res.writeHead(reply.status, headers);
  res.end(reply.status === 304 ? undefined : body);
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const world = new World({
    seed: opts.seed ?? 1,
    ...(opts.killmails !== undefined ? { killmails: opts.killmails } : {}),
    ...(opts.days !== undefined ? { days: opts.days } : {}),
    ...(opts.startDate !== undefined ? { startDate: opts.startDate } : {}),
    ...(opts.catalog !== undefined ? { catalog: opts.catalog } : {}),
    ...(opts.corpus !== undefined ? { corpus: opts.corpus } : {}),
    ...(opts.sharedDir !== undefined ? { sharedDir: opts.sharedDir } : {}),
    ...(opts.feedShare !== undefined ? { feedShare: opts.feedShare } : {}),
    feedRate: opts.feedRate ?? 5,
    ...(opts.privateShare !== undefined ? { privateShare: opts.privateShare } : {}),
  });
  const limits: ResolvedLimits = {
    ...REAL_LIMITS,
    ...Object.fromEntries(Object.entries(opts.limits ?? {}).filter(([, v]) => v !== undefined)),
  };
  const recorder = new Recorder();
  const faultEngine = new FaultEngine(world.seed);
  faultEngine.set(opts.faults);
  const log = (message: string) => {
    if (!opts.quiet) process.stderr.write(`[sim] ${message}\n`);
  };
  const ctx: Ctx = {
    world,
    limits,
    buckets: new TokenBuckets(limits.killmailTokens, limits.killmailWindowSeconds * 1000),
    statusBuckets: new TokenBuckets(STATUS_TOKENS, STATUS_WINDOW_SECONDS * 1000),
    recentBuckets: new TokenBuckets(limits.recentKillmailTokens, limits.recentKillmailWindowSeconds * 1000),
    sso: new SsoState(world, opts.accessTokenSeconds === undefined ? {} : { accessTokenSeconds: opts.accessTokenSeconds }),
    recentPageSize: opts.recentPageSize ?? 50,
    recentCacheSeconds: opts.recentCacheSeconds ?? 300,
    errors: new ErrorLimiter(limits.errorLimit, limits.errorWindowSeconds * 1000),
    zkbGate: new RateGate(limits.zkbPerSecond),
    zkbErrors: new RollingCounter(limits.zkbErrorLimit, 300_000),
    r2z2Gate: new RateGate(limits.r2z2PerSecond),
    recorder,
    sequenceEvery: opts.sequenceEvery ?? 5,
    zkbDelaySeconds: opts.zkbDelaySeconds ?? 300,
    rawMissing: Math.min(1, Math.max(0, opts.rawMissing ?? 0)),
    expiries: new Map(),
    retryAfter: new Map(),
    log,
  };
  const sockets = new Set<Socket>();
  const hanging = new Set<http.ServerResponse>();

  let sim: Simulator;
  const onRequest = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const started = Date.now();
    const url = new URL(req.url ?? "/", "http://sim.local");
    const method = (req.method ?? "GET").toUpperCase();
    const raw = await readBody(req, 4 * 1024 * 1024);
    const clientHeader = req.headers["x-sim-client"];
    const client = (Array.isArray(clientHeader) ? clientHeader[0] : clientHeader) ?? req.socket.remoteAddress ?? "unknown";
    if (url.pathname.startsWith("/_sim/") || url.pathname === "/_sim") {
      send(res, admin(sim, method, url.pathname, url.searchParams, raw ?? Buffer.alloc(0)), false);
      return;
    }
    const svc = SERVICES.find(([prefix]) => url.pathname === prefix || url.pathname.startsWith(`${prefix}/`));
    const service = svc?.[1] ?? "esi";
    const impl = svc?.[2] ?? esi;
    const path = svc ? url.pathname.slice(svc[0].length) || "/" : url.pathname;
    const input: In = {
      method,
      path,
      query: url.searchParams,
      rawQuery: url.search.replace(/^\?/, ""),
      headers: req.headers,
      body: raw ?? Buffer.alloc(0),
      client,
      now: started,
    };
    const routeKey = impl.routeOf(method, path);
    const userAgent = userAgentOf(input);
    const base = {
      at: started,
      method,
      url: req.url ?? "/",
      service,
      route: routeKey,
      client,
      ...(userAgent ? { userAgent } : {}),
    } as const;
    const decision = faultEngine.decide(service, routeKey, url.pathname);
    if (decision.latencyMs > 0) await new Promise((r) => setTimeout(r, decision.latencyMs));
    const action = decision.action;
    if (action.kind === "hang" || action.kind === "reset") {
      recorder.record({ ...base, status: 0, during420: false, fault: action.kind, violations: [], durationMs: Date.now() - started });
      if (action.kind === "hang") hanging.add(res);
      else req.socket.destroy();
      return;
    }
    let reply: Reply;
    let violations: string[] = [];
    let during420 = false;
    if (raw === undefined) reply = error(413, "Request body too large");
    else if (action.kind === "not-found") reply = error(404, "Not found");
    else {
      try {
        input.now = Date.now();
        const handled = await impl.handle(ctx, input, routeKey, action);
        reply = handled.reply;
        violations = handled.violations;
        during420 = handled.during420 ?? false;
      } catch (err) {
        log(`error on ${method} ${req.url}: ${(err as Error).stack ?? err}`);
        reply = error(500, "Unhandled internal error encountered!");
      }
    }
    let fault: SimRequest["fault"] =
      action.kind === "error" ? "error" : action.kind === "not-found" ? "not-found" : decision.latencyMs > 0 ? "latency" : undefined;
    if (action.kind === "malformed" && reply.status === 200 && reply.body !== undefined && reply.body.length > 0) {
      const b = typeof reply.body === "string" ? Buffer.from(reply.body) : reply.body;
      reply = { ...reply, body: b.subarray(0, Math.max(1, Math.floor(b.length / 2))) };
      fault = "malformed";
    }
    if (violations.includes("missing-user-agent")) log(`request without a User-Agent: ${method} ${req.url} from ${client}`);
    try {
      send(res, reply, acceptsGzip(input));
    } catch (err) {
      log(`send failed: ${(err as Error).message}`);
    }
    recorder.record({
      ...base,
      status: reply.status,
      during420,
      ...(fault ? { fault } : {}),
      violations,
      durationMs: Date.now() - started,
    });
  };

  const server = http.createServer((req, res) => {
    onRequest(req, res).catch((err) => {
      log(`request failed: ${(err as Error).message}`);
      if (!res.headersSent) send(res, error(500, "Unhandled internal error encountered!"), false);
    });
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("simulator did not get a TCP port");
  const url = `http://${opts.host ?? "127.0.0.1"}:${address.port}`;

  let stopped: Promise<void> | undefined;
  sim = {
    url,
    world,
    sso: ctx.sso,
    setFaults: (f) => faultEngine.set(f),
    faults: () => faultEngine.get(),
    stats: () => recorder.stats(),
    requests: () => recorder.requests(),
    reset() {
      recorder.reset();
      ctx.buckets.reset();
      ctx.statusBuckets.reset();
      ctx.recentBuckets.reset();
      ctx.sso.reset();
      ctx.errors.clear();
      ctx.zkbGate.clear();
      ctx.zkbErrors.clear();
      ctx.r2z2Gate.clear();
      ctx.expiries.clear();
      ctx.retryAfter.clear();
    },
    advanceFeed: (n) => world.feed.advance(n),
    setFeedRate: (rate) => world.feed.setRate(rate),
    forceErrorLimit: (seconds) => ctx.errors.force(seconds, Date.now()),
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        hanging.clear();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return stopped;
    },
  };
  return sim;
}
