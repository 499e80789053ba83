// Killmail routes: POST /api/killmails (a killmail to fetch and store: validated, recorded in the
// intake ledger, enqueued at the user tier; 202 with the job id) and GET /api/killmails/:id (the ESI
// body exactly as ESI sent it, rebuilt from the database, with its values).
import { Hono } from "hono";
import { storedKillmailIds, submitKillmails } from "../killmails/intake.ts";
import { loadKillmail } from "../killmails/read.ts";
import {
  type KillmailReference,
  KillmailReferenceError,
  killmailIdFromDigits,
  MAX_KILLMAIL_ID,
  parseKillmailReference,
} from "../killmails/reference.ts";

export interface KillmailRouteDeps {
  /** Resolves a zKillboard kill (no hash in its URL) to its hash and, when available, its ESI body. */
  resolveZkillboard?: (killmailId: number) => Promise<{ hash: string; esi?: import("../esi/killmail-schema.ts").EsiKillmail } | null>;
}

export function killmailRoutes(deps: KillmailRouteDeps = {}): Hono {
  const app = new Hono();

  app.post("/api/killmails", async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: "body must be JSON" }, 400);
    }
    let ref: KillmailReference;
    try {
      ref = parseKillmailReference(body);
    } catch (err) {
      if (err instanceof KillmailReferenceError) return c.json({ error: err.message }, 400);
      throw err;
    }
    if ((await storedKillmailIds([ref.killmailId])).size > 0) {
      return c.json({ killmailId: ref.killmailId, status: "already-stored", url: `/api/killmails/${ref.killmailId}` }, 200);
    }
    let item: Parameters<typeof submitKillmails>[0][number];
    if (ref.kind === "esi") item = { killmailId: ref.killmailId, hash: ref.hash };
    else {
      if (!deps.resolveZkillboard) return c.json({ error: "zKillboard URLs are not supported by this server" }, 400);
      let found: Awaited<ReturnType<typeof deps.resolveZkillboard>>;
      try {
        found = await deps.resolveZkillboard(ref.killmailId);
      } catch (err) {
        return c.json({ error: `could not look killmail ${ref.killmailId} up on zKillboard: ${(err as Error).message}` }, 502);
      }
      if (!found) return c.json({ error: `zKillboard does not know killmail ${ref.killmailId}` }, 400);
      item = { killmailId: ref.killmailId, hash: found.hash, esi: found.esi };
    }
    const result = await submitKillmails([item], { source: "http" });
    const jobId = result.jobIds.get(ref.killmailId);
    if (!jobId) {
      return c.json({ killmailId: ref.killmailId, status: "already-stored", url: `/api/killmails/${ref.killmailId}` }, 200);
    }
    return c.json(
      {
        killmailId: ref.killmailId,
        jobId,
        status: result.enqueued > 0 ? "queued" : "already-queued",
        url: `/api/killmails/${ref.killmailId}`,
      },
      202,
    );
  });

  app.get("/api/killmails/:id{[0-9]+}", async (c) => {
    const id = killmailIdFromDigits(c.req.param("id"));
    if (id === undefined) return c.json({ error: `killmail id must be a whole number from 1 to ${MAX_KILLMAIL_ID}` }, 400);
    const stored = await loadKillmail(id);
    if (!stored) return c.json({ error: `killmail ${id} is not stored` }, 404);
    return c.json({ killmail: stored.killmail, hash: stored.hash, values: stored.values });
  });

  app.get("/api/killmails/:id", (c) => c.json({ error: "killmail id must be a positive integer" }, 400));

  return app;
}
