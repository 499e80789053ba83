// The admin API over queues, single jobs and schedulers (server/routes/admin-jobs.ts, admin-schedulers.ts),
// driven through the real app against this file's BullMQ prefix: each route's effect on Redis, the
// de-duplication rule of a single retry, a scheduler paused (and not re-created by `bun queue`) then
// resumed, 404 for an unknown queue and 400 naming the field; every admin route refuses a caller
// without the token and leaks nothing; /openapi.json documents every route the app serves.
import { randomBytes } from "node:crypto";
import { compileErrors, validate } from "@readme/openapi-parser";
import { UnrecoverableError, type Worker } from "bullmq";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../server/app.ts";
import { RetryableError } from "../server/esi/errors.ts";
import { setConfig } from "../server/helpers/config.ts";
import { enqueueJob } from "../server/queues/enqueue.ts";
import { getQueue, getQueueStats } from "../server/queues/queue.ts";
import { QUEUE_NAMES, type QueueName } from "../server/queues/registry.ts";
import { noteSchedulerRun, registerDefaultSchedulers } from "../server/queues/schedulers.ts";
import { useTestQueues } from "./support/isolation.ts";
import { until } from "./support/poll.ts";
import { plainWorker } from "./support/workers.ts";

useTestQueues("admin-api");
const TOKEN = randomBytes(16).toString("hex");
setConfig({ adminToken: TOKEN });
const app = createApp();

