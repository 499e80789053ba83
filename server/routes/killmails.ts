// Killmail routes: POST /api/killmails (a killmail to fetch and store: validated, recorded in the
// intake ledger, enqueued at the user tier; 202 with the job id; a pair ESI refused before is answered
// 400 without asking it again; rate- and size-limited by intake-guard.ts) and GET /api/killmails/:id
// (the ESI body exactly as ESI sent it, rebuilt from the database, with its values).
import { Hono, type MiddlewareHandler } from "hono";
import { postState, submitKillmails } from "../killmails/intake.ts";
import { loadKillmail } from "../killmails/read.ts";
import {
  type KillmailReference,
  KillmailReferenceError,
  killmailIdFromDigits,
  MAX_KILLMAIL_ID,
  parseKillmailReference,
} from "../killmails/reference.ts";
import { admitFetch, admitPost, clientOf, isOperator, limitBody, tooMany } from "./intake-guard.ts";

export interface KillmailRouteDeps {
  /** Resolves a zKillboard kill (no hash in its URL) to its hash and, when available, its ESI body. */
  resolveZkillboard?: (killmailId: number) => Promise<{ hash: string; esi?: import("../esi/killmail-schema.ts").EsiKillmail } | null>;
}

/** What the guard found out about the caller, for the handler. */
type Guarded = { Variables: { client: string; operator: boolean } };

export function killmailRoutes(deps: KillmailRouteDeps = {}): Hono<Guarded> {
  const app = new Hono<Guarded>();

  // Every post counts against its client's limit (cheap ones too); an operator's never does. Counted
  // before the body is read, so a flood is turned away at the cost of one Redis call per post.
  const guard: MiddlewareHandler<Guarded> = async (c, next) => {
    const operator = isOperator(c);
    const client = clientOf(c);
    c.set("operator", operator);
    c.set("client", client);
    if (!operator) {
      const refused = await admitPost(client);
      if (refused) return tooMany(c, refused, client);
    }
    await next();
  };

  app.post("/api/killmails", guard, limitBody(), async (c) => {
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
    if (ref.kind === "zkillboard" && !deps.resolveZkillboard)
      return c.json({ error: "zKillboard URLs are not supported by this server" }, 400);
    const state = await postState(ref.killmailId, ref.kind === "esi" ? ref.hash : undefined);
    if (state.kind === "stored") {
      return c.json({ killmailId: ref.killmailId, status: "already-stored", url: `/api/killmails/${ref.killmailId}` }, 200);
    }
    if (state.kind === "known-bad") {
      // ESI refused this very pair before: asking again would cost a fetch and fail the same way.
      return c.json({ killmailId: ref.killmailId, status: "known-bad", error: `known bad pair: ${state.reason}` }, 400);
    }
    // Only a post that makes us ask upstream (an ESI fetch, or zKillboard for a zKillboard URL) counts
    // against the fetch limits: a repost of a queued kill adds nothing.
    if (state.kind === "new" && !c.get("operator")) {
      const refused = await admitFetch(c.get("client"));
      if (refused) return tooMany(c, refused, c.get("client"));
    }
    let item: Parameters<typeof submitKillmails>[0][number];
    if (ref.kind === "esi") item = { killmailId: ref.killmailId, hash: ref.hash };
    else {
      // Checked before counting the post: a server without the wiring answers 400 above.
      const resolve = deps.resolveZkillboard!;
      let found: Awaited<ReturnType<typeof resolve>>;
      try {
        found = await resolve(ref.killmailId);
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
