// EVE Ref killmail archives at "/everef": /killmails/totals.json ({YYYYMMDD: count}) and
// /killmails/YYYY/killmails-YYYY-MM-DD.tar.bz2, one killmail per file `killmails/{id}.json` (the ESI body
// plus EVE Ref's own `killmail_hash` and `http_last_modified`). Only whole (fully published) days are
// archived. Archives are built with /usr/bin/bzip2 and cached.
import { spawn } from "node:child_process";
import type { FaultAction } from "../faults.ts";
import { type Ctx, error, type Handled, type In, json, type Reply } from "../http.ts";
import { DAY_MS } from "../world/market.ts";

const archives = new WeakMap<Ctx, Map<number, Promise<Buffer>>>();

function routeOf(method: string, path: string): string {
  if (method !== "GET" && method !== "HEAD") return "method_not_allowed";
  if (path === "/killmails/totals.json") return "totals";
  if (/^\/killmails\/\d{4}\/killmails-\d{4}-\d{2}-\d{2}\.tar\.bz2$/.test(path)) return "archive";
  return "unknown";
}

/** A ustar header block for a regular file. */
function tarHeader(name: string, size: number, mtimeSec: number): Buffer {
  const h = Buffer.alloc(512, 0);
  const put = (s: string, off: number, len: number) => h.write(s.slice(0, len), off, len, "ascii");
  const octal = (n: number, len: number) => `${n.toString(8).padStart(len - 1, "0")}\0`;
  put(name, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(mtimeSec, 12), 136, 12);
  put("        ", 148, 8);
  put("0", 156, 1);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  return h;
}

/** An uncompressed tar of files. */
export function tar(files: { name: string; body: Buffer; mtimeSec: number }[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) {
    parts.push(tarHeader(f.name, f.body.length, f.mtimeSec), f.body);
    const pad = (512 - (f.body.length % 512)) % 512;
    if (pad) parts.push(Buffer.alloc(pad, 0));
  }
  parts.push(Buffer.alloc(1024, 0));
  return Buffer.concat(parts);
}

function bzip2(data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn("bzip2", ["-c", "-9"], { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`bzip2 exited ${code}: ${err}`))));
    child.stdin.end(data);
  });
}

function buildArchive(ctx: Ctx, day: number, now: number): Promise<Buffer> {
  const w = ctx.world;
  const files = w
    .dayIndices(day, now)
    .sort((a, b) => w.idOfIndex(a) - w.idOfIndex(b))
    .map((i) => {
      const rec = w.killmail(i);
      const lastModified = new Date(rec.timeMs + 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
      const body = Buffer.from(JSON.stringify({ ...rec.esi, killmail_hash: rec.hash, http_last_modified: lastModified }));
      return { name: `killmails/${rec.killmail_id}.json`, body, mtimeSec: Math.floor(rec.timeMs / 1000) };
    });
  return bzip2(tar(files));
}

async function route(ctx: Ctx, req: In, name: string): Promise<Reply> {
  const w = ctx.world;
  if (name === "totals") return json(200, w.dayTotals(req.now, true));
  if (name === "archive") {
    const m = /^\/killmails\/(\d{4})\/killmails-(\d{4})-(\d{2})-(\d{2})\.tar\.bz2$/.exec(req.path)!;
    const t = Date.parse(`${m[2]}-${m[3]}-${m[4]}T00:00:00Z`);
    if (m[1] !== m[2] || Number.isNaN(t)) return error(404, "Not found");
    const day = Math.floor(t / DAY_MS);
    const key = `${m[2]}${m[3]}${m[4]}`;
    if (!(key in w.dayTotals(req.now, true))) return error(404, "Not found");
    const cache = archives.get(ctx) ?? new Map<number, Promise<Buffer>>();
    archives.set(ctx, cache);
    let pending = cache.get(day);
    if (!pending) {
      pending = buildArchive(ctx, day, req.now);
      if (cache.size >= 32) cache.delete(cache.keys().next().value!);
      cache.set(day, pending);
      pending.catch(() => cache.delete(day));
    }
    const body = await pending;
    return {
      status: 200,
      headers: { "Content-Type": "application/x-bzip2", "Last-Modified": new Date((day + 1) * DAY_MS + 3_600_000).toUTCString() },
      body,
    };
  }
  if (name === "method_not_allowed") return error(405, "Method not allowed");
  return error(404, "Not found");
}

async function handle(ctx: Ctx, req: In, name: string, injected: FaultAction): Promise<Handled> {
  if (injected.kind === "error") return { reply: error(injected.status, "Service unavailable"), violations: [] };
  return { reply: await route(ctx, req, name), violations: [] };
}

export const everef = { routeOf, handle };
