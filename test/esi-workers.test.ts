// Real worker processes (`bun queue` with the fixture processors in test/fixtures/esi-processors, each
// calling ESI through the shared client) hammer a simulator whose limits are tiny: a killmail bucket of
// 40 tokens per 5 s and 15 errors per 5 s window. They share one budget through Redis, so the simulator
// must see no 420 and no 429 at all, no request while a guard is up, and every job completes — also
// through pacing, the live reserve and a Tranquility downtime, each change of which one process (not
// one per process, not one per request) reports in one warn line.
import { afterEach, describe, expect, it } from "vitest";
import { type BudgetEvent, budgetEvents, budgetState } from "../server/esi/budget.ts";
import { config } from "../server/helpers/config.ts";
import { redis } from "../server/helpers/redis.ts";
import { enqueueJobs } from "../server/queues/enqueue.ts";
import { Priority } from "../server/queues/priority.ts";
import { getQueueStats } from "../server/queues/queue.ts";
import { useTestDatabase } from "./support/database.ts";
import { deleteKeys, useTestQueues } from "./support/isolation.ts";
import { until } from "./support/poll.ts";
import { killAll, start } from "./support/spawn.ts";
import { useSimulator } from "./support/upstream.ts";

const { env: queues } = useTestQueues("esi-workers");
// The character queue is an outbox queue: its jobs settle outbox rows in this database.
const { env: database } = useTestDatabase("esi-workers");
const queueEnv = { ...queues, ...database };
const { sim, env: simEnv } = await useSimulator({
  seed: 44,
  limits: { killmailTokens: 40, killmailWindowSeconds: 5, errorLimit: 15, errorWindowSeconds: 5 },
});
afterEach(killAll);

const w = sim.world;
const pilots = w.entities.pilots.filter((id) => !w.entities.characters.get(id)!.deleted);
const unknownIds = Array.from({ length: 60 }, (_, i) => 97_600_000 + i).filter((id) => !w.character(id));

