// R2Z2 at "/r2z2": the live feed (sequence.json + one envelope per sequence number, 404 past the head)
// and daily history files ({killID: hash}, raw {killID: ESI body}, totals). Only published kills appear.
// With `rawMissing` a fixed share of kills (chosen by id) is left out of the raw files only, as when
// zKillboard has no body for a kill: importers must fall back to the id/hash list for those.
import type { FaultAction } from "../faults.ts";
import { type Ctx, error, type Handled, type In, JSON_TYPE, json, type Reply } from "../http.ts";
import { DAY_MS } from "../world/market.ts";
import { hash32 } from "../world/rng.ts";

/** Sequence number of generated kill index 0. */
export const SEQUENCE_BASE = 100_000_000;

const rawCache = new WeakMap<Ctx, Map<string, string>>();

function routeOf(method: string, path: string): string {
  if (method !== "GET" && method !== "HEAD") return "method_not_allowed";
  if (path === "/ephemeral/sequence.json") return "sequence";
  if (/^\/ephemeral\/\d+\.json$/.test(path)) return "ephemeral";
  if (path === "/history/totals.json") return "history_totals";
  if (/^\/history\/\d{8}\.json$/.test(path)) return "history_day";
  if (/^\/history\/raw\/\d{8}\.json$/.test(path)) return "history_raw";
  return "unknown";
}

/** True when the raw history files leave this kill out (a `rawMissing` share, stable per id). */
export function missingFromRaw(ctx: Ctx, killmailId: number): boolean {
  return ctx.rawMissing > 0 && hash32(killmailId, 0x7a11) / 4294967296 < ctx.rawMissing;
}

/** Day number from YYYYMMDD, or undefined. */
function parseDay(s: string): number | undefined {
  const t = Date.parse(`${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T00:00:00Z`);
  return Number.isNaN(t) ? undefined : Math.floor(t / DAY_MS);
}

export function envelope(ctx: Ctx, index: number): Record<string, unknown> {
  const rec = ctx.world.killmail(index);
  return {
    killmail_id: rec.killmail_id,
    hash: rec.hash,
    esi: rec.esi,
    zkb: rec.zkb,
    uploaded_at: Math.floor(rec.timeMs / 1000) + 5 + (hash32(rec.killmail_id, 0x0a) % 600),
    // R2Z2 numbers the kills posted to zKillboard: private kills take no number.
    sequence_id: SEQUENCE_BASE + ctx.world.publicCountBelow(index),
  };
}

function route(ctx: Ctx, req: In, name: string): Reply {
  const w = ctx.world;
  const head = w.feedHead(req.now);
  switch (name) {
    case "sequence": {
      const latest = w.publicCountBelow(head) - 1;
      const every = Math.max(1, ctx.sequenceEvery);
      const reported = latest < 0 ? -1 : latest - (latest % every);
      return json(200, { sequence: SEQUENCE_BASE + reported }, { "Cache-Control": "public, max-age=1" });
    }
    case "ephemeral": {
      const n = Number(/(\d+)\.json$/.exec(req.path)![1]);
      const index = w.indexOfPublicRank(n - SEQUENCE_BASE);
      if (index === undefined || index >= head) return error(404, "Not found");
      return json(200, envelope(ctx, index), { "Cache-Control": "public, max-age=3600" });
    }
    case "history_totals":
      return json(200, w.dayTotals(req.now));
    case "history_day":
    case "history_raw": {
      const day = parseDay(/(\d{8})\.json$/.exec(req.path)![1]!);
      if (day === undefined) return error(404, "Not found");
      const indices = w.dayIndices(day, req.now);
      if (indices.length === 0) return error(404, "Not found");
      if (name === "history_day") {
        const out: Record<string, string> = {};
        for (const i of indices) out[String(w.idOfIndex(i))] = w.hashOfIndex(i);
        return json(200, out);
      }
      const complete = w.dayComplete(day, req.now);
      const cache = rawCache.get(ctx) ?? new Map<string, string>();
      rawCache.set(ctx, cache);
      const key = String(day);
      let body = complete ? cache.get(key) : undefined;
      if (body === undefined) {
        // Keys in ascending killmail_id order, like a JSON object with numeric keys.
        const sorted = indices.filter((i) => !missingFromRaw(ctx, w.idOfIndex(i))).sort((a, b) => w.idOfIndex(a) - w.idOfIndex(b));
        const parts = sorted.map((i) => `"${w.idOfIndex(i)}":${JSON.stringify(w.killmail(i).esi)}`);
        body = `{${parts.join(",")}}`;
        if (complete) {
          if (cache.size >= 4) cache.delete(cache.keys().next().value!);
          cache.set(key, body);
        }
      }
      return { status: 200, headers: { "Content-Type": JSON_TYPE }, body };
    }
    case "method_not_allowed":
      return error(405, "Method not allowed");
    default:
      return error(404, "Not found");
  }
}

function handle(ctx: Ctx, req: In, name: string, injected: FaultAction): Handled {
  if (!ctx.r2z2Gate.admit(req.client, req.now))
    return { reply: error(429, "Too many requests", { "Retry-After": "1" }), violations: ["r2z2-rate"] };
  if (injected.kind === "error") return { reply: error(injected.status, "Service unavailable"), violations: [] };
  return { reply: route(ctx, req, name), violations: [] };
}

export const r2z2 = { routeOf, handle };
