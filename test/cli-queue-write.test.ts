// `bun cli` queue commands that change Redis, as real processes: queue:retry (a worker then completes
// the retried jobs; the de-duplication rule holds), queue:clear (only the chosen states; --all and
// active jobs), queue:pause/resume (a paused queue's jobs are not processed) and queue:add.
import type { Worker } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";
import { enqueueJob, scheduleJob } from "../server/queues/enqueue.ts";
import { Priority } from "../server/queues/priority.ts";
import { getQueue, getQueueStats } from "../server/queues/queue.ts";
import { QUEUE_NAMES, type QueueName } from "../server/queues/registry.ts";
import { useTestQueues } from "./support/isolation.ts";
import { until } from "./support/poll.ts";
import { killAll, run } from "./support/spawn.ts";
import { plainWorker } from "./support/workers.ts";

const { env } = useTestQueues("cli-write");
const cli = (...args: string[]) => run("cli.ts", args, env);
const QUEUE_LIST = `queues: ${QUEUE_NAMES.join(", ")}`;

const workers: Worker[] = [];
afterEach(async () => {
  killAll();
  await Promise.all(workers.splice(0).map((w) => w.close(true)));
  for (const q of QUEUE_NAMES) {
    await getQueue(q).obliterate({ force: true });
    for (const s of await getQueue(q).getJobSchedulers()) await getQueue(q).removeJobScheduler(s.id ?? s.key);
  }
});

/** A real worker on an entity queue; `handle` decides per id. */
function startWorker(queue: "character" | "corporation" | "alliance" | "type", handle: (id: number) => Promise<unknown>): Worker {
  const worker = plainWorker(queue, (data) => handle(Number(data.id ?? 0)));
  workers.push(worker);
  return worker;
}

async function stopWorkers(): Promise<void> {
  await Promise.all(workers.splice(0).map((w) => w.close()));
}

const stats = (q: QueueName) => getQueueStats(q);

describe("queue:retry", () => {
  it("moves failed jobs back with their priority; a worker then completes them", async () => {
    const failing = new Set([101, 102, 103]);
    startWorker("character", async (id) => {
      if (failing.has(id)) throw new Error(`upstream down for ${id}`);
      return "ok";
    });
    for (const id of [101, 102, 103, 104]) await enqueueJob("character", { id }, { attempts: 1, priority: Priority.backfill });
    await until(async () => (await stats("character")).failed === 3 && (await stats("character")).completed === 1);
    await stopWorkers();

    const result = await cli("queue:retry", "character", "--failed");
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe("character: retried 3 failed jobs");
    const after = await stats("character");
    expect(after).toMatchObject({ failed: 0, prioritized: 3, waiting: 0, completed: 1 });
    const retried = await getQueue("character").getPrioritized();
    expect(retried.map((j) => [j.priority, j.attemptsMade]).sort()).toEqual([
      [Priority.backfill, 0],
      [Priority.backfill, 0],
      [Priority.backfill, 0],
    ]);
    // The retried job holds its work key again: the same work is not enqueued twice.
    const again = await enqueueJob("character", { id: 101 });
    expect(again.added).toBe(false);
    expect(retried.map((j) => j.id)).toContain(again.jobId);

    failing.clear();
    startWorker("character", async () => "ok");
    await until(async () => (await stats("character")).completed === 4);
    expect(await stats("character")).toMatchObject({ failed: 0, prioritized: 0, waiting: 0, active: 0 });
  });

  it("skips a failed job whose work is pending again in a newer job", async () => {
    startWorker("character", async () => {
      throw new Error("nope");
    });
    await enqueueJob("character", { id: 201 }, { attempts: 1 });
    await until(async () => (await stats("character")).failed === 1);
    await stopWorkers();
    const newer = await enqueueJob("character", { id: 201 });
    expect(newer.added).toBe(true);

    const result = await cli("queue:retry", "character", "--failed", "--json");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      retried: 0,
      queues: [{ queue: "character", retried: 0, skipped: 1, notTransient: 0, gone: 0 }],
    });
    expect(await stats("character")).toMatchObject({ failed: 1, prioritized: 1 });
  });

  it("--all-queues retries the failed jobs of every queue", async () => {
    startWorker("character", async () => {
      throw new Error("x");
    });
    startWorker("type", async () => {
      throw new Error("y");
    });
    await enqueueJob("character", { id: 301 }, { attempts: 1 });
    await enqueueJob("type", { id: 34 }, { attempts: 1 });
    await enqueueJob("type", { id: 35 }, { attempts: 1 });
    await until(async () => (await stats("character")).failed === 1 && (await stats("type")).failed === 2);
    await stopWorkers();

    const result = await cli("queue:retry", "--failed", "--all-queues");
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split("\n")).toEqual([
      "character: retried 1 failed job",
      "type: retried 2 failed jobs",
      "retried 3 failed jobs in all",
    ]);
    expect((await stats("character")).failed + (await stats("type")).failed).toBe(0);
  });

  it("exits 2 without --failed, or with both a queue and --all-queues", async () => {
    const noFlag = await cli("queue:retry", "character");
    expect(noFlag.code).toBe(2);
    expect(noFlag.stderr).toContain("required option '--failed' not specified");
    expect(noFlag.stderr).toContain(QUEUE_LIST);
    const both = await cli("queue:retry", "character", "--failed", "--all-queues");
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("give a queue or --all-queues, not both");
  });
});

