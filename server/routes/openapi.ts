// The OpenAPI side of the HTTP API: the validation hook every documented route shares (a bad input answers
// 400 naming the field), small response helpers, and the document served at GET /openapi.json. Routes
// built with @hono/zod-openapi (admin-jobs.ts, admin-schedulers.ts) document themselves from their zod
// schemas; the older routes (status, killmails, auth, ledger, sso, metrics) are described here by hand
// (registerLegacyPaths) until they move to createRoute.

import type { Hook } from "@hono/zod-openapi";
import { type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context, Env } from "hono";

export const ADMIN_SECURITY = [{ adminToken: [] }];

/** `{error}` with a message; 400s also name the field (`field`) and list the issues. */
export const errorSchema = z.looseObject({ error: z.string() }).openapi("Error");

/** A 400 naming the first invalid field, e.g. `invalid query 'limit': Too big: expected number to be <=1000`. */
export function badInput(c: Context, target: string, error: z.ZodError) {
  const issue = error.issues[0];
  const field = issue?.path.join(".") || target;
  return c.json(
    {
      error: `invalid ${target} '${field}': ${issue?.message ?? "invalid"}`,
      field,
      issues: error.issues.map((i) => ({ field: i.path.join("."), message: i.message })),
    },
    400,
  );
}

/** The validation hook of every documented route: badInput on failure. */
export const validationHook: Hook<unknown, Env, string, unknown> = (result, c) => {
  if (!result.success) return badInput(c, result.target, result.error);
};

/** A JSON response entry for createRoute(). */
export function jsonResponse<S extends z.ZodType>(schema: S, description: string) {
  return { description, content: { "application/json": { schema } } };
}

/** The error answers every admin route may give besides its own. */
export const ADMIN_ERRORS = {
  400: jsonResponse(errorSchema, "invalid input: the field is named"),
  401: jsonResponse(errorSchema, "no or wrong admin token"),
  403: jsonResponse(errorSchema, "admin API disabled (ADMIN_TOKEN unset)"),
};

const anyJson = z.looseObject({}).openapi("Json");

/** Documents the routes not (yet) built with createRoute: method, path, summary, and whether they are admin routes. */
export function registerLegacyPaths(app: OpenAPIHono): void {
  const paths: [method: "get" | "post", path: string, summary: string, admin: boolean][] = [
    ["get", "/health", "liveness: the process answers", false],
    ["get", "/api/status", "queue counts, kills stored, ESI budget, SSO counts", false],
    ["get", "/api/killmails/{id}", "one stored killmail (ESI body, values)", false],
    ["post", "/api/killmails", "hand in a killmail id and hash (rate-limited per client)", false],
    ["get", "/auth/login", "EVE SSO login (redirect)", false],
    ["get", "/auth/callback", "EVE SSO callback", false],
    ["get", "/metrics", "Prometheus metrics", true],
    ["get", "/admin/api/ledger/failed", "failed intake and outbox ledger rows with their reasons", true],
    ["post", "/admin/api/ledger/retry", "re-drive failed ledger rows", true],
    ["get", "/admin/api/sso", "members, their tokens and syncs", true],
    ["post", "/admin/api/sso/{id}/sync", "poll a character's or corporation's syncs now", true],
    ["post", "/admin/api/sso/{id}/revoke", "revoke a character's token", true],
    ["post", "/admin/api/reconcile", "re-queue what Redis lost", true],
    ["post", "/admin/api/relay", "relay pending outbox rows now", true],
  ];
  for (const [method, path, summary, admin] of paths) {
    const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
    app.openAPIRegistry.registerPath({
      method,
      path,
      summary,
      tags: [admin ? "admin" : "public"],
      ...(admin ? { security: ADMIN_SECURITY } : {}),
      ...(params.length ? { request: { params: z.object(Object.fromEntries(params.map((p) => [p, z.string()]))) } } : {}),
      responses: admin
        ? { 200: jsonResponse(anyJson, "success"), 401: ADMIN_ERRORS[401], 403: ADMIN_ERRORS[403] }
        : { 200: { description: "success" } },
    });
  }
}

/** Serves the document of everything registered on `app` at GET /openapi.json (public: it holds no data). */
export function serveOpenApi(app: OpenAPIHono): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "adminToken", {
    type: "http",
    scheme: "bearer",
    description: "ADMIN_TOKEN (a browser may use Basic auth with the token as password)",
  });
  registerLegacyPaths(app);
  app.doc("/openapi.json", {
    openapi: "3.0.3",
    info: {
      title: "killboard-core HTTP API",
      version: "1",
      description: "Public API and the token-protected admin API of the killboard core.",
    },
  });
}