describe("worker processes sharing one ESI budget", () => {
  it("never get a 420 or 429, send nothing while a guard is up, and complete every job", async () => {
    const kills = Array.from({ length: 60 }, (_, i) => w.killmail(i));
    const goneIds = unknownIds.slice(0, 30);
    const liveIds = pilots.slice(0, 20);
    await enqueueJobs(
      "killmail",
      kills.map((k) => ({ killmailId: k.killmail_id, hash: k.hash })),
      { priority: Priority.routine },
    );
    await enqueueJobs(
      "character",
      [...goneIds, ...liveIds].sort((a, b) => a - b).map((id) => ({ id })),
      { priority: Priority.routine },
    );
    const total = kills.length + goneIds.length + liveIds.length;

    const env = {
      ...queueEnv,
      ...simEnv,
      LOG_LEVEL: "warn",
      QUEUE_CHARACTER_CONCURRENCY: "4",
      QUEUE_KILLMAIL_CONCURRENCY: "4",
      ESI_ERROR_LOW_MARK: "5",
      ESI_SERIAL_SECONDS: "1",
      ESI_MAX_INLINE_WAIT_MS: "1000",
      // the hard floor alone (no pacing before it, no reserve above it), so that the guard is exercised
      ESI_PACE_PERCENT: "0",
      ESI_LIVE_RESERVE: "0",
    };
    // Each process names itself in its User-Agent so the simulator's log shows who sent what.
    const workers = Array.from({ length: 5 }, (_, i) =>
      start("queue.ts", ["--dir", "test/fixtures/esi-processors", "--summary-interval", "0", "--no-services"], {
        ...env,
        ESI_USER_AGENT: `${simEnv.ESI_USER_AGENT} worker-${i}`,
      }),
    );
    const done = async () => {
      const [k, c] = await Promise.all([getQueueStats("killmail"), getQueueStats("character")]);
      return k.completed + c.completed + k.failed + c.failed >= total;
    };
    await until(done, 150_000);
    for (const p of workers) p.child.kill("SIGTERM");
    const results = await Promise.all(workers.map((p) => p.result));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0, 0]);

    // Every job completed with the right outcome.
    const [k, c] = await Promise.all([getQueueStats("killmail"), getQueueStats("character")]);
    expect([k.completed, k.failed, c.completed, c.failed]).toEqual([kills.length, 0, goneIds.length + liveIds.length, 0]);
    const recorded = await redis().lrange(`${config().queuePrefix}:fixture:esi`, 0, -1);
    expect(recorded.sort()).toEqual(
      [
        ...kills.map((km) => `killmail-${km.killmail_id}`),
        ...goneIds.map((id) => `character-${id}-gone`),
        ...liveIds.map((id) => `character-${id}-ok`),
      ].sort(),
    );

    // The simulator saw all five processes (one IP) but never had to refuse them.
    const stats = sim.stats();
    expect(stats.errorLimited).toBe(0);
    expect(stats.requestsDuring420).toBe(0);
    expect(stats.rateLimited).toBe(0);
    expect(stats.violations).toBe(0);
    expect(stats.byRoute["esi.killmail"]!.byStatus).toEqual({ "200": kills.length });

    // The error budget did run low (so the guard was exercised) and nothing was sent while it was up,
    // except requests already in flight when it went up (counted in the event).
    const guards = (await budgetEvents()).filter((e) => e.kind === "guard");
    expect(guards.length).toBeGreaterThan(0);
    const log = sim.requests();
    for (const g of guards) {
      const during = log.filter((r) => r.at > g.setAt && r.at < g.until);
      expect(during.length, `guard ${JSON.stringify(g)}`).toBeLessThanOrEqual(g.inflight ?? 0);
    }
    // All five took part.
    const agents = new Set(log.map((r) => r.userAgent?.split(" ").at(-1)));
    expect([...agents].sort()).toEqual(["worker-0", "worker-1", "worker-2", "worker-3", "worker-4"]);
  }, 180_000);

  it("live and routine work through pacing and a downtime: every job completes; each change of mode is one warn line", async () => {
    // A budget and a simulator of its own (the jobs of the test before stay counted as completed).
    sim.reset();
    await deleteKeys(`${config().queuePrefix}:esi:*`);
    const before = await Promise.all([getQueueStats("killmail"), getQueueStats("character")]);
    const doneBefore = before[0].completed + before[1].completed;
    const kills = Array.from({ length: 30 }, (_, i) => w.killmail(100 + i));
    const goneIds = unknownIds.slice(30, 50);
    const liveIds = pilots.slice(40, 60);
    const userIds = pilots.slice(60, 65);
    await enqueueJobs(
      "killmail",
      kills.map((k) => ({ killmailId: k.killmail_id, hash: k.hash })),
      { priority: Priority.live },
    );
    await enqueueJobs(
      "character",
      [...goneIds, ...liveIds].sort((a, b) => a - b).map((id) => ({ id })),
      { priority: Priority.routine },
    );
    await enqueueJobs(
      "character",
      userIds.map((id) => ({ id })),
      { priority: Priority.user },
    );
    const total = kills.length + goneIds.length + liveIds.length + userIds.length;
    const env = {
      ...queueEnv,
      ...simEnv,
      LOG_LEVEL: "warn",
      QUEUE_CHARACTER_CONCURRENCY: "4",
      QUEUE_KILLMAIL_CONCURRENCY: "4",
      // 15 errors a window: floor 3 for live work, 3 + 6 (the reserve, capped at half of 12) for the rest,
      // pacing below 12 for the rest
      ESI_ERROR_LOW_MARK: "3",
      ESI_SERIAL_SECONDS: "1",
      ESI_MAX_INLINE_WAIT_MS: "1000",
      ESI_DOWNTIME_STREAK: "3",
      ESI_DOWNTIME_PROBE_SECONDS: "1",
    };
    const workers = Array.from({ length: 3 }, (_, i) =>
      start("queue.ts", ["--dir", "test/fixtures/esi-processors", "--summary-interval", "0", "--no-services"], {
        ...env,
        ESI_USER_AGENT: `${simEnv.ESI_USER_AGENT} worker-${i}`,
      }),
    );
    const completed = async () => {
      const [k, c] = await Promise.all([getQueueStats("killmail"), getQueueStats("character")]);
      return k.completed + c.completed - doneBefore;
    };
    // Some work done, then Tranquility goes down for a few seconds.
    await until(async () => (await completed()) >= 20, 60_000, "20 jobs");
    sim.setFaults({ service: "esi", errorRate: 1, errorStatuses: [503] });
    await until(async () => (await budgetState()).downtime !== null, 20_000, "the downtime");
    await Bun.sleep(3_000);
    sim.setFaults([]);
    await until(async () => (await completed()) >= total, 150_000, "every job");
    for (const p of workers) p.child.kill("SIGTERM");
    const results = await Promise.all(workers.map((p) => p.result));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0]);

    const [k, c] = await Promise.all([getQueueStats("killmail"), getQueueStats("character")]);
    expect([k.failed, c.failed]).toEqual([0, 0]);
    expect(k.completed + c.completed - doneBefore).toBe(total);
    const stats = sim.stats();
    expect(stats.errorLimited).toBe(0);
    expect(stats.rateLimited).toBe(0);
    expect(stats.violations).toBe(0);

    // Each change of mode is in the events once and logged once, by one of the processes.
    const changes = (await budgetEvents()).filter((e) => e.kind !== "pause" && !e.extends);
    const lines = results.flatMap((r) =>
      r.stderr
        .split("\n")
        .filter((line) => line.includes('"transition"'))
        .map((line) => JSON.parse(line) as { level: number; component: string; transition: BudgetEvent["kind"]; setAt: number }),
    );
    expect(lines.every((l) => l.level === 40 && l.component === "esi")).toBe(true);
    const key = (kind: string, setAt: number) => `${setAt} ${kind}`;
    expect(lines.map((l) => key(l.transition, l.setAt)).sort()).toEqual(changes.map((e) => key(e.kind, e.setAt)).sort());
    const kinds = changes.map((e) => e.kind);
    expect(kinds.filter((kind) => kind === "downtime")).toHaveLength(1);
    expect(kinds.filter((kind) => kind === "downtime-end")).toHaveLength(1);
    expect(kinds).toContain("pacing");
    // Pacing kept the routine work one error above its floor (low mark + reserve), so the guard never went up.
    expect(kinds).not.toContain("guard");
  }, 240_000);
});