describe("queue:clear", () => {
  /** corporation: 1 completed, 1 failed, then 1 waiting, 2 prioritized, 1 delayed and a scheduler's next run. */
  async function fill(): Promise<void> {
    startWorker("corporation", async (id) => {
      if (id === 2) throw new Error("bad corp");
      return "ok";
    });
    await enqueueJob("corporation", { id: 1 }, { attempts: 1 });
    await enqueueJob("corporation", { id: 2 }, { attempts: 1 });
    await until(async () => (await stats("corporation")).completed === 1 && (await stats("corporation")).failed === 1);
    await stopWorkers();
    await getQueue("corporation").add("corporation", { id: 3 });
    await enqueueJob("corporation", { id: 4 });
    await enqueueJob("corporation", { id: 5 });
    await enqueueJob("corporation", { id: 6 }, { delay: 3_600_000 });
    await scheduleJob("corporation", "corp-refresh", { id: 98000001 }, { cron: "0 3 * * *" });
    expect(await stats("corporation")).toMatchObject({ completed: 1, failed: 1, waiting: 1, prioritized: 2, delayed: 2 });
  }

  it("removes only the chosen states and reports the counts", async () => {
    await fill();
    const failed = await cli("queue:clear", "corporation", "--failed");
    expect(failed.code).toBe(0);
    expect(failed.stdout.trim()).toBe("removed 1 failed job from corporation");
    expect(await stats("corporation")).toMatchObject({ completed: 1, failed: 0, waiting: 1, prioritized: 2, delayed: 2 });

    const two = await cli("queue:clear", "corporation", "--completed", "--delayed", "--json");
    expect(two.code).toBe(0);
    expect(JSON.parse(two.stdout)).toEqual({ queue: "corporation", removed: { completed: 1, delayed: 1 }, total: 2 });
    // The scheduler's next run is not an ordinary delayed job: it stays.
    expect(await stats("corporation")).toMatchObject({ completed: 0, failed: 0, waiting: 1, prioritized: 2, delayed: 1 });
    expect(await getQueue("corporation").getJobSchedulersCount()).toBe(1);

    const waiting = await cli("queue:clear", "corporation", "--waiting");
    expect(waiting.code).toBe(0);
    expect(waiting.stdout.trim()).toBe("removed 3 waiting jobs from corporation");
    expect(await stats("corporation")).toMatchObject({ waiting: 0, prioritized: 0, delayed: 1 });
    // Removing a pending job releases its work key: the same work can be enqueued again.
    expect((await enqueueJob("corporation", { id: 4 })).added).toBe(true);
  });

  it("--all removes every job, keeps schedulers and the paused flag", async () => {
    await fill();
    await getQueue("corporation").pause();
    const result = await cli("queue:clear", "corporation", "--all", "--json");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      queue: "corporation",
      removed: { completed: 1, failed: 1, waiting: 1, prioritized: 2, delayed: 2, active: 0 },
      total: 7,
      schedulersKept: 1,
    });
    const after = await stats("corporation");
    expect(after).toMatchObject({ completed: 0, failed: 0, waiting: 0, prioritized: 0, active: 0, paused: true });
    const [scheduler] = await getQueue("corporation").getJobSchedulers();
    expect(scheduler).toMatchObject({ key: "corp-refresh", pattern: "0 3 * * *", template: { data: { id: 98000001 } } });
    expect(after.delayed).toBe(1); // the scheduler's next run, created again
  });

  it("--all refuses while a worker has active jobs, unless --force", async () => {
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    startWorker("alliance", async () => held);
    await enqueueJob("alliance", { id: 99000001 });
    await enqueueJob("alliance", { id: 99000002 });
    await until(async () => (await stats("alliance")).active === 1);

    const refused = await cli("queue:clear", "alliance", "--all");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("refusing to clear all of alliance: 1 job active (1 worker connected to the queue)");
    expect(refused.stderr).toContain("--force");
    expect(await stats("alliance")).toMatchObject({ active: 1, prioritized: 1, paused: false });

    const forced = await cli("queue:clear", "alliance", "--all", "--force");
    expect(forced.code).toBe(0);
    expect(forced.stdout.trim()).toBe("removed 2 jobs from alliance (1 prioritized, 1 active)");
    expect(await stats("alliance")).toMatchObject({ active: 0, prioritized: 0, waiting: 0, paused: false });
    release();
  });

  it("exits 2 when no state is chosen or --force comes without --all", async () => {
    const none = await cli("queue:clear", "corporation");
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("choose what to remove: --failed, --completed, --delayed, --waiting or --all");
    expect(none.stderr).toContain(QUEUE_LIST);
    const force = await cli("queue:clear", "corporation", "--failed", "--force");
    expect(force.code).toBe(2);
    const mixed = await cli("queue:clear", "corporation", "--all", "--failed");
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain("cannot be used with");
  });
});

