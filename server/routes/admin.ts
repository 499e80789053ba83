// The operator's web surface, behind ADMIN_TOKEN (Authorization: Bearer <token>, or Basic with any user
// and the token as password so a browser can open the dashboard): the bull-board dashboard at
// /admin/queues, the JSON admin API (queues and single jobs: admin-jobs.ts; schedulers: admin-schedulers.ts;
// ledger, SSO, reconcile, relay here) and Prometheus metrics at /metrics. Without ADMIN_TOKEN all of it
// answers 403.

import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { HonoAdapter } from "@bull-board/hono";
import { OpenAPIHono } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { serveStatic } from "hono/bun";
import { z } from "zod";
import { config } from "../helpers/config.ts";
import { metricsText } from "../metrics/collect.ts";
import { listLedgerFailures, retryLedgerFailures } from "../outbox/failures.ts";
import { reconcile } from "../outbox/reconcile.ts";
import { relayOutbox } from "../outbox/relay.ts";
import { getQueue } from "../queues/queue.ts";
import { QUEUE_NAMES } from "../queues/registry.ts";
import { listSso, revokeSso, syncSsoNow } from "../sso/manage.ts";
import { adminJobRoutes } from "./admin-jobs.ts";
import { adminSchedulerRoutes } from "./admin-schedulers.ts";
import { presentsAdminToken } from "./admin-token.ts";

/** Accepts `Bearer <token>` or `Basic <anything>:<token>`. */
export function requireAdmin(): MiddlewareHandler {
  return async (c, next) => {
    const token = config().adminToken;
    if (!token) return c.json({ error: "admin API disabled: set ADMIN_TOKEN to enable it" }, 403);
    if (!presentsAdminToken(c, token)) {
      c.header("WWW-Authenticate", 'Basic realm="killboard admin"');
      return c.json({ error: "admin token required" }, 401);
    }
    await next();
  };
}

const idsOrAll = z.union([z.literal("all"), z.array(z.number().int().positive()).min(1).max(100_000)]);
const retryBody = z.object({ intake: idsOrAll.optional(), outbox: idsOrAll.optional() }).strict();

export function adminRoutes(): OpenAPIHono {
  const app = new OpenAPIHono();
  app.use("/admin/*", requireAdmin());
  app.use("/metrics", requireAdmin());

  const board = new HonoAdapter(serveStatic);
  board.setBasePath("/admin/queues");
  createBullBoard({
    queues: QUEUE_NAMES.map((q) => new BullMQAdapter(getQueue(q))),
    serverAdapter: board,
    options: { uiConfig: { boardTitle: "Killboard queues" } },
  });
  app.route("/admin/queues", board.registerPlugin());

  // Queues, single jobs and schedulers: documented routes (OpenAPI), behind the same token.
  app.route("/", adminJobRoutes());
  app.route("/", adminSchedulerRoutes());

  app.get("/admin/api/ledger/failed", async (c) => {
    const limit = Number(c.req.query("limit") ?? 50);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
      return c.json({ error: "limit must be a whole number from 1 to 10000" }, 400);
    return c.json(await listLedgerFailures(limit));
  });
  app.post("/admin/api/ledger/retry", async (c) => {
    const body = retryBody.safeParse(await c.req.json().catch(() => undefined));
    if (!body.success || (!body.data.intake && !body.data.outbox)) {
      return c.json({ error: 'body must be {"intake"?: "all" | [killmail ids], "outbox"?: "all" | [outbox row ids]}, at least one' }, 400);
    }
    const { intake, outbox } = body.data;
    return c.json(await retryLedgerFailures({ ...(intake ? { intake } : {}), ...(outbox ? { outbox } : {}) }));
  });
  app.get("/admin/api/sso", async (c) => c.json(await listSso()));
  app.post("/admin/api/sso/:id{[0-9]{1,12}}/sync", async (c) => {
    const id = Number(c.req.param("id"));
    const started = await syncSsoNow(id);
    if (started.length === 0) return c.json({ error: `no active sync of character or corporation ${id}` }, 404);
    return c.json({ id, started });
  });
  app.post("/admin/api/sso/:id{[0-9]{1,12}}/revoke", async (c) => {
    const id = Number(c.req.param("id"));
    const result = await revokeSso(id);
    if (!result.found) return c.json({ error: `no character ${id} logged in` }, 404);
    return c.json({ characterId: id, ...result });
  });
  app.post("/admin/api/reconcile", async (c) => c.json(await reconcile()));
  app.post("/admin/api/relay", async (c) => c.json(await relayOutbox()));

  app.get("/metrics", async (c) => {
    const { contentType, body } = await metricsText();
    return c.body(body, 200, { "content-type": contentType });
  });
  return app;
}
