// Admin API over job schedulers (mounted under requireAdmin by admin.ts; documented at /openapi.json):
// list with next and last run, pause/resume (see server/queues/schedulers.ts for how a pause is kept),
// remove, and upsert with a validated cron pattern or interval. Shared with the CLI's schedulers:*.
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import {
  isDeclaredScheduler,
  listSchedulers,
  pauseScheduler,
  removeScheduler,
  resumeScheduler,
  type SchedulerChange,
  schedulerExists,
  schedulerTiming,
  upsertScheduler,
} from "../queues/schedulers.ts";
import { ADMIN_ERRORS, ADMIN_SECURITY, errorSchema, jsonResponse, validationHook } from "./openapi.ts";

const schedulerId = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,100}$/, "letters, digits, '_', '.', '-' (no ':')")
  .openapi({ param: { name: "id", in: "path" }, example: "price-daily" });
const params = z.object({ id: schedulerId });
const schedulerSchema = z
  .looseObject({
    id: z.string(),
    queue: z.string(),
    pattern: z.string().nullable(),
    every: z.number().nullable(),
    tz: z.string().nullable(),
    paused: z.boolean(),
    next: z.number().nullable().openapi({ description: "epoch ms of the next run (null while paused)" }),
    lastRun: z.number().nullable().openapi({ description: "epoch ms a job of it last started" }),
    declared: z.boolean(),
    description: z.string().nullable(),
    data: z.unknown(),
  })
  .openapi("Scheduler");
// The timing's rules (one of cron or every, a parsable pattern, bounds) live in one schema, shared with the
// CLI (server/queues/schedulers.ts; not extended with .openapi(): it may be built before @hono/zod-openapi loads).
const TIMING_HELP =
  'one of {"cron": "15 11 * * *"} (UTC, 5 fields) or {"every": 600000} (ms, 1,000 to a year); {} gives a default scheduler its declared timing';

const base = { tags: ["admin: schedulers"], security: ADMIN_SECURITY };
const notFound = { 404: jsonResponse(errorSchema, "no such scheduler") };

const routes = {
  list: createRoute({
    ...base,
    method: "get",
    path: "/admin/api/schedulers",
    summary: "Every job scheduler, running and paused, with its next and last run",
    responses: { 200: jsonResponse(z.object({ schedulers: z.array(schedulerSchema) }), "the schedulers"), ...ADMIN_ERRORS },
  }),
  pause: createRoute({
    ...base,
    method: "post",
    path: "/admin/api/schedulers/{id}/pause",
    summary: "Pause a scheduler: no more runs until resumed (bun queue does not re-create it)",
    request: { params },
    responses: { 200: jsonResponse(schedulerSchema, "paused (or already paused)"), ...notFound, ...ADMIN_ERRORS },
  }),
  resume: createRoute({
    ...base,
    method: "post",
    path: "/admin/api/schedulers/{id}/resume",
    summary: "Resume a paused scheduler as it was",
    request: { params },
    responses: { 200: jsonResponse(schedulerSchema, "running (or already running)"), ...notFound, ...ADMIN_ERRORS },
  }),
  remove: createRoute({
    ...base,
    method: "delete",
    path: "/admin/api/schedulers/{id}",
    summary: "Remove a scheduler (a default one returns at the next bun queue start: pause it to stop it for good)",
    request: { params },
    responses: { 200: jsonResponse(z.object({ id: z.string(), removed: z.boolean() }), "removed"), ...notFound, ...ADMIN_ERRORS },
  }),
  upsert: createRoute({
    ...base,
    method: "put",
    path: "/admin/api/schedulers/{id}",
    summary: "Create (a default one) or retime a scheduler: a cron pattern or an interval",
    request: { params, body: { required: true, description: TIMING_HELP, content: { "application/json": { schema: schedulerTiming } } } },
    responses: { 200: jsonResponse(schedulerSchema, "the scheduler as it is now"), ...notFound, ...ADMIN_ERRORS },
  }),
};

export function adminSchedulerRoutes(): OpenAPIHono {
  const app = new OpenAPIHono({ defaultHook: validationHook });
  const find = async (id: string) => (await listSchedulers()).find((s) => s.id === id);
  const changed = async (id: string, change: SchedulerChange) => (change.outcome === "done" ? change.scheduler : await find(id));

  app.openapi(routes.list, async (c) => c.json({ schedulers: await listSchedulers() }, 200));
  app.openapi(routes.pause, async (c) => {
    const { id } = c.req.valid("param");
    const scheduler = await changed(id, await pauseScheduler(id));
    if (!scheduler) return c.json({ error: `no job scheduler '${id}'` }, 404);
    return c.json(scheduler, 200);
  });
  app.openapi(routes.resume, async (c) => {
    const { id } = c.req.valid("param");
    const scheduler = await changed(id, await resumeScheduler(id));
    if (!scheduler) return c.json({ error: `no job scheduler '${id}'` }, 404);
    return c.json(scheduler, 200);
  });
  app.openapi(routes.remove, async (c) => {
    const { id } = c.req.valid("param");
    if (!(await removeScheduler(id))) return c.json({ error: `no job scheduler '${id}'` }, 404);
    return c.json({ id, removed: true }, 200);
  });
  app.openapi(routes.upsert, async (c) => {
    const { id } = c.req.valid("param");
    const timing = c.req.valid("json");
    if (!(await schedulerExists(id))) return c.json({ error: `no job scheduler '${id}' (declared in the registry or existing)` }, 404);
    if (!timing && !isDeclaredScheduler(id))
      return c.json(
        { error: "invalid json 'cron': give cron or every (only a default scheduler has a declared timing)", field: "cron" },
        400,
      );
    await upsertScheduler(id, timing);
    return c.json((await find(id))!, 200);
  });
  return app;
}