describe("queue:pause / queue:resume", () => {
  it("flips the paused flag; a paused queue's jobs are not processed until it is resumed", async () => {
    const paused = await cli("queue:pause", "type");
    expect(paused.code).toBe(0);
    expect(paused.stdout.trim()).toBe("type: paused");
    expect(await getQueue("type").isPaused()).toBe(true);
    expect((await cli("queue:pause", "type")).stdout.trim()).toBe("type: paused (was already paused)");

    const done: number[] = [];
    const worker = startWorker("type", async (id) => done.push(id));
    await worker.waitUntilReady();
    await enqueueJob("type", { id: 587 });
    await Bun.sleep(500); // a window in which a running queue would have processed the job
    expect(done).toEqual([]);
    expect(await stats("type")).toMatchObject({ prioritized: 1, active: 0, completed: 0, paused: true });

    const resumed = await cli("queue:resume", "type", "--json");
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toEqual([{ queue: "type", paused: false, changed: true }]);
    await until(async () => (await stats("type")).completed === 1);
    expect(done).toEqual([587]);
  });

  it("--all pauses and resumes every queue", async () => {
    const paused = await cli("queue:pause", "--all", "--json");
    expect(paused.code).toBe(0);
    expect((JSON.parse(paused.stdout) as { paused: boolean }[]).map((r) => r.paused)).toEqual(QUEUE_NAMES.map(() => true));
    for (const q of QUEUE_NAMES) expect(await getQueue(q).isPaused()).toBe(true);
    const resumed = await cli("queue:resume", "--all");
    expect(resumed.code).toBe(0);
    expect(resumed.stdout.trim().split("\n")).toEqual(QUEUE_NAMES.map((q) => `${q}: running`));
    for (const q of QUEUE_NAMES) expect(await getQueue(q).isPaused()).toBe(false);
  });

  it("exits 2 without a queue or --all", async () => {
    const result = await cli("queue:resume");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("missing queue: give a queue name or --all");
    expect(result.stderr).toContain(QUEUE_LIST);
  });
});

describe("queue:add", () => {
  it("adds a validated job with its priority and says when the same work is de-duplicated", async () => {
    const first = await cli("queue:add", "character", '{"id":90000001}', "--priority", "user", "--json");
    expect(first.code).toBe(0);
    const added = JSON.parse(first.stdout) as { queue: string; jobId: string; added: boolean };
    expect(added).toMatchObject({ queue: "character", added: true });
    expect(added.jobId).toMatch(/^character-90000001-/);
    const job = await getQueue("character").getJob(added.jobId);
    expect(job?.data).toEqual({ id: 90000001 });
    expect(job?.priority).toBe(Priority.user);

    const second = await cli("queue:add", "character", '{"id":90000001}');
    expect(second.code).toBe(0);
    expect(second.stdout.trim()).toBe(`de-duplicated: character job ${added.jobId} already exists (prioritized); nothing added`);
    expect((await stats("character")).prioritized).toBe(1);
  });

  it("applies --delay and --priority <n>; --job-id de-duplicates on the id", async () => {
    const delayed = await cli("queue:add", "price", '{"task":"update"}', "--delay", "60000", "--priority", "7");
    expect(delayed.code).toBe(0);
    expect(delayed.stdout).toMatch(/^added price job price-update-\S+\n$/);
    const [job] = await getQueue("price").getDelayed();
    expect(job).toMatchObject({ delay: 60_000, priority: 7 });

    const a = await cli("queue:add", "type", '{"id":587}', "--job-id", "debug-587", "--json");
    expect(JSON.parse(a.stdout)).toEqual({ queue: "type", jobId: "debug-587", added: true });
    const b = await cli("queue:add", "type", '{"id":587}', "--job-id", "debug-587", "--json");
    expect(JSON.parse(b.stdout)).toEqual({ queue: "type", jobId: "debug-587", added: false, existingState: "prioritized" });
    expect((await stats("type")).prioritized).toBe(1);
  });

  it("exits 2 on an invalid payload, bad JSON or bad options, adding nothing", async () => {
    const invalid = await cli("queue:add", "killmail", '{"killmailId":1,"hash":"nothex"}');
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain("error: invalid killmail payload: hash:");
    expect(invalid.stderr).toContain(QUEUE_LIST);
    const badJson = await cli("queue:add", "character", "{id:1}");
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toContain("not valid JSON");
    const badPriority = await cli("queue:add", "character", '{"id":1}', "--priority", "urgent");
    expect(badPriority.code).toBe(2);
    expect(badPriority.stderr).toContain("use a tier (credentials, user, live, routine, enrichment, backfill) or a whole number");
    const badId = await cli("queue:add", "character", '{"id":1}', "--job-id", "a:b");
    expect(badId.code).toBe(2);
    expect(badId.stderr).toContain("contain no ':'");
    const missing = await cli("queue:add", "character");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'payload'");
    for (const q of ["killmail", "character"] as const) {
      const s = await stats(q);
      expect(s.waiting + s.prioritized + s.delayed).toBe(0);
    }
  });
});
