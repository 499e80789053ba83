// Admin API over queues and single jobs (mounted under requireAdmin by admin.ts), built with
// @hono/zod-openapi so each route's zod schemas validate it and document it at /openapi.json. The work
// is done by server/queues/jobs.ts, shared with the CLI. An unknown queue answers 404 (before any
// validation), a bad input 400 naming the field.
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import {
  CLEAN_STATES,
  cleanQueue,
  jobDetail,
  jobsAcrossQueues,
  LIST_STATES,
  listJobs,
  MAX_PAGE,
  promoteJob,
  removeJob,
  retryFailed,
  retryJob,
} from "../queues/jobs.ts";
import { getQueue } from "../queues/queue.ts";
import { isQueueName, QUEUE_NAMES, type QueueName } from "../queues/registry.ts";
import { ADMIN_ERRORS, ADMIN_SECURITY, errorSchema, jsonResponse, validationHook } from "./openapi.ts";

const queueName = z
  .enum(QUEUE_NAMES as unknown as [QueueName, ...QueueName[]])
  .openapi({ param: { name: "queue", in: "path" }, example: "character" });
const jobId = z
  .string()
  .min(1)
  .max(200)
  .openapi({ param: { name: "id", in: "path" }, example: "character-93000001" });
const queueParams = z.object({ queue: queueName });
const jobParams = z.object({ queue: queueName, id: jobId });
const wholeNumber = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const jobSummary = z
  .looseObject({
    id: z.string(),
    name: z.string(),
    data: z.unknown(),
    priority: z.number(),
    attemptsMade: z.number(),
    attempts: z.number(),
    progress: z.unknown(),
    failedReason: z.string().nullable(),
    timestamp: z.number(),
    processedOn: z.number().nullable(),
    finishedOn: z.number().nullable(),
    dueAt: z.number().nullable(),
    scheduler: z.string().nullable(),
  })
  .openapi("JobSummary");
const jobDetailSchema = jobSummary
  .extend({
    queue: z.string(),
    state: z.string(),
    workKey: z.string().nullable(),
    returnValue: z.unknown(),
    stacktrace: z.string().nullable(),
    logs: z.object({ total: z.number(), lines: z.array(z.string()) }),
  })
  .openapi("JobDetail");
const outcome = (name: string) => z.looseObject({ queue: z.string(), id: z.string(), outcome: z.string() }).openapi(name);
const queueResult = z.looseObject({ queue: z.string() });

const tags = ["admin: jobs"];
const base = { tags, security: ADMIN_SECURITY };
const notFound = { 404: jsonResponse(errorSchema, "unknown queue or job") };
const conflict = (what: string) => ({ 409: jsonResponse(errorSchema, what) });

const routes = {
  list: createRoute({
    ...base,
    method: "get",
    path: "/admin/api/queues/{queue}/jobs",
    summary: "A page of a queue's jobs in one state",
    request: {
      params: queueParams,
      query: z.object({
        state: z.enum(LIST_STATES).default("failed"),
        start: wholeNumber(0, 10_000_000).default(0),
        limit: wholeNumber(1, MAX_PAGE).default(50),
      }),
    },
    responses: {
      200: jsonResponse(
        z.object({ queue: z.string(), state: z.string(), total: z.number(), start: z.number(), jobs: z.array(jobSummary) }),
        "the page",
      ),
      ...notFound,
      ...ADMIN_ERRORS,
    },
  }),
  across: createRoute({
    ...base,
    method: "get",
    path: "/admin/api/jobs",
    summary: "Failed or active jobs of every queue, newest first",
    request: { query: z.object({ state: z.enum(["failed", "active"]).default("failed"), limit: wholeNumber(1, MAX_PAGE).default(50) }) },
    responses: {
      200: jsonResponse(
        z.object({ state: z.string(), total: z.number(), jobs: z.array(jobSummary.extend({ queue: z.string() })) }),
        "the jobs (limit per queue)",
      ),
      ...ADMIN_ERRORS,
    },
  }),
  show: createRoute({
    ...base,
    method: "get",
    path: "/admin/api/queues/{queue}/jobs/{id}",
    summary: "One job: data, state, attempts, failure reason, cut stack trace, log lines, progress, times",
    request: { params: jobParams },
    responses: { 200: jsonResponse(jobDetailSchema, "the job"), ...notFound, ...ADMIN_ERRORS },
  }),
  retry: createRoute({
    ...base,
    method: "post",
    path: "/admin/api/queues/{queue}/jobs/{id}/retry",
    summary: "Retry one failed job with fresh attempts (skipped when the same work is pending again)",
    request: { params: jobParams },
    responses: {
      200: jsonResponse(outcome("RetryOutcome"), "retried"),
      ...notFound,
      ...conflict("not failed, or skipped: a newer job with the same work key is pending"),
      ...ADMIN_ERRORS,
    },
  }),
  remove: createRoute({
    ...base,
    method: "delete",
    path: "/admin/api/queues/{queue}/jobs/{id}",
    summary: "Remove one job (not an active one)",
    request: { params: jobParams },
    responses: { 200: jsonResponse(outcome("RemoveOutcome"), "removed"), ...notFound, ...conflict("the job is active"), ...ADMIN_ERRORS },
  }),
  promote: createRoute({
    ...base,
    method: "post",
    path: "/admin/api/queues/{queue}/jobs/{id}/promote",
    summary: "Run a delayed job now",
    request: { params: jobParams },
    responses: {
      200: jsonResponse(outcome("PromoteOutcome"), "promoted"),
      ...notFound,
      ...conflict("the job is not delayed"),
      ...ADMIN_ERRORS,
    },
  }),
  pause: createRoute({
    ...base,
    method: "post",
    path: "/admin/api/queues/{queue}/pause",
    summary: "Pause a queue (workers take no new jobs)",
    request: { params: queueParams },
    responses: { 200: jsonResponse(queueResult, "paused"), ...notFound, ...ADMIN_ERRORS },
  }),
  resume: createRoute({
    ...base,
    method: "post",
    path: "/admin/api/queues/{queue}/resume",
    summary: "Resume a paused queue",
    request: { params: queueParams },
    responses: { 200: jsonResponse(queueResult, "resumed"), ...notFound, ...ADMIN_ERRORS },
  }),
  retryFailed: createRoute({
    ...base,
    method: "post",
    path: "/admin/api/queues/{queue}/retry-failed",
    summary: "Retry the failed jobs of a queue as queue:retry does (fresh attempts; skips work pending again)",
    request: { params: queueParams, query: z.object({ transientOnly: z.enum(["true", "false"]).default("false") }) },
    responses: {
      200: jsonResponse(
        z.object({ queue: z.string(), retried: z.number(), skipped: z.number(), notTransient: z.number(), gone: z.number() }),
        "counts: retried, skipped (same work pending), notTransient (left, transientOnly), gone",
      ),
      ...notFound,
      ...ADMIN_ERRORS,
    },
  }),
  clean: createRoute({
    ...base,
    method: "post",
    path: "/admin/api/queues/{queue}/clean",
    summary: "Remove jobs of a state older than a grace period, at most limit of them",
    request: {
      params: queueParams,
      query: z.object({
        state: z.enum(CLEAN_STATES).default("completed"),
        grace: wholeNumber(0, 366 * 86_400)
          .default(0)
          .openapi({ description: "seconds: only jobs older than this" }),
        limit: wholeNumber(1, 100_000).default(10_000),
      }),
    },
    responses: {
      200: jsonResponse(
        z.object({ queue: z.string(), state: z.string(), grace: z.number(), removed: z.number() }),
        "how many were removed",
      ),
      ...notFound,
      ...ADMIN_ERRORS,
    },
  }),
};

