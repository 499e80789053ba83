// Killmail routes: POST /api/killmails (a killmail to fetch and store: validated, recorded in the
// intake ledger, enqueued at the user tier; 202 with the job id; a pair ESI refused before is answered
// 400 without asking it again) and GET /api/killmails/:id (the ESI
// body exactly as ESI sent it, rebuilt from the database, with its values).
import { Hono } from "hono";
import { postState, submitKillmails } from "../killmails/intake.ts";
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
    const state = await postState(ref.killmailId, ref.kind === "esi" ? ref.hash : undefined);
    if (state.kind === "stored") {
      return c.json({ killmailId: ref.killmailId, status: "already-stored", url: `/api/killmails/${ref.killmailId}` }, 200);
    }
    if (state.kind === "known-bad") {
      // ESI refused this very pair before: asking again would cost a fetch and fail the same way.
      return c.json({ killmailId: ref.killmailId, status: "known-bad", error: `known bad pair: ${state.reason}` }, 400);
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