async function api(method: string, path: string, opts: { body?: unknown; token?: string | null } = {}) {
  const headers: Record<string, string> = {};
  const token = opts.token === undefined ? TOKEN : opts.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const res = await app.request(path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {}
  return { status: res.status, json, text };
}

const workers: Worker[] = [];
async function stopWorkers(): Promise<void> {
  await Promise.all(workers.splice(0).map((w) => w.close()));
}

/** Jobs of the character queue for these ids, failed by a worker throwing `error(id)` (one attempt each). */
async function failCharacters(ids: number[], error: (id: number) => Error, logLine?: string): Promise<string[]> {
  const before = (await getQueueStats("character")).failed;
  const worker = plainWorker("character", async (_data, job) => {
    if (logLine) await job.log(logLine);
    await job.updateProgress(40);
    throw error(Number(job.data.id));
  });
  workers.push(worker);
  const jobIds: string[] = [];
  for (const id of ids) jobIds.push((await enqueueJob("character", { id }, { attempts: 1 })).jobId);
  await until(async () => (await getQueueStats("character")).failed === before + ids.length, 15_000, "failed jobs");
  await stopWorkers();
  return jobIds;
}

afterEach(async () => {
  await stopWorkers();
  for (const q of QUEUE_NAMES) {
    await getQueue(q).obliterate({ force: true });
    for (const s of await getQueue(q).getJobSchedulers()) await getQueue(q).removeJobScheduler(s.id ?? s.key);
  }
  for (const id of ["price-daily", "alliance-snapshot-daily", "backfill-values-flagged"])
    await api("DELETE", `/admin/api/schedulers/${id}`);
});

describe("jobs of a queue", () => {
  it("lists a state a page at a time, with the total; 400 names a bad field, 404 an unknown queue", async () => {
    for (let id = 1; id <= 5; id++) await enqueueJob("character", { id: 91_000 + id }, { delay: 60_000 });
    const first = await api("GET", "/admin/api/queues/character/jobs?state=delayed&start=0&limit=2");
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ queue: "character", state: "delayed", total: 5, start: 0 });
    const page1 = first.json.jobs as { id: string; data: { id: number }; dueAt: number }[];
    expect(page1).toHaveLength(2);
    expect(page1[0]!.dueAt).toBeGreaterThan(Date.now());
    const rest = await api("GET", "/admin/api/queues/character/jobs?state=delayed&start=2&limit=10");
    const page2 = rest.json.jobs as { id: string }[];
    expect(page2).toHaveLength(3);
    expect(new Set([...page1, ...page2].map((j) => j.id)).size).toBe(5);

    const tooMany = await api("GET", "/admin/api/queues/character/jobs?state=delayed&limit=5000");
    expect(tooMany.status).toBe(400);
    expect(tooMany.json).toMatchObject({ field: "limit" });
    expect(String(tooMany.json.error)).toContain("'limit'");
    const badState = await api("GET", "/admin/api/queues/character/jobs?state=sleeping");
    expect(badState.status).toBe(400);
    expect(badState.json.field).toBe("state");
    const unknown = await api("GET", "/admin/api/queues/nope/jobs");
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toBe("unknown queue 'nope'");
    expect(unknown.json.queues).toEqual(QUEUE_NAMES);
    expect((await api("POST", "/admin/api/queues/nope/jobs/x/retry")).status).toBe(404);
  });

  it("paused lists the waiting jobs of a paused queue only", async () => {
    await enqueueJob("type", { id: 34 });
    expect((await api("GET", "/admin/api/queues/type/jobs?state=paused")).json.total).toBe(0);
    expect((await api("POST", "/admin/api/queues/type/pause")).json).toEqual({ queue: "type", paused: true });
    const paused = await api("GET", "/admin/api/queues/type/jobs?state=paused");
    expect(paused.json.total).toBe(1);
    expect((await api("POST", "/admin/api/queues/type/resume")).json).toEqual({ queue: "type", paused: false });
  });

  it("shows one job: data, attempts, reason, cut stack trace, log lines, progress, times", async () => {
    const [jobId] = await failCharacters([92_001], (id) => new Error(`upstream refused ${id}`), "asked ESI for 92001");
    const res = await api("GET", `/admin/api/queues/character/jobs/${jobId}`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      queue: "character",
      id: jobId,
      state: "failed",
      data: { id: 92_001 },
      attemptsMade: 1,
      attempts: 1,
      failedReason: "upstream refused 92001",
      progress: 40,
      workKey: "character-92001",
      logs: { total: 1, lines: ["asked ESI for 92001"] },
    });
    expect(String(res.json.stacktrace)).toMatch(/^Error: upstream refused 92001\n/);
    expect(String(res.json.stacktrace).split("\n").length).toBeLessThanOrEqual(16);
    expect(res.json.finishedOn).toBeGreaterThanOrEqual(res.json.timestamp as number);
    expect((await api("GET", "/admin/api/queues/character/jobs/no-such-job")).status).toBe(404);
  });

  it("retries one failed job with fresh attempts, and skips it while the same work is pending again", async () => {
    const [jobId] = await failCharacters([93_001], () => new Error("down"));
    const newer = await enqueueJob("character", { id: 93_001 });
    expect(newer.added).toBe(true);

    const skipped = await api("POST", `/admin/api/queues/character/jobs/${jobId}/retry`);
    expect(skipped.status).toBe(409);
    expect(skipped.json.outcome).toBe("skipped");
    expect(await getQueueStats("character")).toMatchObject({ failed: 1, prioritized: 1 });

    await getQueue("character").remove(newer.jobId);
    await getQueue("character").removeDeduplicationKey("character-93001");
    const retried = await api("POST", `/admin/api/queues/character/jobs/${jobId}/retry`);
    expect(retried.status).toBe(200);
    expect(retried.json).toEqual({ queue: "character", id: jobId, outcome: "retried" });
    const job = await getQueue("character").getJob(jobId!);
    expect(job!.attemptsMade).toBe(0);
    expect(await getQueueStats("character")).toMatchObject({ failed: 0, prioritized: 1 });
    // It holds its work key again: the same work is not enqueued twice.
    expect((await enqueueJob("character", { id: 93_001 })).added).toBe(false);

    const again = await api("POST", `/admin/api/queues/character/jobs/${jobId}/retry`);
    expect(again.status).toBe(409);
    expect(again.json.outcome).toBe("not-failed");
  });

  it("removes one job, refuses an active one", async () => {
    const { jobId } = await enqueueJob("type", { id: 35 });
    const removed = await api("DELETE", `/admin/api/queues/type/jobs/${jobId}`);
    expect(removed.status).toBe(200);
    expect(removed.json.outcome).toBe("removed");
    expect(await getQueue("type").getJob(jobId)).toBeUndefined();
    expect((await api("DELETE", `/admin/api/queues/type/jobs/${jobId}`)).status).toBe(404);

    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    workers.push(plainWorker("type", () => held));
    const active = await enqueueJob("type", { id: 36 });
    await until(async () => (await getQueueStats("type")).active === 1);
    const refused = await api("DELETE", `/admin/api/queues/type/jobs/${active.jobId}`);
    expect(refused.status).toBe(409);
    expect(refused.json.outcome).toBe("active");
    const across = await api("GET", "/admin/api/jobs?state=active");
    expect((across.json.jobs as { queue: string; id: string }[]).map((j) => [j.queue, j.id])).toEqual([["type", active.jobId]]);
    release();
  });

  it("promotes a delayed job; a job that is not delayed answers 409", async () => {
    const { jobId } = await enqueueJob("type", { id: 37 }, { delay: 3_600_000 });
    const promoted = await api("POST", `/admin/api/queues/type/jobs/${jobId}/promote`);
    expect(promoted.status).toBe(200);
    expect(promoted.json.outcome).toBe("promoted");
    const stats = await getQueueStats("type");
    expect(stats.delayed).toBe(0);
    expect(stats.waiting + stats.prioritized).toBe(1);
    const again = await api("POST", `/admin/api/queues/type/jobs/${jobId}/promote`);
    expect(again.status).toBe(409);
    expect(again.json.outcome).toBe("not-delayed");
  });

  it("lists the failed jobs of every queue, newest first", async () => {
    await failCharacters([94_001], () => new Error("char down"));
    const worker = plainWorker("type", async () => {
      throw new Error("type down");
    });
    workers.push(worker);
    await enqueueJob("type", { id: 38 }, { attempts: 1 });
    await until(async () => (await getQueueStats("type")).failed === 1);
    const res = await api("GET", "/admin/api/jobs?state=failed");
    expect(res.status).toBe(200);
    expect(res.json.total).toBe(2);
    expect((res.json.jobs as { queue: string; failedReason: string }[]).map((j) => [j.queue, j.failedReason])).toEqual([
      ["type", "type down"],
      ["character", "char down"],
    ]);
    expect((await api("GET", "/admin/api/jobs?state=waiting")).status).toBe(400);
  });

  it("retry-failed: fresh attempts, skips work pending again, transientOnly leaves permanent failures", async () => {
    await failCharacters([95_001, 95_002, 95_003], (id) => {
      const where = { upstream: "esi" as const, route: "/characters/{character_id}", url: "http://esi/", status: 503 };
      if (id === 95_001) return new RetryableError("esi 503", where);
      if (id === 95_002) return new Error("connect ECONNREFUSED 127.0.0.1:5432");
      return new UnrecoverableError("payload names no character");
    });
    await enqueueJob("character", { id: 95_002 }); // its work is pending again

    const transient = await api("POST", "/admin/api/queues/character/retry-failed?transientOnly=true");
    expect(transient.status).toBe(200);
    expect(transient.json).toEqual({ queue: "character", retried: 1, skipped: 1, notTransient: 1, gone: 0 });
    expect(await getQueueStats("character")).toMatchObject({ failed: 2, prioritized: 2 });

    const all = await api("POST", "/admin/api/queues/character/retry-failed");
    expect(all.json).toEqual({ queue: "character", retried: 1, skipped: 1, notTransient: 0, gone: 0 });
    expect((await api("POST", "/admin/api/queues/character/retry-failed?transientOnly=yes")).json.field).toBe("transientOnly");
  });

  it("cleans a state older than the grace period, at most limit jobs", async () => {
    workers.push(plainWorker("type", async () => "ok"));
    for (let id = 40; id < 45; id++) await enqueueJob("type", { id });
    await until(async () => (await getQueueStats("type")).completed === 5);
    await stopWorkers();
    const young = await api("POST", "/admin/api/queues/type/clean?state=completed&grace=3600");
    expect(young.json).toEqual({ queue: "type", state: "completed", grace: 3600, removed: 0 });
    const two = await api("POST", "/admin/api/queues/type/clean?state=completed&grace=0&limit=2");
    expect(two.json.removed).toBe(2);
    expect((await getQueueStats("type")).completed).toBe(3);
    const bad = await api("POST", "/admin/api/queues/type/clean?state=active");
    expect(bad.status).toBe(400);
    expect(bad.json.field).toBe("state");
  });
});