/** 404 for a queue name the registry does not know, before the route validates anything. */
function knownQueue() {
  return async (c: import("hono").Context, next: () => Promise<void>) => {
    const name = c.req.param("queue");
    if (name !== undefined && !isQueueName(name)) return c.json({ error: `unknown queue '${name}'`, queues: QUEUE_NAMES }, 404);
    await next();
  };
}

export function adminJobRoutes(): OpenAPIHono {
  const app = new OpenAPIHono({ defaultHook: validationHook });
  app.use("/admin/api/queues/:queue/*", knownQueue());

  app.openapi(routes.list, async (c) => {
    const { queue } = c.req.valid("param");
    const { state, start, limit } = c.req.valid("query");
    return c.json(await listJobs(queue, state, start, limit), 200);
  });
  app.openapi(routes.across, async (c) => {
    const { state, limit } = c.req.valid("query");
    return c.json(await jobsAcrossQueues(state, limit), 200);
  });
  app.openapi(routes.show, async (c) => {
    const { queue, id } = c.req.valid("param");
    const job = await jobDetail(queue, id);
    if (!job) return c.json({ error: `no job '${id}' in ${queue}` }, 404);
    return c.json(job, 200);
  });
  app.openapi(routes.retry, async (c) => {
    const { queue, id } = c.req.valid("param");
    const result = await retryJob(queue, id);
    if (result === "not-found") return c.json({ error: `no job '${id}' in ${queue}` }, 404);
    if (result === "not-failed") return c.json({ error: `job '${id}' is not failed`, outcome: result }, 409);
    if (result === "skipped")
      return c.json({ error: `job '${id}' skipped: the same work is pending in a newer job`, outcome: result }, 409);
    return c.json({ queue, id, outcome: result }, 200);
  });
  app.openapi(routes.remove, async (c) => {
    const { queue, id } = c.req.valid("param");
    const result = await removeJob(queue, id);
    if (result === "not-found") return c.json({ error: `no job '${id}' in ${queue}` }, 404);
    if (result === "active") return c.json({ error: `job '${id}' is active: remove it once it ends`, outcome: result }, 409);
    return c.json({ queue, id, outcome: result }, 200);
  });
  app.openapi(routes.promote, async (c) => {
    const { queue, id } = c.req.valid("param");
    const result = await promoteJob(queue, id);
    if (result === "not-found") return c.json({ error: `no job '${id}' in ${queue}` }, 404);
    if (result === "not-delayed") return c.json({ error: `job '${id}' is not delayed`, outcome: result }, 409);
    return c.json({ queue, id, outcome: result }, 200);
  });
  app.openapi(routes.pause, async (c) => {
    const { queue } = c.req.valid("param");
    await getQueue(queue).pause();
    return c.json({ queue, paused: true }, 200);
  });
  app.openapi(routes.resume, async (c) => {
    const { queue } = c.req.valid("param");
    await getQueue(queue).resume();
    return c.json({ queue, paused: false }, 200);
  });
  app.openapi(routes.retryFailed, async (c) => {
    const { queue } = c.req.valid("param");
    const { transientOnly } = c.req.valid("query");
    return c.json(await retryFailed(queue, { transientOnly: transientOnly === "true" }), 200);
  });
  app.openapi(routes.clean, async (c) => {
    const { queue } = c.req.valid("param");
    const { state, grace, limit } = c.req.valid("query");
    return c.json({ queue, state, grace, removed: await cleanQueue(queue, state, grace, limit) }, 200);
  });
  return app;
}
