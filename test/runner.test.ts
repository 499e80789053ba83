// `bun queue` as a real process: discovery of processors (all, a subset, an unknown name), --limit,
// and graceful shutdown on SIGTERM (active jobs finish or go back to the queue; none lost or stuck).

import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { esiKeys } from "../server/esi/budget.ts";
import { config } from "../server/helpers/config.ts";
import { redis } from "../server/helpers/redis.ts";
import { SAME_SIGNAL_MS } from "../server/helpers/signals.ts";
import { enqueueJob, enqueueJobs } from "../server/queues/enqueue.ts";
import { Priority } from "../server/queues/priority.ts";
import { getQueue, getQueueStats } from "../server/queues/queue.ts";
import { QUEUES } from "../server/queues/registry.ts";
import { useTestDatabase } from "./support/database.ts";
import { useTestQueues } from "./support/isolation.ts";
import { until } from "./support/poll.ts";
import { killAll, ROOT, run, start } from "./support/spawn.ts";

const queues = useTestQueues("runner");
// The fixture processors' queues are outbox queues: their jobs settle outbox rows in this database.
const database = useTestDatabase("runner");
const env = { ...queues.env, ...database.env };
afterEach(killAll);
const DIR = ["--dir", "test/fixtures/processors", "--summary-interval", "0"];

const doneList = () => redis().lrange(`${config().queuePrefix}:fixture:done`, 0, -1);
const clearDone = () => redis().del(`${config().queuePrefix}:fixture:done`);

/** The pino lines of a run whose msg is `msg`. */
function logLines(stderr: string, msg: string): Record<string, unknown>[] {
  return stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === msg);
}