describe("schedulers", () => {
  type Row = {
    id: string;
    queue: string;
    pattern: string | null;
    every: number | null;
    paused: boolean;
    next: number | null;
    lastRun: number | null;
  };
  const list = async () => (await api("GET", "/admin/api/schedulers")).json.schedulers as Row[];
  const delayedOf = async (queue: QueueName) => (await getQueue(queue).getDelayed()).filter((j) => j.repeatJobKey);

  it("upserts with a validated cron or interval; 404 for an unknown id", async () => {
    const created = await api("PUT", "/admin/api/schedulers/price-daily", { body: { cron: "30 11 * * *" } });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({
      id: "price-daily",
      queue: "price",
      pattern: "30 11 * * *",
      every: null,
      paused: false,
      declared: true,
    });
    expect(new Date(created.json.next as number).getUTCMinutes()).toBe(30);

    const every = await api("PUT", "/admin/api/schedulers/price-daily", { body: { every: 120_000 } });
    expect(every.json).toMatchObject({ pattern: null, every: 120_000 });

    const badCron = await api("PUT", "/admin/api/schedulers/price-daily", { body: { cron: "61 * * * *" } });
    expect(badCron.status).toBe(400);
    expect(badCron.json.field).toBe("cron");
    const both = await api("PUT", "/admin/api/schedulers/price-daily", { body: { cron: "0 * * * *", every: 60_000 } });
    expect(both.status).toBe(400);
    const tooOften = await api("PUT", "/admin/api/schedulers/price-daily", { body: { every: 10 } });
    expect(tooOften.json.field).toBe("every");
    const unknown = await api("PUT", "/admin/api/schedulers/no-such-scheduler", { body: { every: 60_000 } });
    expect(unknown.status).toBe(404);
    expect((await api("PUT", "/admin/api/schedulers/bad:id", { body: { every: 60_000 } })).json.field).toBe("id");
  });

  it("pauses a scheduler (no next job; bun queue does not re-create it), then resumes it as it was", async () => {
    await api("PUT", "/admin/api/schedulers/price-daily", { body: { cron: "15 11 * * *" } });
    await noteSchedulerRun("price-daily", 1_700_000_000_000);
    expect(await delayedOf("price")).toHaveLength(1);

    const paused = await api("POST", "/admin/api/schedulers/price-daily/pause");
    expect(paused.status).toBe(200);
    expect(paused.json).toMatchObject({ id: "price-daily", paused: true, next: null, pattern: "15 11 * * *", lastRun: 1_700_000_000_000 });
    expect(await delayedOf("price")).toHaveLength(0);
    expect(await getQueue("price").getJobScheduler("price-daily")).toBeUndefined();
    expect(await registerDefaultSchedulers(["price"])).toEqual([]);
    expect((await list()).find((s) => s.id === "price-daily")).toMatchObject({ paused: true });
    expect((await api("POST", "/admin/api/schedulers/price-daily/pause")).status).toBe(200); // already paused

    const resumed = await api("POST", "/admin/api/schedulers/price-daily/resume");
    expect(resumed.status).toBe(200);
    expect(resumed.json).toMatchObject({ id: "price-daily", paused: false, pattern: "15 11 * * *", lastRun: 1_700_000_000_000 });
    expect(new Date(resumed.json.next as number).getUTCHours()).toBe(11);
    const [next] = await delayedOf("price");
    expect(next!.data).toEqual({ task: "update" });
    expect((await api("POST", "/admin/api/schedulers/nope/resume")).status).toBe(404);
  });

  it("removes a scheduler, running or paused; a removed default returns at the next bun queue start", async () => {
    expect((await api("PUT", "/admin/api/schedulers/price-daily", { body: {} })).json).toMatchObject({ pattern: "15 11 * * *" }); // declared timing
    await api("PUT", "/admin/api/schedulers/alliance-snapshot-daily", { body: { every: 3_600_000 } });
    await api("POST", "/admin/api/schedulers/alliance-snapshot-daily/pause");
    expect((await list()).map((s) => [s.id, s.paused])).toEqual([
      ["alliance-snapshot-daily", true],
      ["price-daily", false],
    ]);
    expect((await api("DELETE", "/admin/api/schedulers/price-daily")).json).toEqual({ id: "price-daily", removed: true });
    expect((await api("DELETE", "/admin/api/schedulers/alliance-snapshot-daily")).status).toBe(200);
    expect(await list()).toEqual([]);
    expect((await api("DELETE", "/admin/api/schedulers/price-daily")).status).toBe(404);
    expect(await registerDefaultSchedulers(["price"])).toEqual(["price-daily"]);
  });
});

