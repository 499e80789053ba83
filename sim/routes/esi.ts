// ESI at "/": the routes the killboard uses, with legacy prefixes and trailing slashes accepted, the
// `killmail` and `status` token buckets, the error limit (420 on every route), X-Compatibility-Date checks,
// cache headers (ETag/Expires/Last-Modified, 304 on If-None-Match / If-Modified-Since) and User-Agent
// bookkeeping. GET /status is how clients tell a Tranquility downtime (a fault answering 503) from a bad route.
import { createHash } from "node:crypto";
import { jwtVerify } from "jose";
import { z } from "zod";
import { ESI_5XX_MESSAGES, type FaultAction } from "../faults.ts";
import { type Ctx, error, type Handled, header, type In, json, type Reply, userAgentOf } from "../http.ts";
import { tokenCost, windowLabel } from "../limits.ts";
import { CHARACTER_KILLMAILS_SCOPE, CORPORATION_KILLMAILS_SCOPE } from "../sso.ts";
import { DAY_MS, THE_FORGE } from "../world/market.ts";

export const ERROR_LIMIT_MESSAGE =
  "This software has exceeded the error limit for ESI. If you are a user, please contact the maintainer of this software. If you are a developer/maintainer, please make a greater effort in the future to receive valid responses. For tips on how, come have a chat with us on ##3rd-party-dev-and-esi on the EVE Online Discord. https://www.eveonline.com/discord";

const ROUTES: [string, RegExp, string][] = [
  ["GET", /^\/killmails\/[^/]+\/[^/]+$/, "killmail"],
  ["GET", /^\/characters\/[^/]+\/killmails\/recent$/, "character_killmails"],
  ["GET", /^\/corporations\/[^/]+\/killmails\/recent$/, "corporation_killmails"],
  ["POST", /^\/characters\/affiliation$/, "affiliation"],
  ["GET", /^\/characters\/[^/]+$/, "character"],
  ["GET", /^\/corporations\/[^/]+$/, "corporation"],
  ["GET", /^\/alliances$/, "alliances"],
  ["GET", /^\/alliances\/[^/]+\/corporations$/, "alliance_corporations"],
  ["GET", /^\/alliances\/[^/]+$/, "alliance"],
  ["GET", /^\/universe\/types\/[^/]+$/, "type"],
  ["GET", /^\/universe\/groups\/[^/]+$/, "group"],
  ["GET", /^\/universe\/categories\/[^/]+$/, "category"],
  ["POST", /^\/universe\/names$/, "names"],
  ["GET", /^\/markets\/prices$/, "market_prices"],
  ["GET", /^\/markets\/[^/]+\/history$/, "market_history"],
  ["GET", /^\/status$/, "status"],
];

/**
 * Rate-limit groups of the spec's x-rate-limit that the simulator enforces: route key → group (per IP for
 * `killmail` and `status`, per application + character for the authenticated ones).
 */
const GROUPS: Record<string, string> = {
  killmail: "killmail",
  status: "status",
  character_killmails: "char-killmail",
  corporation_killmails: "corp-killmail",
};

/** The spec's `status` group: 600 tokens per 15 minutes (fixed; tests shrink only the killmail group). */
export const STATUS_TOKENS = 600;
export const STATUS_WINDOW_SECONDS = 900;

/** Route cache policy: seconds of TTL, or "daily" (types, groups, categories, history expire at 11:05 UTC). */
const CACHE: Record<string, number | "daily"> = {
  killmail: 2_592_000,
  character: 86_400,
  corporation: 3600,
  alliance: 3600,
  alliances: 3600,
  alliance_corporations: 3600,
  market_prices: 3600,
  type: "daily",
  group: "daily",
  category: "daily",
  market_history: "daily",
  status: 30,
};

/** Strips `/latest`, `/legacy`, `/dev`, `/vN` and a trailing slash. */
export function normalizeEsiPath(path: string): string {
  let p = path.replace(/^\/(latest|legacy|dev|v\d+)(?=\/)/, "");
  if (p.length > 1) p = p.replace(/\/+$/, "");
  return p;
}

function routeOf(method: string, path: string): string {
  const p = normalizeEsiPath(path);
  for (const [m, re, name] of ROUTES)
    if (re.test(p)) return m === method || (m === "GET" && method === "HEAD") ? name : "method_not_allowed";
  return "unknown";
}

const idParam = (s: string | undefined): number | undefined => (s && /^\d{1,19}$/.test(s) ? Number(s) : undefined);