describe("discovery", () => {
  it("starts every processor in the folder and ignores other files", async () => {
    await clearDone();
    await enqueueJob("character", { id: 90000001 });
    await enqueueJob("type", { id: 587 });
    const result = await run("queue.ts", [...DIR, "--limit", "2"], { ...env, LOG_LEVEL: "info", QUEUE_TYPE_RATE: "100" });
    expect(result.code).toBe(0);
    // Worker options come from the registry, with the environment's overrides.
    const started = logLines(result.stderr, "worker started").map((l) => [l.queue, l.concurrency, l.limiter]);
    expect(started).toEqual([
      ["character", QUEUES.character.worker.concurrency, QUEUES.character.worker.limiter ?? null],
      ["type", QUEUES.type.worker.concurrency, { max: 100, duration: 1000 }],
    ]);
    expect((await doneList()).sort()).toEqual(["character-90000001", "type-587"]);
  });

  it("starts only the processors named", async () => {
    await clearDone();
    await enqueueJob("type", { id: 588 });
    await enqueueJob("character", { id: 90000002 });
    const result = await run("queue.ts", ["character", ...DIR, "--limit", "1"], { ...env, LOG_LEVEL: "info" });
    expect(result.code).toBe(0);
    expect(logLines(result.stderr, "worker started").map((l) => l.queue)).toEqual(["character"]);
    expect(await doneList()).toEqual(["character-90000002"]);
    expect((await getQueueStats("type")).waiting + (await getQueueStats("type")).prioritized).toBe(1);
  });

  it("exits 2 on an unknown name, listing the known ones", async () => {
    const result = await run("queue.ts", ["character", "killmails", ...DIR], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown processor: killmails");
    expect(result.stderr).toContain("known: character, type");
  });

  it("applies QUEUE_<NAME>_CONCURRENCY and exits 2 on a bad configuration value", async () => {
    await clearDone();
    await enqueueJob("character", { id: 90000009 });
    const ok = await run("queue.ts", ["character", ...DIR, "--limit", "1"], {
      ...env,
      LOG_LEVEL: "info",
      QUEUE_CHARACTER_CONCURRENCY: "7",
      QUEUE_CHARACTER_RATE: "3",
    });
    expect(ok.code).toBe(0);
    const [started] = logLines(ok.stderr, "worker started");
    expect(started).toMatchObject({ queue: "character", concurrency: 7, limiter: { max: 3, duration: 1000 } });
    expect(await doneList()).toEqual(["character-90000009"]);
    const bad = await run("queue.ts", DIR, { ...env, QUEUE_CHARACTER_CONCURRENCY: "lots" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("QUEUE_CHARACTER_CONCURRENCY");
  });
});

describe("--limit", () => {
  it("processes exactly N jobs and exits, leaving the rest queued", async () => {
    await clearDone();
    await enqueueJobs(
      "character",
      [1, 2, 3, 4, 5].map((i) => ({ id: 91000000 + i })),
      { priority: Priority.routine },
    );
    const result = await run("queue.ts", ["character", ...DIR, "--limit", "3"], { ...env, QUEUE_CHARACTER_CONCURRENCY: "2" });
    expect(result.code).toBe(0);
    expect(await doneList()).toHaveLength(3);
    const stats = await getQueueStats("character");
    expect(stats.active).toBe(0);
    expect(stats.waiting + stats.prioritized).toBe(2);
  });

  it("exits when nothing is runnable now: jobs held by the ESI guard wait in the delayed set", async () => {
    await getQueue("character").drain(true); // what earlier tests left queued
    // A guard up for a minute (as after a 420): every ESI call is refused, so each job is delayed.
    await redis().hset(esiKeys().guard, { until: Date.now() + 60_000, reason: "test", setAt: Date.now() });
    await enqueueJobs(
      "character",
      [1, 2, 3].map((i) => ({ id: 93000000 + i })),
    );
    const result = await run(
      "queue.ts",
      ["character", "--dir", "test/fixtures/esi-processors", "--summary-interval", "0", "--no-services", "--limit", "3"],
      {
        ...env,
        LOG_LEVEL: "info",
        ESI_URL: "http://127.0.0.1:9",
        ESI_USER_AGENT: "killboard-tests/1.0 tests@localhost",
      },
    );
    expect(result.code).toBe(0);
    const [stopped] = logLines(result.stderr, "shutting down: no new jobs; waiting for active ones");
    expect(stopped?.reason).toMatch(/^nothing runnable now: 0 of the limit of 3 jobs processed, 3 delayed/);
    const stats = await getQueueStats("character");
    expect(stats.delayed).toBe(3);
    expect(stats.active).toBe(0);
    await redis().del(esiKeys().guard);
    await getQueue("character").drain(true);
  });
});

describe("graceful shutdown", () => {
  it("lets active jobs finish on SIGTERM; the rest stay queued", async () => {
    await clearDone();
    const before = await getQueueStats("character");
    const queuedBefore = before.waiting + before.prioritized;
    await enqueueJobs(
      "character",
      [1, 2, 3, 4].map((i) => ({ id: 92000000 + i })),
    );
    const proc = start("queue.ts", ["character", ...DIR], { ...env, FIXTURE_SLEEP_MS: "1500", QUEUE_CHARACTER_CONCURRENCY: "2" });
    await until(async () => (await getQueueStats("character")).active === 2);
    proc.child.kill("SIGTERM");
    const result = await proc.result;
    expect(result.code).toBe(0);
    const stats = await getQueueStats("character");
    expect(stats.active).toBe(0);
    const done = await doneList();
    expect(done).toHaveLength(2);
    expect(done.length + stats.waiting + stats.prioritized).toBe(queuedBefore + 4);
  });

  it("returns jobs still active after the shutdown timeout to the queue", async () => {
    await clearDone();
    const before = await getQueueStats("character");
    const queuedBefore = before.waiting + before.prioritized;
    const proc = start("queue.ts", ["character", ...DIR, "--shutdown-timeout", "1"], {
      ...env,
      FIXTURE_SLEEP_MS: "20000",
      QUEUE_CHARACTER_CONCURRENCY: "2",
    });
    await until(async () => (await getQueueStats("character")).active === 2);
    proc.child.kill("SIGTERM");
    const result = await proc.result;
    expect(result.code).toBe(0);
    const stats = await getQueueStats("character");
    expect(stats.active).toBe(0);
    expect(stats.waiting + stats.prioritized).toBe(queuedBefore);
    expect(await doneList()).toHaveLength(0);
  });

  it("one Ctrl-C at a terminal on `bun run queue` (the package script) is one graceful stop: active jobs finish, exit 0", async () => {
    await clearDone();
    await enqueueJobs(
      "character",
      [1, 2, 3].map((i) => ({ id: 93000000 + i })),
    );
    // A real terminal (util-linux `script` gives the command a pty): Ctrl-C reaches the whole process
    // group — the package script's runner, its shell and bun queue — as it does for a person.
    const command = `exec bun run queue character --dir test/fixtures/processors --summary-interval 0`;
    const child = spawn("script", ["-qfec", command, "/dev/null"], {
      cwd: ROOT,
      env: { ...process.env, ...env, FIXTURE_SLEEP_MS: "1500", QUEUE_CHARACTER_CONCURRENCY: "2", LOG_LEVEL: "info", LOG_FORMAT: "json" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    await until(async () => (await getQueueStats("character")).active === 2, 30_000, "two active jobs");
    child.stdin!.write("\x03");
    expect(await exited).toBe(0);
    expect(out).toContain("signal received");
    expect(out).not.toContain("second signal");
    expect(await doneList()).toHaveLength(2); // the two active jobs finished
    const stats = await getQueueStats("character");
    expect(stats.active).toBe(0);
  }, 60_000);

  it("forces on a second signal, still returning active jobs", async () => {
    const before = await getQueueStats("character");
    const queuedBefore = before.waiting + before.prioritized;
    const proc = start("queue.ts", ["character", ...DIR], { ...env, FIXTURE_SLEEP_MS: "20000", QUEUE_CHARACTER_CONCURRENCY: "2" });
    await until(async () => (await getQueueStats("character")).active === 2);
    proc.child.kill("SIGTERM");
    await Bun.sleep(SAME_SIGNAL_MS + 300);
    proc.child.kill("SIGTERM");
    const result = await proc.result;
    expect(result.code).toBe(130);
    const stats = await getQueueStats("character");
    expect(stats.active).toBe(0);
    expect(stats.waiting + stats.prioritized).toBe(queuedBefore);
  });
});