describe("without the admin token", () => {
  const SECRET_DATA = 96_123_456;
  let failedJobId = "";

  beforeAll(async () => {
    failedJobId = (await failCharacters([SECRET_DATA], () => new Error("secret-reason-xyz")))[0]!;
    await api("PUT", "/admin/api/schedulers/price-daily", { body: { cron: "15 11 * * *" } });
  });

  /** Every documented admin operation, its path filled in. */
  async function adminOperations(): Promise<[string, string][]> {
    const doc = (await api("GET", "/openapi.json", { token: null })).json as {
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    const ops: [string, string][] = [["GET", "/admin/queues"]]; // the dashboard, not an API route
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        if (!op.security) continue;
        ops.push([
          method.toUpperCase(),
          path.replace("{queue}", "character").replace("{id}", path.includes("schedulers") ? "price-daily" : failedJobId),
        ]);
      }
    }
    return ops;
  }

  it("every admin route answers 401 (no or wrong token) and 403 (ADMIN_TOKEN unset) and leaks nothing", async () => {
    const ops = await adminOperations();
    expect(ops.length).toBeGreaterThanOrEqual(20);
    for (const [method, path] of ops) {
      for (const token of [null, "wrong-token-0123456789abcdef", `${TOKEN}x`]) {
        const body = method === "PUT" ? { every: 60_000 } : undefined;
        const res = await api(method, path, { token, body });
        expect(res.status, `${method} ${path}`).toBe(401);
        expect(res.json).toEqual({ error: "admin token required" });
      }
    }
    setConfig({ adminToken: undefined });
    try {
      for (const [method, path] of ops) {
        const res = await api(method, path, { token: TOKEN });
        expect(res.status, `${method} ${path}`).toBe(403);
        expect(res.text).not.toContain(TOKEN);
        expect(res.text).not.toContain(String(SECRET_DATA));
      }
    } finally {
      setConfig({ adminToken: TOKEN });
    }
    // Nothing was changed by the refused calls.
    expect((await getQueueStats("character")).failed).toBe(1);
    expect((await list()).map((s) => [s.id, s.paused, s.every])).toEqual([["price-daily", false, null]]);
    const list2 = await api("GET", `/admin/api/queues/character/jobs/${failedJobId}`);
    expect(list2.json.failedReason).toBe("secret-reason-xyz");
  });

  async function list() {
    return (await api("GET", "/admin/api/schedulers")).json.schedulers as { id: string; paused: boolean; every: number | null }[];
  }
});