function cacheTimes(route: string, now: number): { expires: number; lastModified: number } | undefined {
  const policy = CACHE[route];
  if (policy === undefined) return undefined;
  if (policy === "daily") {
    const d = new Date(now);
    let next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 11, 5);
    if (next <= now) next += 86_400_000;
    return { expires: next, lastModified: next - 86_400_000 };
  }
  const ms = policy * 1000;
  const start = Math.floor(now / ms) * ms;
  return { expires: start + ms, lastModified: start };
}

/** Today's compatibility date: the date rolls at 11:00 UTC. */
export function currentCompatibilityDate(now: number): string {
  return new Date(now - 11 * 3_600_000).toISOString().slice(0, 10);
}

async function readIds(req: In): Promise<number[] | Reply> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(req.body.toString("utf8") || "null");
  } catch {
    return error(400, "Invalid request body: not valid JSON");
  }
  if (!Array.isArray(parsed) || !parsed.every((x) => Number.isInteger(x)))
    return error(400, "Invalid request body: expected an array of integer ids");
  if (parsed.length < 1 || parsed.length > 1000)
    return error(400, `Invalid request body: array must contain between 1 and 1000 items, got ${parsed.length}`);
  if (new Set(parsed).size !== parsed.length) return error(400, "Invalid request body: array items must be unique");
  return parsed as number[];
}

async function route(ctx: Ctx, req: In, name: string): Promise<Reply> {
  const w = ctx.world;
  const parts = normalizeEsiPath(req.path).split("/").slice(1);
  switch (name) {
    case "killmail": {
      const id = idParam(parts[1]);
      const rec = id === undefined ? undefined : w.killmailById(id);
      if (!rec || rec.hash !== parts[2]) return error(422, "Invalid killmail_id and/or killmail_hash");
      return json(200, rec.esi);
    }
    case "character": {
      const id = idParam(parts[1]);
      if (id === undefined) return error(400, "Invalid character_id");
      const body = w.character(id);
      return body ? json(200, body) : error(404, "Character not found");
    }
    case "corporation": {
      const id = idParam(parts[1]);
      if (id === undefined) return error(400, "Invalid corporation_id");
      const body = w.corporation(id);
      return body ? json(200, body) : error(404, "Corporation not found");
    }
    case "alliance": {
      const id = idParam(parts[1]);
      if (id === undefined) return error(400, "Invalid alliance_id");
      const body = w.alliance(id);
      return body ? json(200, body) : error(404, "Alliance not found");
    }
    case "alliances":
      return json(200, w.allianceIds());
    case "alliance_corporations": {
      const id = idParam(parts[1]);
      if (id === undefined) return error(400, "Invalid alliance_id");
      const corps = w.allianceCorporations(id);
      return corps ? json(200, corps) : error(404, "Alliance not found");
    }
    case "type":
    case "group":
    case "category": {
      const id = idParam(parts[2]);
      if (id === undefined) return error(400, `Invalid ${name}_id`);
      const body = name === "type" ? w.type(id) : name === "group" ? w.group(id) : w.category(id);
      const label = name === "type" ? "Type" : name === "group" ? "Group" : "Category";
      return body ? json(200, body) : error(404, `${label} not found`);
    }
    case "market_prices":
      return json(200, w.market.prices());
    case "market_history": {
      const region = idParam(parts[1]);
      if (region === undefined) return error(400, "Invalid region_id");
      const typeParam = req.query.get("type_id");
      if (typeParam === null) return error(400, "Missing required query parameter: type_id");
      const typeId = idParam(typeParam);
      if (typeId === undefined) return error(400, "Invalid type_id");
      if (!(w.catalog.regions.has(region) || (region >= 10_000_001 && region <= 10_001_000)) && region !== THE_FORGE)
        return error(404, "Region not found");
      if (!w.catalog.types.has(typeId)) return error(404, "Type not found");
      const rows = w.market.history(typeId, region);
      if (!rows || rows.length === 0) return error(404, "Type not tradable on market!");
      return json(200, rows);
    }
    case "names": {
      const ids = await readIds(req);
      if (!Array.isArray(ids)) return ids;
      const out = w.names(ids);
      return out ? json(200, out) : error(404, "Ensure all IDs are valid before resolving.");
    }
    case "affiliation": {
      const ids = await readIds(req);
      if (!Array.isArray(ids)) return ids;
      const out = w.affiliation(ids);
      return out ? json(200, out) : error(404, "Invalid character ID");
    }
    case "status":
      return json(200, w.status(req.now));
    case "method_not_allowed":
      return error(405, "Method not allowed");
    default:
      return error(404, "Not found");
  }
}

