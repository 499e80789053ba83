// `bun cli` read-only queue commands as real processes: queue:stats (table, JSON, --watch),
// queue:failed, schedulers:list, --help of every command, and the exit codes of usage, configuration
// and connection errors.

import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import type { Worker } from "bullmq";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { enqueueJob, scheduleJob } from "../server/queues/enqueue.ts";
import { Priority } from "../server/queues/priority.ts";
import { getQueue, getQueueStats } from "../server/queues/queue.ts";
import { QUEUE_NAMES } from "../server/queues/registry.ts";
import { useTestQueues } from "./support/isolation.ts";
import { until } from "./support/poll.ts";
import { killAll, ROOT, run, start } from "./support/spawn.ts";
import { plainWorker } from "./support/workers.ts";

const { env } = useTestQueues("cli-read");
afterEach(killAll);

const cli = (...args: string[]) => run("cli.ts", args, env);
const QUEUE_LIST = `queues: ${QUEUE_NAMES.join(", ")}`;

let worker: Worker | undefined;
afterAll(async () => {
  await worker?.close();
});

// character: 2 completed, 2 failed (13 then 14), then 1 waiting, 2 prioritized, 1 delayed.
// type: 1 prioritized, paused. price: a cron scheduler; backfill: an interval scheduler.
beforeAll(async () => {
  for (const id of [1, 2, 13, 14]) await enqueueJob("character", { id }, { attempts: 1 });
  worker = plainWorker("character", async (data) => {
    if (Number(data.id) > 10) throw new Error(`boom ${data.id}`);
    return "ok";
  });
  await until(async () => {
    const s = await getQueueStats("character");
    return s.completed === 2 && s.failed === 2;
  });
  await worker.close();
  worker = undefined;

  await getQueue("character").add("character", { id: 3 }); // no priority: plain waiting
  await enqueueJob("character", { id: 4 });
  await enqueueJob("character", { id: 5 }, { priority: Priority.backfill });
  await enqueueJob("character", { id: 6 }, { delay: 3_600_000 });
  await enqueueJob("type", { id: 587 });
  await getQueue("type").pause();
  await scheduleJob("price", "price-daily", { task: "update" }, { cron: "15 11 * * *" });
  await scheduleJob("backfill", "alliance-snapshot-hourly", { task: "alliance-snapshot" }, { every: 3_600_000 });
});

describe("queue:stats", () => {
  it("prints every state of every queue and the paused flag as JSON", async () => {
    const result = await cli("queue:stats", "--json");
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as {
      at: string;
      queues: Record<string, unknown>[];
      totals: Record<string, number>;
    };
    expect(out.queues.map((q) => q.queue)).toEqual(QUEUE_NAMES);
    const byName = Object.fromEntries(out.queues.map((q) => [q.queue, q]));
    expect(byName.character).toEqual({
      queue: "character",
      paused: false,
      waiting: 1,
      prioritized: 2,
      active: 0,
      delayed: 1,
      completed: 2,
      failed: 2,
      "waiting-children": 0,
    });
    expect(byName.type).toMatchObject({ paused: true, prioritized: 1, waiting: 0 });
    expect(byName.killmail).toMatchObject({ paused: false, waiting: 0, prioritized: 0, failed: 0 });
    // The totals are the sums of the rows and match what BullMQ reports.
    const stats = await getQueueStats();
    for (const state of ["waiting", "prioritized", "active", "delayed", "completed", "failed", "waiting-children"] as const) {
      expect(out.totals[state]).toBe(stats.reduce((sum, q) => sum + q[state], 0));
    }
    expect(out.totals.failed).toBe(2);
  });

  it("prints an aligned table with a totals row", async () => {
    const result = await cli("queue:stats");
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[0]!.split(/\s+/)).toEqual([
      "queue",
      "waiting",
      "prioritized",
      "active",
      "delayed",
      "completed",
      "failed",
      "waiting-children",
      "paused",
    ]);
    const row = (name: string) => lines.find((l) => l.startsWith(`${name} `))!.split(/\s+/);
    expect(row("character")).toEqual(["character", "1", "2", "0", "1", "2", "2", "0", "no"]);
    expect(row("type")).toEqual(["type", "0", "1", "0", "0", "0", "0", "0", "PAUSED"]);
    expect(row("total").slice(-2)).toEqual(["1", "paused"]);
    // Aligned: every row is as wide as the header up to the last number column.
    const failedEnd = lines[0]!.indexOf("failed") + "failed".length;
    for (const line of lines.filter((l) => !l.startsWith("-"))) expect(line[failedEnd]).toBe(" ");
  });

  it("--watch refreshes until CTRL+C, one JSON document per line", async () => {
    const proc = start("cli.ts", ["queue:stats", "--watch", "0.2", "--json"], env);
    await proc.waitFor(/\{"at":[^\n]*\n\{"at":[^\n]*\n/);
    proc.child.kill("SIGINT");
    const result = await proc.result;
    expect(result.code).toBe(0);
    const docs = result.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { queues: unknown[]; totals: { failed: number } });
    expect(docs.length).toBeGreaterThanOrEqual(2);
    for (const doc of docs) {
      expect(doc.queues).toHaveLength(QUEUE_NAMES.length);
      expect(doc.totals.failed).toBe(2);
    }
  });
});

