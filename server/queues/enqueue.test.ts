// Enqueueing against the real Redis: validation, priority tiers, the registry's retry policy
// (exponential backoff) and the de-duplication rule (one pending job per work key; finished work can be
// enqueued again).
import type { Job, Worker } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";
import { useTestQueues } from "../../test/support/isolation.ts";
import { plainWorker } from "../../test/support/workers.ts";
import { enqueueInput, enqueueJob, enqueueJobs, scheduleJob } from "./enqueue.ts";
import { Priority } from "./priority.ts";
import { getQueue, getQueueStats, type QueueStats } from "./queue.ts";
import { InvalidPayloadError, QUEUE_NAMES, QUEUES } from "./registry.ts";

useTestQueues("enqueue");

const workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close()));
  for (const q of ["character", "corporation", "alliance", "type", "price", "killmail"] as const) {
    await getQueue(q).obliterate({ force: true });
  }
});

/** Starts a plain BullMQ worker for `queue` whose handler is `handle` (no processor: only enqueueing is tested). */
function startWorker(
  name: "character" | "corporation" | "alliance" | "type" | "killmail",
  handle: (payload: { id: number }, job: Job) => Promise<unknown>,
  concurrency = 1,
): Worker {
  const worker = plainWorker(name, (data, job) => handle(data as { id: number }, job), concurrency);
  workers.push(worker);
  return worker;
}

function finished(worker: Worker, count: number): Promise<void> {
  let seen = 0;
  return new Promise((resolve) => {
    const tick = () => ++seen >= count && resolve();
    worker.on("completed", tick);
    worker.on("failed", (job) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) tick();
    });
  });
}

const total = (s: QueueStats) => s.waiting + s.prioritized + s.active + s.delayed + s.completed + s.failed;

describe("validation", () => {
  it("rejects a bad payload with a clear error and adds nothing", async () => {
    await expect(enqueueInput("character", { id: -5 })).rejects.toThrow(InvalidPayloadError);
    await expect(enqueueInput("corporation", { name: "x" })).rejects.toThrow(/invalid corporation payload: id/);
    await expect(enqueueInput("killmail", { killmailId: 1, hash: "nothex" })).rejects.toThrow(/hash: must be 40/);
    await expect(enqueueJobs("alliance", [{ id: 99000001 }, { id: 99000002 }, { id: "99000003" } as never])).rejects.toThrow(
      /item 2: invalid alliance payload/,
    );
    expect(total(await getQueueStats("character"))).toBe(0);
    expect(total(await getQueueStats("corporation"))).toBe(0);
    expect(total(await getQueueStats("alliance"))).toBe(0);
  });

  it("rejects a killmail whose ESI body belongs to another kill", async () => {
    const esi = {
      killmail_id: 2,
      killmail_time: "2026-01-01T00:00:00Z",
      solar_system_id: 30000142,
      victim: { ship_type_id: 587, damage_taken: 10 },
      attackers: [{ damage_done: 10, final_blow: true, security_status: 0 }],
    };
    await expect(enqueueInput("killmail", { killmailId: 1, hash: "a".repeat(40), esi })).rejects.toThrow(
      /esi.killmail_id: esi.killmail_id does not match/,
    );
  });
});

describe("priorities", () => {
  it("runs a person's jobs before scheduled ones, and those before history already waiting", async () => {
    for (const id of [1, 2, 3]) await enqueueJob("type", { id }, { priority: "backfill" });
    for (const id of [10, 11]) await enqueueJob("type", { id }, { priority: "user" });
    await enqueueJob("type", { id: 20 }, { priority: "routine" });
    const order: number[] = [];
    const worker = startWorker("type", async (p) => order.push(p.id));
    await finished(worker, 6);
    expect(order).toEqual([10, 11, 20, 1, 2, 3]);
  });
});

describe("retries", () => {
  it("retries failures with exponentially growing delays", async () => {
    const attempts: number[] = [];
    const worker = startWorker("killmail", async () => {
      attempts.push(Date.now());
      throw new Error("connection reset");
    });
    await enqueueJob("killmail", { killmailId: 98000001, hash: "a".repeat(40) }, { attempts: 4 });
    await finished(worker, 1);
    expect(attempts).toHaveLength(4);
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    // The killmail queue's backoff: from 1 s, doubling, 50% jitter → [0.5, 1), [1, 2), [2, 4) seconds.
    expect(QUEUES.killmail.retry).toMatchObject({ delay: 1_000, jitter: 0.5 });
    gaps.forEach((gap, i) => {
      const max = 1000 * 2 ** i;
      expect(gap).toBeGreaterThanOrEqual(max / 2 - 20);
      expect(gap).toBeLessThan(max + 600);
    });
    expect(gaps[1]!).toBeGreaterThan(gaps[0]!);
    expect(gaps[2]!).toBeGreaterThan(gaps[1]!);
    const failed = await getQueue("killmail").getFailed();
    expect(failed.map((j) => [j.attemptsMade, j.failedReason])).toEqual([[4, "connection reset"]]);
  }, 20_000);
});