const accessClaims = z.object({
  sub: z.string().regex(/^CHARACTER:EVE:\d+$/),
  azp: z.string(),
  scp: z.union([z.string(), z.array(z.string())]).optional(),
});

type Auth = { ok: true; characterId: number; clientId: string; scopes: string[] } | { ok: false; reply: Reply };

/** The bearer token of an authenticated route: signed by the simulator's SSO and not expired. */
async function authenticate(ctx: Ctx, req: In): Promise<Auth> {
  const header_ = header(req, "authorization") ?? "";
  if (!header_.startsWith("Bearer ")) return { ok: false, reply: error(401, "Authorization header missing") };
  try {
    const { payload } = await jwtVerify(header_.slice(7), ctx.sso.verificationKey, { algorithms: ["RS256"] });
    const claims = accessClaims.parse(payload);
    const scopes = claims.scp === undefined ? [] : typeof claims.scp === "string" ? [claims.scp] : claims.scp;
    return { ok: true, characterId: Number(claims.sub.slice("CHARACTER:EVE:".length)), clientId: claims.azp, scopes };
  } catch {
    return { ok: false, reply: error(401, "Token is not valid: signature, expiry or claims refused") };
  }
}

/** GET /characters|corporations/{id}/killmails/recent: id/hash pairs of the last 90 days, newest first, paged. */
function recentKillmails(ctx: Ctx, req: In, name: string, auth: Extract<Auth, { ok: true }>): Reply {
  const w = ctx.world;
  const id = idParam(normalizeEsiPath(req.path).split("/")[2]);
  if (id === undefined) return error(400, name === "character_killmails" ? "Invalid character_id" : "Invalid corporation_id");
  const scope = name === "character_killmails" ? CHARACTER_KILLMAILS_SCOPE : CORPORATION_KILLMAILS_SCOPE;
  if (!auth.scopes.includes(scope)) return error(403, `Token is not valid for scope(s): ${scope}`);
  let indices: number[];
  if (name === "character_killmails") {
    if (auth.characterId !== id) return error(403, "Token is not valid for this character");
    indices = w.entityKills("character", id);
  } else {
    const member = w.entities.characters.get(auth.characterId);
    if (!member || member.corporationId !== id || !ctx.sso.isDirector(auth.characterId)) {
      return error(403, "Character does not have required role(s): Director");
    }
    indices = w.entityKills("corporation", id);
  }
  // Kills that happened by now (the feed's head; private ones too), within 90 days of the newest.
  const head = w.feedHead(req.now);
  const happened = indices.filter((i) => i < head || i >= w.generatedCount);
  const newest = Math.max(0, ...happened.map((i) => w.timeOfIndex(i)));
  const recent = happened.filter((i) => w.timeOfIndex(i) >= newest - 90 * DAY_MS);
  const size = Math.max(1, ctx.recentPageSize);
  const pages = Math.max(1, Math.ceil(recent.length / size));
  const pageParam = req.query.get("page") ?? "1";
  const page = /^\d{1,6}$/.test(pageParam) ? Number(pageParam) : Number.NaN;
  if (!(page >= 1)) return error(400, "Invalid page");
  if (page > pages) return error(404, "Requested page does not exist!");
  const body = recent.slice((page - 1) * size, page * size).map((i) => ({ killmail_hash: w.hashOfIndex(i), killmail_id: w.idOfIndex(i) }));
  return json(200, body, { "X-Pages": String(pages) });
}

function etagOf(body: string | Buffer): string {
  return `"${createHash("sha1").update(body).digest("hex")}"`;
}

