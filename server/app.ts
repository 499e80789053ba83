// The HTTP application (hono): public API, status/health, and the token-protected admin surface.
// Built by a function so tests drive it with app.request() and server/index.ts serves it.
import { Hono } from "hono";
import { log } from "./helpers/logger.ts";
import { adminRoutes } from "./routes/admin.ts";
import { authRoutes } from "./routes/auth.ts";
import { type KillmailRouteDeps, killmailRoutes } from "./routes/killmails.ts";
import { statusRoutes } from "./routes/status.ts";

export function createApp(deps: KillmailRouteDeps = {}): Hono {
  const app = new Hono();
  const logger = log("http");
  // Access log: method, path (never the query string, which may carry a token), status, duration.
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    logger.info({ method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) }, "request");
  });
  app.route("/", statusRoutes());
  app.route("/", killmailRoutes(deps));
  app.route("/", authRoutes());
  app.route("/", adminRoutes());
  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => {
    logger.error({ err: err.message, path: c.req.path }, "request failed");
    return c.json({ error: "internal error" }, 500);
  });
  return app;
}
