// Every long-running process serves /metrics, and the figures are true: after a small live ingest
// against the simulator (the R2Z2 listener, one `bun queue`, `bun server`, each a real process), each
// scrape parses as Prometheus' exposition format, the job counters equal the jobs that ended (BullMQ's
// own event stream, which retention does not trim in a test this small), histograms have observations,
// the ESI budget gauges are there, the listener's cursor stands at the feed's head, and the server
// counts the kills stored. /api/status shows each ESI route group's bucket.
import { spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "../server/db/client.ts";
import { type GroupState, getStatus } from "../server/esi/index.ts";
import { setConfig } from "../server/helpers/config.ts";
import { redis } from "../server/helpers/redis.ts";
import { getQueue, getQueueStats } from "../server/queues/queue.ts";
import { QUEUE_NAMES } from "../server/queues/registry.ts";
import { type Simulator, startSimulator } from "../sim/server.ts";
import { useTestDatabase } from "./support/database.ts";
import { useTestQueues } from "./support/isolation.ts";
import { until } from "./support/poll.ts";
import { type Exposition, parseExposition } from "./support/prometheus.ts";
import { killAll, type Spawned, start } from "./support/spawn.ts";

const queues = useTestQueues("metrics");
const database = useTestDatabase("metrics");
const TOKEN = "metrics-test-admin-token";
/** Read in one go and cut into batch jobs of 2 (BATCH_JOB_KILLS): 25 jobs, more than the 20 completed
 * batch jobs BullMQ keeps, so its completed list under-counts and our counter must not. */
const KILLS = 50;
let sim: Simulator;
let env: Record<string, string>;
let server: Spawned;
let worker: Spawned;
let listener: Spawned;
const ports = { server: 0, worker: 0, listener: 0 };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function scrape(port: number): Promise<{ text: string; metrics: Exposition; status: number; contentType: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const text = await res.text();
  return { text, metrics: parseExposition(text), status: res.status, contentType: res.headers.get("content-type") ?? "" };
}

/** How many jobs of a queue ended each way, from BullMQ's event stream (independent of our counters). */
async function endedJobs(queue: (typeof QUEUE_NAMES)[number]): Promise<{ completed: number; failed: number; retried: number }> {
  const entries = (await redis().xrange(getQueue(queue).keys.events!, "-", "+")) as [string, string[]][];
  const counts = { completed: 0, failed: 0, retried: 0 };
  for (const [, fields] of entries) {
    const event = fields[fields.indexOf("event") + 1];
    if (event === "completed") counts.completed++;
    // a failed attempt that will be retried is announced as the job going back to delayed/waiting, with "retries-exhausted" only at the end
    if (event === "failed") counts.failed++;
  }
  return counts;
}

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    seed: 11,
    killmails: 1000,
    feedRate: 0,
    zkbDelaySeconds: 0,
    corpus: false,
    quiet: true,
    sequenceEvery: 1,
  });
  setConfig({ esiUrl: sim.url, r2z2Url: `${sim.url}/r2z2`, esiUserAgent: "killboard-tests/1.0 tests@localhost" });
  ports.server = await freePort();
  ports.worker = await freePort();
  ports.listener = await freePort();
  env = {
    ...queues.env,
    ...database.env,
    ESI_URL: sim.url,
    ZKB_URL: `${sim.url}/zkb`,
    R2Z2_URL: `${sim.url}/r2z2`,
    ESI_USER_AGENT: "killboard-tests/1.0 tests@localhost",
    ADMIN_TOKEN: TOKEN,
    HOST: "127.0.0.1",
    DEFAULT_SCHEDULERS: "off",
    LOG_LEVEL: "info",
    LOG_FORMAT: "json",
  };
  server = start("server/index.ts", [], { ...env, PORT: String(ports.server) });
  worker = start("queue.ts", ["--summary-interval", "0"], { ...env, METRICS_PORT: String(ports.worker) });
  listener = start("cli.ts", ["listen:r2z2"], { ...env, METRICS_PORT: String(ports.listener), BATCH_JOB_KILLS: "2" });
  await Promise.all([
    server.waitFor("server listening"),
    worker.waitFor("metrics endpoint listening"),
    worker.waitFor(/"queue":"killmail"[^\n]*"msg":"worker started"/),
    listener.waitFor("following the R2Z2 feed"),
  ]);
}, 60_000);