function notModified(req: In, etag: string, lastModified: number): boolean {
  const inm = header(req, "if-none-match");
  if (inm !== undefined) {
    const tags = inm.split(",").map((t) => t.trim().replace(/^W\//, ""));
    return tags.includes("*") || tags.includes(etag);
  }
  const ims = header(req, "if-modified-since");
  if (ims !== undefined) {
    const t = Date.parse(ims);
    return !Number.isNaN(t) && Math.floor(lastModified / 1000) <= Math.floor(t / 1000);
  }
  return false;
}

async function handle(ctx: Ctx, req: In, name: string, injected: FaultAction): Promise<Handled> {
  const now = req.now;
  const client = req.client;
  const violations: string[] = [];
  if (!userAgentOf(req)) violations.push("missing-user-agent");
  const group = GROUPS[name];
  const recent = name === "character_killmails" || name === "corporation_killmails";
  const auth = recent ? await authenticate(ctx, req) : undefined;
  // ESI keeps the authenticated groups' buckets per application + character, the others per IP.
  const bucketKey = auth?.ok ? `${group}:${auth.clientId}:${auth.characterId}` : `${group}:${client}`;
  const buckets = recent ? ctx.recentBuckets : group === "status" ? ctx.statusBuckets : ctx.buckets;
  let during420 = false;
  let reply: Reply;

  if (ctx.errors.limited(client, now)) {
    during420 = true;
    violations.push("request-during-420");
    reply = error(420, ERROR_LIMIT_MESSAGE);
  } else {
    const compat = header(req, "x-compatibility-date");
    const tenant = header(req, "x-tenant");
    if (compat !== undefined && (!/^\d{4}-\d{2}-\d{2}$/.test(compat) || Number.isNaN(Date.parse(compat)))) {
      reply = error(400, `Invalid X-Compatibility-Date header: ${compat}`);
    } else if (compat !== undefined && compat > currentCompatibilityDate(now)) {
      reply = error(400, `Invalid X-Compatibility-Date header: ${compat} is in the future`);
    } else if (tenant !== undefined && tenant !== "" && tenant !== "tranquility") {
      reply = error(400, `Unknown tenant: ${tenant}`);
    } else if (injected.kind === "error") {
      reply = error(injected.status, ESI_5XX_MESSAGES[injected.status] ?? "Unhandled internal error encountered!");
    } else if (group && buckets.remaining(bucketKey, now) <= 0) {
      const retry = buckets.retryAfter(bucketKey, now);
      const until = ctx.retryAfter.get(bucketKey);
      if (until !== undefined && now < until) violations.push("ignored-retry-after");
      ctx.retryAfter.set(bucketKey, now + retry * 1000);
      reply = error(429, "Too many requests", { "Retry-After": String(retry) });
    } else {
      if (auth && !auth.ok) reply = auth.reply;
      else if (auth?.ok) reply = recentKillmails(ctx, req, name, auth);
      else reply = await route(ctx, req, name);
      const times =
        reply.status !== 200
          ? undefined
          : recent
            ? { expires: now + ctx.recentCacheSeconds * 1000, lastModified: now }
            : cacheTimes(name, now);
      if (times && reply.body !== undefined) {
        const key = `${client} ${req.method} ${normalizeEsiPath(req.path)}?${req.query.get("type_id") ?? ""}&${req.query.get("page") ?? ""}`;
        const expiresAt = ctx.expiries.get(key);
        if (expiresAt !== undefined && now < expiresAt) violations.push("refetch-before-expires");
        if (ctx.expiries.size > 500_000) ctx.expiries.clear();
        ctx.expiries.set(key, times.expires);
        const etag = etagOf(reply.body);
        const cacheHeaders = {
          "Cache-Control": `public, max-age=${Math.max(0, Math.floor((times.expires - now) / 1000))}`,
          ETag: etag,
          Expires: new Date(times.expires).toUTCString(),
          "Last-Modified": new Date(times.lastModified).toUTCString(),
        };
        reply = notModified(req, etag, times.lastModified)
          ? { status: 304, headers: cacheHeaders }
          : { ...reply, headers: { ...reply.headers, ...cacheHeaders } };
      }
    }
  }

  // Bookkeeping after the answer is known: token cost, error count, limit headers.
  if (group) {
    const cost = reply.status === 420 ? 0 : tokenCost(reply.status);
    buckets.spend(bucketKey, cost, now);
    reply.headers["X-Ratelimit-Group"] = group;
    reply.headers["X-Ratelimit-Limit"] = `${buckets.maxTokens}/${windowLabel(buckets.windowMs / 1000)}`;
    reply.headers["X-Ratelimit-Remaining"] = String(Math.max(0, buckets.remaining(bucketKey, now)));
    reply.headers["X-Ratelimit-Used"] = String(cost);
  }
  // Routes under the token bucket pay for errors in tokens and carry only the X-Ratelimit-* headers
  // (esi-docs rate-limiting.md: the two header sets are mutually exclusive); 420 still applies to them.
  if (!group && reply.status >= 400 && reply.status !== 420 && ctx.errors.count(client, now)) ctx.recorder.tripped();
  if (!group || reply.status === 420) {
    reply.headers["X-ESI-Error-Limit-Remain"] = String(ctx.errors.remain(client, now));
    reply.headers["X-ESI-Error-Limit-Reset"] = String(ctx.errors.reset(client, now));
  }
  reply.headers["X-Esi-Request-Id"] = crypto.randomUUID();
  if (req.method === "HEAD") reply = { status: reply.status, headers: reply.headers };
  return { reply, violations, during420 };
}

export const esi = { routeOf, handle };
