// What the dashboard (bull-board) and `job:show` get to show: workers named after their host and process,
// BullMQ's per-minute metrics recorded (the dashboard's charts), and long jobs' progress and log lines —
// a value-backfill range and a planned run, on real workers built by the processor factory — and the
// last run of a job scheduler, noted when its job starts.
import { hostname } from "node:os";
import type { Worker } from "bullmq";
import { afterAll, describe, expect, it } from "vitest";
import backfill from "../queue/backfill.ts";
import { enqueueJob } from "../server/queues/enqueue.ts";
import { jobDetail } from "../server/queues/jobs.ts";
import { WORKER_NAME } from "../server/queues/processor.ts";
import { getQueue, getQueueStats } from "../server/queues/queue.ts";
import { listSchedulers } from "../server/queues/schedulers.ts";
import character from "./fixtures/processors/character.ts";
import { useTestDatabase } from "./support/database.ts";
import { useTestQueues } from "./support/isolation.ts";
import { until } from "./support/poll.ts";

useTestQueues("dashboard");
useTestDatabase("dashboard");

const workers: Worker[] = [];
afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
});

function run(worker: Worker): Worker {
  workers.push(worker);
  void worker.run();
  return worker;
}

describe("workers", () => {
  it("carry the host and process id as their name, and record BullMQ metrics", async () => {
    expect(WORKER_NAME).toBe(`${hostname()}:${process.pid}`);
    const worker = run(character.createWorker());
    for (let id = 1; id <= 3; id++) await enqueueJob("character", { id: 99_000 + id });
    await until(async () => (await getQueueStats("character")).completed === 3);

    const connected = await getQueue("character").getWorkers();
    expect(connected.map((w) => String(w.rawname))).toContainEqual(expect.stringMatching(new RegExp(`:w:${WORKER_NAME}$`)));
    const metrics = await getQueue("character").getMetrics("completed");
    expect(metrics.meta.count).toBe(3);
    await worker.close();
  });

  it("note when a scheduler's job starts: the scheduler's last run", async () => {
    run(character.createWorker());
    const before = Date.now();
    await getQueue("character").upsertJobScheduler("fixture-every-second", { every: 1_000 }, { name: "character", data: { id: 99_100 } });
    let last: number | null = null;
    await until(async () => {
      last = (await listSchedulers()).find((s) => s.id === "fixture-every-second")?.lastRun ?? null;
      return last !== null;
    });
    expect(last!).toBeGreaterThanOrEqual(before);
    await getQueue("character").removeJobScheduler("fixture-every-second");
  });
});

describe("long jobs", () => {
  it("a value-backfill range and a planned run log what they did and end at 100 %", async () => {
    run(backfill.createWorker());
    const range = await enqueueJob("backfill", { task: "values", fromId: 1, toId: 5_000, mode: "all" });
    const planned = await enqueueJob("backfill", { task: "values-run", mode: "null" });
    await until(async () => (await getQueueStats("backfill")).completed === 2, 30_000, "both backfill jobs");

    const ranged = await jobDetail("backfill", range.jobId);
    expect(ranged).toMatchObject({ state: "completed", progress: 100 });
    expect(ranged!.logs.lines).toEqual([
      expect.stringMatching(/^\d\d:\d\d:\d\dZ valuing kills 1–5000 \(mode all\)$/),
      expect.stringMatching(/^\d\d:\d\d:\d\dZ valued 0 kills, 0 skipped, in \d+\.\d s$/),
    ]);
    const run_ = await jobDetail("backfill", planned.jobId);
    expect(run_).toMatchObject({ state: "completed", progress: 100 });
    expect(run_!.logs.lines[0]).toMatch(/planning a value backfill run \(mode null\)$/);
    expect(run_!.logs.lines[1]).toMatch(/run \S+ (planned|resumed): 0 kills in 0 ranges, 0 range jobs enqueued$/);
  });
});