describe("de-duplication", () => {
  it("keeps one job when the same work is enqueued twice while it waits", async () => {
    const first = await enqueueJob("character", { id: 90000001 }, { priority: "backfill" });
    const second = await enqueueJob("character", { id: 90000001 }, { priority: "backfill" });
    expect(first.added).toBe(true);
    expect(second).toEqual({ jobId: first.jobId, added: false });
    expect(first.jobId).toMatch(/^character-90000001-[0-9a-z]+$/);
    const many = await enqueueJobs("character", [{ id: 90000001 }, { id: 90000002 }, { id: 90000002 }]);
    expect(many.added).toBe(1);
    expect(many.deduplicated).toBe(2);
    const stats = await getQueueStats("character");
    expect(stats.prioritized).toBe(2);
  });

  it("keys bulk jobs by their id set: the same set (in any order) waits once, another set is new work", async () => {
    const first = await enqueueJob("character", { affiliation: [90000011, 90000012, 90000013] });
    const same = await enqueueJob("character", { affiliation: [90000013, 90000011, 90000012, 90000011] });
    const other = await enqueueJob("character", { affiliation: [90000011, 90000012] });
    expect(first.jobId).toMatch(/^character-affiliation-[0-9a-f]{16}-[0-9a-z]+$/);
    expect(same).toMatchObject({ added: false, jobId: first.jobId });
    expect(other.added).toBe(true);
    const prices = await enqueueJobs("price", [
      { task: "history", typeIds: [587, 588] },
      { task: "history", typeIds: [588, 587] },
      { task: "history", typeIds: [587] },
    ]);
    expect(prices).toMatchObject({ added: 2, deduplicated: 1 });
  });

  it("accepts the same work again after the first job completed", async () => {
    let runs = 0;
    const worker = startWorker("character", async () => runs++);
    const done = finished(worker, 1);
    const first = await enqueueJob("character", { id: 90000003 });
    await done;
    const again = finished(worker, 1);
    const second = await enqueueJob("character", { id: 90000003 });
    expect(second.added).toBe(true);
    expect(second.jobId).not.toBe(first.jobId);
    await again;
    expect(runs).toBe(2);
    expect((await getQueueStats("character")).completed).toBe(2);
  });

  it("accepts the same work again after the first job failed for good", async () => {
    let runs = 0;
    const worker = startWorker("alliance", async () => {
      runs++;
      if (runs === 1) throw new Error("first run breaks");
    });
    const failed = finished(worker, 1);
    await enqueueJob("alliance", { id: 99000001 }, { attempts: 1 });
    await failed;
    const again = finished(worker, 1);
    const retry = await enqueueJob("alliance", { id: 99000001 });
    expect(retry.added).toBe(true);
    await again;
    const stats = await getQueueStats("alliance");
    expect([stats.failed, stats.completed]).toEqual([1, 1]);
  });

  it("keeps one job while the work is active, then accepts it again", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const isActive = new Promise<void>((r) => (started = r));
    const worker = startWorker("character", async () => {
      started();
      await gate;
    });
    const first = await enqueueJob("character", { id: 90000004 });
    await isActive;
    const during = await enqueueJob("character", { id: 90000004 });
    expect(during).toEqual({ jobId: first.jobId, added: false });
    const done = finished(worker, 1);
    release();
    await done;
    expect((await enqueueJob("character", { id: 90000004 })).added).toBe(true);
  });
});

describe("stats and schedulers", () => {
  it("counts every state and the paused flag", async () => {
    await enqueueJob("type", { id: 1 }, { priority: "user" });
    await enqueueJob("type", { id: 2 }, { delay: 60_000 });
    await getQueue("type").pause();
    const stats = await getQueueStats("type");
    expect(stats).toMatchObject({ queue: "type", prioritized: 1, delayed: 1, active: 0, paused: true });
    expect(Object.keys(stats).sort()).toEqual(
      ["active", "completed", "delayed", "failed", "paused", "prioritized", "queue", "waiting", "waiting-children"].sort(),
    );
    const all = await getQueueStats();
    expect(all.map((s) => s.queue)).toEqual(QUEUE_NAMES);
    await getQueue("type").resume();
  });

  it("creates a job scheduler with a validated payload", async () => {
    await expect(scheduleJob("price", "daily-prices", { task: "nope" } as never, { cron: "15 11 * * *" })).rejects.toThrow(
      InvalidPayloadError,
    );
    await scheduleJob("price", "daily-prices", { task: "update" }, { cron: "15 11 * * *" });
    const schedulers = await getQueue("price").getJobSchedulers();
    expect(schedulers.map((s) => [s.key, s.pattern])).toEqual([["daily-prices", "15 11 * * *"]]);
    const [next] = await getQueue("price").getDelayed();
    expect(next?.opts.priority).toBe(Priority.routine); // the price queue's declared tier
    await getQueue("price").removeJobScheduler("daily-prices");
  });
});
