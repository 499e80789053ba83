// zKillboard API at "/zkb" (the real https://zkillboard.com/api): /{characterID|corporationID|allianceID}/
// {id}/page/{n}/ and /killID/{id}/ (one kill, `[]` when unknown) — trailing slash required, pages
// 1–100, no query string (403), User-Agent and Accept-Encoding gzip required (403), about 1 request/s
// per client (429), 200 kills per page newest first, each the full ESI killmail plus zkb, kills
// published less than zkbDelaySeconds ago left out; more than zkbErrorLimit errors in 5 minutes gets
// the client blocked (403) until they age out.
import type { FaultAction } from "../faults.ts";
import { acceptsGzip, type Ctx, error, type Handled, type In, json, type Reply, userAgentOf } from "../http.ts";
import type { EntityKind } from "../world/index.ts";

export const ZKB_PAGE_SIZE = 200;
const KINDS: Record<string, EntityKind> = { characterID: "character", corporationID: "corporation", allianceID: "alliance" };

function routeOf(method: string, _path: string): string {
  return method === "GET" || method === "HEAD" ? "api" : "method_not_allowed";
}

/** Published and older than the API's delay: what the API shows. */
function visible(ctx: Ctx, index: number, now: number): boolean {
  return (
    ctx.world.isPublished(index, now) && !ctx.world.isPrivate(index) && ctx.world.publishedAt(index) <= now - ctx.zkbDelaySeconds * 1000
  );
}

/** /killID/{id}/: the kill as a one-element list (full ESI killmail plus zkb), `[]` when not shown. */
function killById(ctx: Ctx, req: In, m: RegExpExecArray): Reply {
  if (!m[2]) return error(404, "Invalid API request: a trailing slash is required");
  const index = ctx.world.indexOfId(Number(m[1]));
  const body: Record<string, unknown>[] = [];
  if (index !== undefined && visible(ctx, index, req.now)) {
    const rec = ctx.world.killmail(index);
    body.push({ ...rec.esi, zkb: rec.zkb });
  }
  return json(200, body, { "Cache-Control": "public, max-age=3600", "Access-Control-Allow-Origin": "*" });
}

function page(ctx: Ctx, req: In): Reply {
  const byId = /^\/killID\/(\d+)(\/?)$/.exec(req.path);
  if (byId) return killById(ctx, req, byId);
  const m = /^\/(\w+)\/(\d+)\/page\/(\d+)(\/?)$/.exec(req.path);
  if (!m) return error(404, "Invalid API request: expected /{characterID|corporationID|allianceID}/{id}/page/{n}/ or /killID/{id}/");
  const [, kindParam, idParam, pageParam, slash] = m;
  if (!slash) return error(404, "Invalid API request: a trailing slash is required");
  const kind = KINDS[kindParam!];
  if (!kind) return error(400, `Unsupported modifier ${kindParam}; this API serves characterID, corporationID and allianceID`);
  const n = Number(pageParam);
  if (n < 1 || n > 100) return error(400, "Page must be between 1 and 100");
  const w = ctx.world;
  const shown = w.entityKills(kind, Number(idParam)).filter((i) => visible(ctx, i, req.now));
  const slice = shown.slice((n - 1) * ZKB_PAGE_SIZE, n * ZKB_PAGE_SIZE);
  const body = slice.map((i) => {
    const rec = w.killmail(i);
    return { ...rec.esi, zkb: rec.zkb };
  });
  return json(200, body, { "Cache-Control": "public, max-age=3600", "Access-Control-Allow-Origin": "*" });
}

function handle(ctx: Ctx, req: In, name: string, injected: FaultAction): Handled {
  const violations: string[] = [];
  const now = req.now;
  let reply: Reply;
  if (ctx.zkbErrors.over(req.client, now)) {
    violations.push("zkb-blocked");
    return { reply: error(403, "Blocked: too many errors, slow down"), violations };
  }
  if (name === "method_not_allowed") reply = error(405, "Method not allowed");
  else if (req.rawQuery !== "") {
    violations.push("zkb-query-string");
    reply = error(403, "Forbidden - Do not include a query string to evade cache");
  } else if (!userAgentOf(req)) {
    violations.push("missing-user-agent");
    reply = error(403, "Forbidden - a User-Agent with contact information is required");
  } else if (!acceptsGzip(req)) {
    violations.push("zkb-no-gzip");
    reply = error(403, "Forbidden - requests must accept gzip (Accept-Encoding: gzip)");
  } else if (!ctx.zkbGate.admit(req.client, now)) {
    violations.push("zkb-rate");
    reply = error(429, "Too many requests, about 1 request per second please", { "Retry-After": "1" });
  } else if (injected.kind === "error") reply = error(injected.status, "Server error.");
  else reply = page(ctx, req);
  if (reply.status >= 400) ctx.zkbErrors.add(req.client, now);
  return { reply, violations };
}

export const zkb = { routeOf, handle };