afterAll(async () => {
  for (const p of [listener, worker, server]) p?.child.kill("SIGTERM");
  await Promise.all([listener, worker, server].map((p) => p?.result));
  killAll();
  await sim?.stop();
});

describe("metrics of every process", () => {
  it("count the jobs that ended, in every queue, after a live ingest", async () => {
    const startedAt = Date.now() / 1000;
    sim.advanceFeed(KILLS);
    await until(
      async () => (await sql()<{ n: number }[]>`select count(*)::int as n from killmails`)[0]!.n === KILLS,
      60_000,
      "the feed's kills stored",
    );
    // One job that can never succeed (its payload does not validate): failed for good, not retried.
    await getQueue("type").add("type", { bogus: true }, { jobId: "bogus-type-job", attempts: 3 });
    // The fan-out (names, types, details) settles: no outstanding outbox row, nothing waiting, running
    // or delayed in any queue.
    await until(
      async () =>
        (await sql()<{ n: number }[]>`select count(*)::int as n from outbox where failed_at is null`)[0]!.n === 0 &&
        (await getQueueStats()).every((s) => s.waiting + s.prioritized + s.active + s.delayed === 0),
      120_000,
      "the fan-out done and every queue idle",
    );

    const w = await scrape(ports.worker);
    expect(w.status).toBe(200);
    expect(w.contentType).toContain("text/plain");
    let completedAll = 0;
    for (const queue of QUEUE_NAMES) {
      const truth = await endedJobs(queue);
      expect({ queue, completed: w.metrics.value("killboard_jobs_completed_total", { queue }) }).toEqual({
        queue,
        completed: truth.completed,
      });
      expect({ queue, failed: w.metrics.value("killboard_jobs_failed_total", { queue }) }).toEqual({ queue, failed: truth.failed });
      completedAll += truth.completed;
      const durations = w.metrics.value("killboard_job_duration_seconds_count", { queue, outcome: "completed" }) ?? 0;
      expect(durations).toBe(truth.completed);
    }
    // Retention keeps 20 completed batch jobs; the counter saw every one.
    const killmailJobs = w.metrics.value("killboard_jobs_completed_total", { queue: "killmail" })!;
    expect(killmailJobs).toBeGreaterThanOrEqual(KILLS / 2);
    expect((await getQueue("killmail").getJobCounts("completed")).completed).toBeLessThan(killmailJobs);
    expect(completedAll).toBeGreaterThan(w.metrics.value("killboard_jobs_completed_total", { queue: "killmail" })!);
    expect(w.metrics.value("killboard_jobs_failed_total", { queue: "type" })).toBe(1);
    expect(w.metrics.value("killboard_job_retries_total", { queue: "type" })).toBe(0);
    expect(w.metrics.value("killboard_job_wait_seconds_count", { queue: "killmail" })).toBeGreaterThan(0);
    expect(w.metrics.value("killboard_job_duration_seconds_count", { queue: "type", outcome: "failed" })).toBe(1);
    // The worker called ESI (names, types): its answers are counted by class.
    const esi2xx = w.metrics.all("killboard_esi_responses_total", { class: "2xx" }).reduce((n, s) => n + s.value, 0);
    expect(esi2xx).toBeGreaterThan(0);
    expect(w.metrics.value("process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(w.metrics.value("nodejs_eventloop_lag_seconds")).toBeGreaterThanOrEqual(0);
    // Shared state is the server's to report: not here, so Prometheus sees it once.
    expect(w.metrics.all("killboard_queue_jobs")).toHaveLength(0);

    const l = await scrape(ports.listener);
    expect(l.metrics.value("killboard_r2z2_kills_total")).toBe(KILLS);
    const cursor = l.metrics.value("killboard_r2z2_cursor_sequence")!;
    expect(cursor).toBeGreaterThan(0);
    expect(l.metrics.value("killboard_r2z2_lag_sequences")).toBe(0);
    expect(l.metrics.value("killboard_r2z2_head_sequence")).toBe(cursor);
    expect(l.metrics.value("killboard_r2z2_last_success_timestamp_seconds")).toBeGreaterThanOrEqual(Math.floor(startedAt));
    expect(l.metrics.value("process_cpu_seconds_total")).toBeGreaterThan(0);

    const s = await scrape(ports.server);
    expect(s.status).toBe(200);
    expect(s.metrics.value("killboard_pipeline", { what: "killmails" })).toBe(KILLS);
    expect(s.metrics.value("killboard_pipeline", { what: "valued" })).toBe(KILLS);
    expect(s.metrics.value("killboard_pipeline", { what: "intakePending" })).toBe(0);
    expect(s.metrics.value("killboard_queue_workers", { queue: "killmail" })).toBe(1);
    expect(s.metrics.value("killboard_queue_oldest_waiting_age_seconds", { queue: "killmail" })).toBe(0);
    expect(s.metrics.value("killboard_queue_jobs", { queue: "type", state: "failed" })).toBe(1);
    for (const mode of ["guard", "pacing", "reserve", "downtime"]) expect(s.metrics.value("killboard_esi_mode", { mode })).toBe(0);
    expect(s.metrics.value("killboard_esi_error_limit_remain")).toBeGreaterThan(0);
    expect(s.metrics.value("killboard_esi_requests_in_flight")).toBe(0);
    expect(s.metrics.value("killboard_kill_partitions_days_ahead")).toBeGreaterThan(30);
    expect(s.metrics.all("killboard_postgres_connections").length).toBeGreaterThan(0);
    expect(s.metrics.value("process_resident_memory_bytes")).toBeGreaterThan(0);

    // Each text is also what Prometheus' own linter accepts, when it is installed.
    const promtool = spawnSync("promtool", ["--version"]);
    if (promtool.status === 0) {
      for (const text of [w.text, l.text, s.text]) {
        const lint = spawnSync("promtool", ["check", "metrics"], { input: text });
        // "check metrics" exits 1 for style hints too: only parse errors count here
        expect(lint.stderr.toString()).not.toMatch(/error while linting|text format parsing error/i);
      }
    }
  }, 180_000);

  it("keeps /metrics behind the admin token and /health open on the worker and listener endpoints", async () => {
    for (const port of [ports.server, ports.worker, ports.listener]) {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(401);
      expect(await res.text()).not.toContain("killboard_");
    }
    for (const port of [ports.worker, ports.listener]) {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      expect(res.status).toBe(200);
    }
  });

  it("shows each ESI route group's bucket in /api/status and /metrics", async () => {
    // A call on a rate-limited group (GET /status) from this process: the bucket is shared by all.
    await getStatus();
    const res = await fetch(`http://127.0.0.1:${ports.server}/api/status`);
    const body = (await res.json()) as { pipeline: Record<string, number>; esi: { groups: GroupState[] } };
    expect(body.pipeline).toMatchObject({ killmails: KILLS, valued: KILLS });
    const groups = body.esi.groups.map((g) => g.group);
    expect(groups).toEqual(expect.arrayContaining(["killmail", "status"]));
    const status = body.esi.groups.find((g) => g.group === "status")!;
    expect(status.limit).toBeGreaterThan(0);
    expect(status.used).toBeGreaterThan(0);
    expect(status.tokensLeft).toBe(status.limit! - status.used);
    const s = await scrape(ports.server);
    expect(s.metrics.value("killboard_esi_bucket_tokens_left", { group: "status" })).toBe(status.tokensLeft);
    expect(s.metrics.value("killboard_esi_bucket_limit", { group: "status" })).toBe(status.limit);
    expect(s.metrics.value("killboard_esi_group_paused", { group: "killmail" })).toBe(0);
  });
});
