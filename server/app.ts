// The HTTP application (hono): public API, status/health, the token-protected admin surface, and the
// OpenAPI document of all of it at GET /openapi.json.
// Built by a function so tests drive it with app.request() and server/index.ts serves it.
import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import { log } from "./helpers/logger.ts";
import { adminRoutes } from "./routes/admin.ts";
import { authRoutes } from "./routes/auth.ts";
import { type KillmailRouteDeps, killmailRoutes } from "./routes/killmails.ts";
import { serveOpenApi } from "./routes/openapi.ts";
import { statusRoutes } from "./routes/status.ts";

export function createApp(deps: KillmailRouteDeps = {}): OpenAPIHono {
  const app = new OpenAPIHono();
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
  serveOpenApi(app);
  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => {
    // The framework's own answers (malformed JSON, unsupported media type) keep their status.
    if (err instanceof HTTPException) return c.json({ error: err.message }, err.status);
    logger.error({ err: err.message, path: c.req.path }, "request failed");
    return c.json({ error: "internal error" }, 500);
  });
  return app;
}