describe("queue:failed", () => {
  it("lists id, reason, attempts and time of failure, newest first", async () => {
    const result = await cli("queue:failed", "character", "--json");
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as { queue: string; total: number; jobs: Record<string, unknown>[] };
    expect(out.queue).toBe("character");
    expect(out.total).toBe(2);
    expect(out.jobs.map((j) => [j.reason, j.attemptsMade, j.attempts, j.data])).toEqual([
      ["boom 14", 1, 1, { id: 14 }],
      ["boom 13", 1, 1, { id: 13 }],
    ]);
    expect(String(out.jobs[0]!.id)).toMatch(/^character-14-/);
    const times = out.jobs.map((j) => Date.parse(String(j.failedAt)));
    expect(times[0]).toBeGreaterThanOrEqual(times[1]!);
  });

  it("--limit shows the newest ones; the table says how many there are", async () => {
    const result = await cli("queue:failed", "character", "--limit", "1");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("1 of 2 failed jobs in character, newest first");
    expect(result.stdout).toContain("boom 14");
    expect(result.stdout).not.toContain("boom 13");
    expect(result.stdout).toMatch(/character-14-\S+\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(\d+s ago\)\s+1\/1\s+boom 14/);
  });

  it("says so when a queue has no failed jobs", async () => {
    const result = await cli("queue:failed", "alliance");
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe("no failed jobs in alliance");
  });
});

describe("schedulers:list", () => {
  it("lists the schedulers of every queue with their pattern or interval and next run", async () => {
    const result = await cli("schedulers:list", "--json");
    expect(result.code).toBe(0);
    const rows = JSON.parse(result.stdout) as Record<string, unknown>[];
    const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
    expect(byId["price-daily"]).toMatchObject({ queue: "price", pattern: "15 11 * * *", every: null, tz: "UTC", data: { task: "update" } });
    expect(byId["alliance-snapshot-hourly"]).toMatchObject({ queue: "backfill", pattern: null, every: 3_600_000 });
    const next = Date.parse(String(byId["price-daily"]!.next));
    expect(new Date(next).getUTCHours()).toBe(11);
    expect(new Date(next).getUTCMinutes()).toBe(15);

    const text = await cli("schedulers:list");
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/price-daily\s+price\s+cron 15 11 \* \* \* \(UTC\)\s+running\s+\d{4}-\d\d-\d\d 11:15:00Z \(in /);
    expect(text.stdout).toMatch(/alliance-snapshot-hourly\s+backfill\s+every 1h\s+running\s+/);
  });
});

describe("help", () => {
  // One command per file in cli/ (not tests, not _helpers): `queue-stats.ts` registers `queue:stats`.
  const COMMANDS = readdirSync(resolve(ROOT, "cli"))
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.startsWith("_"))
    .map((f) => f.replace(/\.ts$/, "").replace("-", ":"))
    .sort();

  it("lists every command, and every command explains itself with --help", async () => {
    const list = await cli("--help");
    expect(list.code).toBe(0);
    const listed = [...list.stdout.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]).filter((c) => c !== "help" && !c!.startsWith("-"));
    expect([...listed].sort()).toEqual(COMMANDS);
    expect(COMMANDS).toEqual(expect.arrayContaining(["health", "queue:add", "queue:stats", "reconcile", "listen:r2z2"]));
    const helps = await Promise.all(COMMANDS.map((c) => cli(c, "--help")));
    helps.forEach((h, i) => {
      expect(h.code, COMMANDS[i]).toBe(0);
      expect(h.stdout).toContain(`Usage: cli ${COMMANDS[i]}`);
      expect(h.stdout).toContain("--json");
    });
    expect((await cli("help", "queue:stats")).stdout).toContain("--watch [seconds]");
  });
});