describe("/openapi.json", () => {
  afterAll(() => setConfig({ adminToken: TOKEN }));

  it("is an OpenAPI 3 document of every API route the app serves, each with responses; admin ones need the token", async () => {
    const res = await api("GET", "/openapi.json", { token: null });
    expect(res.status).toBe(200);
    const doc = res.json as {
      openapi: string;
      info: { title: string; version: string };
      paths: Record<string, Record<string, { responses: Record<string, { description: string }>; security?: unknown[] }>>;
      components: { securitySchemes: Record<string, { type: string; scheme: string }> };
    };
    expect(doc.openapi).toMatch(/^3\.0\.\d$/);
    // Valid against the OpenAPI 3.0 schema (and the parser's own rules: unique ids, declared path parameters).
    const validation = await validate(structuredClone(doc) as never);
    expect(validation.valid ? "" : compileErrors(validation)).toBe("");
    expect(doc.info.title).toBeTruthy();
    expect(doc.components.securitySchemes.adminToken).toMatchObject({ type: "http", scheme: "bearer" });

    // Every route registered on the app under /api, /admin/api, /auth, /health and /metrics is documented.
    const served = new Set(
      app.routes
        .filter((r) => r.method !== "ALL" && /^\/(api|admin\/api|auth|health|metrics)/.test(r.path) && !r.path.includes("*"))
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)(\{(?:[^{}]|\{[^{}]*\})*\})?/g, "{$1}")}`),
    );
    const documented = new Set(Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m} ${path}`)));
    expect([...served].filter((r) => !documented.has(r))).toEqual([]);
    expect(documented.size).toBeGreaterThanOrEqual(27);

    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const codes = Object.keys(op.responses);
        expect(codes.length, `${method} ${path}`).toBeGreaterThan(0);
        for (const code of codes) expect(op.responses[code]!.description, `${method} ${path} ${code}`).toBeTruthy();
        if (path.startsWith("/admin/") || path === "/metrics") {
          expect(op.security, `${method} ${path}`).toEqual([{ adminToken: [] }]);
          expect(codes, `${method} ${path}`).toEqual(expect.arrayContaining(["200", "401", "403"]));
        }
        // Path parameters are declared.
        for (const name of path.match(/\{(\w+)\}/g) ?? []) expect(JSON.stringify(op)).toContain(`"name":"${name.slice(1, -1)}"`);
      }
    }
    expect(Object.keys(doc.paths["/admin/api/queues/{queue}/jobs/{id}"]!).sort()).toEqual(["delete", "get"]);
  });
});
