// Five real worker processes (`bun queue` with the fixture processors in test/fixtures/esi-processors,
// each calling ESI through the shared client) hammer a simulator whose limits are tiny: a killmail
// bucket of 40 tokens per 5 s and 15 errors per 5 s window. They share one budget through Redis, so the
// simulator must see no 420 and no 429 at all, no request while a guard is up, and every job completes.
import { afterEach, describe, expect, it } from "vitest";
import { budgetEvents } from "../server/esi/budget.ts";
import { config } from "../server/helpers/config.ts";
import { redis } from "../server/helpers/redis.ts";
import { enqueueJobs } from "../server/queues/enqueue.ts";
import { Priority } from "../server/queues/priority.ts";
import { getQueueStats } from "../server/queues/queue.ts";
import { useTestDatabase } from "./support/database.ts";
import { useTestQueues } from "./support/isolation.ts";
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

describe("five worker processes sharing one ESI budget", () => {
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
});