describe("exit codes", () => {
  it("exits 2 with the list of queues on an unknown queue, for every command taking one", async () => {
    const runs = await Promise.all([
      cli("queue:failed", "killmails"),
      cli("queue:retry", "killmails", "--failed"),
      cli("queue:clear", "killmails", "--failed"),
      cli("queue:pause", "killmails"),
      cli("queue:resume", "killmails"),
      cli("queue:add", "killmails", "{}"),
      cli("health", "--workers", "killmails"),
    ]);
    for (const result of runs) {
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("unknown queue 'killmails'");
      expect(result.stderr).toContain(QUEUE_LIST);
      expect(result.stdout).toBe("");
    }
  });

  it("exits 2 on a missing argument or flag and on an unknown command", async () => {
    const missingQueue = await cli("queue:failed");
    expect(missingQueue.code).toBe(2);
    expect(missingQueue.stderr).toContain("missing required argument 'queue'");
    expect(missingQueue.stderr).toContain(QUEUE_LIST);
    const noCommand = await cli();
    expect(noCommand.code).toBe(2);
    expect(noCommand.stderr).toContain("Usage: cli <command>");
    const unknown = await cli("queue:stat");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'queue:stat'");
  });

  it("exits 2 on a configuration error, naming the variable", async () => {
    const result = await run("cli.ts", ["queue:stats"], { ...env, QUEUE_PREFIX: "bad prefix!" });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("configuration error: invalid QUEUE_PREFIX");
  });

  it("exits 1 with one clear line when Redis is unreachable", async () => {
    const result = await run("cli.ts", ["queue:stats"], { ...env, REDIS_URL: "redis://127.0.0.1:1" });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^error: cannot reach Redis at redis:\/\/127\.0\.0\.1:1\/?: .*ECONNREFUSED/),
    ]);
    expect(result.stdout).toBe("");
  });
});

describe("health", () => {
  it("passes when Redis and PostgreSQL answer; fails naming a queue without workers", async () => {
    const ok = await cli("health", "--database", "--json");
    expect(ok.code).toBe(0);
    const out = JSON.parse(ok.stdout) as { ok: boolean; checks: { check: string; ok: boolean }[] };
    expect(out.checks.map((c) => [c.check, c.ok])).toEqual([
      ["redis", true],
      ["postgres", true],
    ]);
    const noWorkers = await cli("health", "--workers", "alliance");
    expect(noWorkers.code).toBe(1);
    expect(noWorkers.stdout).toContain("FAIL workers alliance: 0 connected");
  });

  it("answers in JSON, exit 1, when Redis is gone", async () => {
    const down = await run("cli.ts", ["health", "--workers", "killmail", "--json"], { ...env, REDIS_URL: "redis://127.0.0.1:1" });
    expect(down.code).toBe(1);
    const out = JSON.parse(down.stdout) as { ok: boolean; checks: { check: string; ok: boolean; detail: string }[] };
    expect(out.ok).toBe(false);
    expect(out.checks.map((c) => [c.check, c.ok])).toEqual([
      ["redis", false],
      ["workers killmail", false],
    ]);
    expect(out.checks[0]!.detail).toMatch(/did not answer|ECONNREFUSED|Connection is closed/);
  }, 30_000);

  it("passes --workers when a worker is connected to the queue", async () => {
    const w = plainWorker("alliance", async () => "ok");
    try {
      await w.waitUntilReady();
      await until(async () => (await getQueue("alliance").getWorkersCount()) > 0);
      const result = await cli("health", "--workers", "alliance");
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/ok {3}workers alliance: [1-9]\d* connected/);
    } finally {
      await w.close();
    }
  });
});
