// Exactly one complete copy of every kill, whatever happens to the workers or to Redis: duplicate jobs
// raced by two worker processes, a worker SIGKILLed mid-batch and restarted, and Redis FLUSHALLed in
// the middle of an ingest followed by `bun cli reconcile`. Real `bun queue killmail` processes.
// Also run against a 3-master Redis Cluster (`bun run test:cluster`); support/spawn.ts holds every
// process's log free of MOVED/CROSSSLOT.
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type BenchKill, benchKillmails } from "../bench/kills.ts";
import { sql } from "../server/db/client.ts";
import { config, setConfig } from "../server/helpers/config.ts";
import { closeRedis } from "../server/helpers/redis.ts";
import type { IngestOutcome } from "../server/killmails/ingest.ts";
import { submitKillmails } from "../server/killmails/intake.ts";
import { storeKillmails } from "../server/killmails/store.ts";
import { Priority } from "../server/queues/priority.ts";
import { closeQueues, getQueue, getQueueStats } from "../server/queues/queue.ts";
import { useTestDatabase } from "./support/database.ts";
import { useTestQueues } from "./support/isolation.ts";
import { until } from "./support/poll.ts";
import { type PrivateRedisTarget, startPrivateRedis } from "./support/private-redis.ts";
import { killAll, run, start } from "./support/spawn.ts";

const queues = useTestQueues("pipeline");
const database = useTestDatabase("pipeline");
afterEach(killAll);

const env = {
  ...queues.env,
  ...database.env,
  LOG_LEVEL: "info",
  ESI_USER_AGENT: "killboard-tests/1.0 tests@localhost",
  RECONCILE_INTERVAL_MS: "0",
  QUEUE_KILLMAIL_LOCK_SECONDS: "3",
  QUEUE_KILLMAIL_CONCURRENCY: "200",
  STORE_TRANSACTION_KILLS: "100",
};

const startWorker = (extra: Record<string, string> = {}) =>
  start("queue.ts", ["killmail", "--summary-interval", "0"], { ...env, ...extra });

/** Submits kills with their bodies: one job per kill (batchJobKills 1, as HTTP posts) or batch jobs (bulk sources). */
const submit = (kills: BenchKill[], batchJobKills = 1) =>
  submitKillmails(
    kills.map((k) => ({ killmailId: k.esi.killmail_id, hash: k.hash, esi: k.esi })),
    { source: "cli", priority: Priority.routine, batchJobKills },
  );

const shapes = [
  { jobs: "one job per kill", batchJobKills: 1, firstId: 0 },
  { jobs: "batch jobs of 100 kills", batchJobKills: 100, firstId: 5_000_000 },
];

async function storedCount(): Promise<number> {
  return (await sql()<{ n: number }[]>`select count(*)::int as n from killmails`)[0]!.n;
}

/** Every table holds exactly one complete copy of each of these kills. */
async function expectExactlyOnce(kills: BenchKill[]): Promise<void> {
  const ids = kills.map((k) => k.esi.killmail_id);
  const lo = Math.min(...ids);
  const hi = Math.max(...ids);
  const [row] = await sql()<{ k: number; a: number; i: number; v: number; pending: number }[]>`
    select (select count(*) from killmails where killmail_id between ${lo} and ${hi})::int as k,
           (select count(*) from attackers where killmail_id between ${lo} and ${hi})::int as a,
           (select count(*) from items where killmail_id between ${lo} and ${hi})::int as i,
           (select count(*) from killmail_values where killmail_id between ${lo} and ${hi})::int as v,
           (select count(*) from killmail_intake where killmail_id between ${lo} and ${hi} and status = 'pending')::int as pending`;
  expect(row).toEqual({
    k: kills.length,
    a: kills.reduce((n, k) => n + k.esi.attackers.length, 0),
    i: kills.reduce((n, k) => n + k.items, 0),
    v: kills.length,
    pending: 0,
  });
}

describe("exactly once", () => {
  it("stores each kill once when two workers race duplicate jobs", async () => {
    const kills = benchKillmails(400, 160_000_000);
    // A lock long enough for a starved box: a lock lost mid-job runs the job twice, which keeps the data
    // exactly once but counts its kills "existing" the second time (this test counts per job).
    const workers = [startWorker({ QUEUE_KILLMAIL_LOCK_SECONDS: "60" }), startWorker({ QUEUE_KILLMAIL_LOCK_SECONDS: "60" })];
    await Promise.all(workers.map((w) => w.waitFor("worker started")));
    await submit(kills.slice(0, 300));
    // Duplicates that bypass de-duplication (as a Redis restore or a manual re-add would make them).
    await getQueue("killmail").addBulk(
      kills.slice(200).map((k) => ({
        name: "killmail",
        data: { killmailId: k.esi.killmail_id, hash: k.hash, esi: k.esi },
        opts: { jobId: `dup-${k.esi.killmail_id}`, priority: Priority.routine },
      })),
    );
    await until(async () => (await storedCount()) >= 400, 60_000, "400 kills stored");
    await until(
      async () => {
        const s = await getQueueStats("killmail");
        return s.waiting + s.prioritized + s.active === 0;
      },
      30_000,
      "the killmail queue to drain",
    );
    await expectExactlyOnce(kills);
    const completed = await getQueue("killmail").getCompleted(0, 1000);
    // 500 jobs for 400 kills: each kill is counted "stored" exactly once; its duplicate counts it as
    // already there (found before the store transaction, or by its insert).
    const outcomes = completed.map((j) => j.returnvalue as IngestOutcome);
    expect(outcomes.length).toBe(500);
    expect(outcomes.reduce((n, o) => n + o.stored, 0)).toBe(400);
    expect(outcomes.reduce((n, o) => n + o.existing, 0)).toBe(100);
    expect((await getQueueStats("killmail")).failed).toBe(0);
    for (const w of workers) w.child.kill("SIGTERM");
    await Promise.all(workers.map((w) => w.result));
  }, 120_000);

  it.each(shapes)(
    "finishes every kill exactly once after a worker is SIGKILLed mid-batch and restarted ($jobs)",
    async ({ batchJobKills, firstId }) => {
      const kills = benchKillmails(3000, 161_000_000 + firstId);
      const before = await storedCount();
      const first = startWorker();
      await first.waitFor("worker started");
      const submitted = submit(kills, batchJobKills);
      await until(async () => (await storedCount()) >= before + 400, 60_000, "a few batches stored");
      first.child.kill("SIGKILL");
      await first.result;
      await submitted;
      const stats = await getQueueStats("killmail");
      expect(stats.active).toBeGreaterThan(0); // the dead worker's jobs are still marked active
      const second = startWorker();
      await until(async () => (await storedCount()) >= before + 3000, 120_000, "all kills stored after restart");
      await expectExactlyOnce(kills);
      await until(async () => (await getQueueStats("killmail")).active === 0, 30_000, "no job left active");
      // Every batch's bodies were released once its kills were stored.
      expect((await sql()`select 1 from killmail_intake_batches`).length).toBe(0);
      second.child.kill("SIGTERM");
      await second.result;
    },
    180_000,
  );
});

describe("batch jobs", () => {
  it("store every valid kill of a batch; a bad body or a kill Postgres refuses fails alone, recorded in the ledger", async () => {
    const kills = benchKillmails(5, 163_000_000);
    const broken = { ...kills[2]!.esi, attackers: [] }; // ESI never sends a kill without attackers
    // A valid body whose damage exceeds ESI's int32: the store refuses it, not the schema.
    kills[3]!.esi.attackers[0]!.damage_done = 3_000_000_000;
    const items = kills.map((k, i) => ({ killmailId: k.esi.killmail_id, hash: k.hash, esi: i === 2 ? broken : k.esi }));
    const submitted = await submitKillmails(items, { source: "cli", priority: Priority.routine, batchJobKills: 100 });
    expect(submitted).toMatchObject({ enqueued: 5, alreadyStored: 0 });
    expect(new Set(submitted.jobIds.values()).size).toBe(1); // one job carries the five

    const worker = startWorker();
    const jobId = [...submitted.jobIds.values()][0]!;
    await until(async () => (await getQueue("killmail").getJobState(jobId)) === "completed", 60_000, "the batch job completed");
    const job = await getQueue("killmail").getJob(jobId);
    expect(job!.returnvalue).toEqual({ stored: 3, existing: 0, invalid: 1, refused: 1, requeued: 0 });
    // Few finished batch jobs stay in Redis; the ledger keeps each kill's fate.
    expect(job!.opts.removeOnComplete).toMatchObject({ count: 20 });
    await expectExactlyOnce(kills.filter((_, i) => i !== 2 && i !== 3));
    const ledger = await sql()<{ id: number; status: string; error: string }[]>`
      select killmail_id as id, status, error from killmail_intake where killmail_id between 163000000 and 163000004 order by 1`;
    expect(ledger).toEqual([
      {
        id: kills[2]!.esi.killmail_id,
        status: "failed",
        error: expect.stringMatching(/invalid ESI body: attackers: must NOT have fewer than 1 items/),
      },
      { id: kills[3]!.esi.killmail_id, status: "failed", error: expect.stringMatching(/cannot be stored: .*out of range/) },
    ]);
    // The failed kills' bodies stay in the ledger with their batch's; a batch of stored kills is released.
    const [kept] = await sql()<{ n: number }[]>`
      select count(*)::int as n from killmail_intake_batches b join killmail_intake i on i.job_key = b.job_key
      where i.killmail_id = ${kills[3]!.esi.killmail_id}`;
    expect(kept!.n).toBe(1);
    worker.child.kill("SIGTERM");
    await worker.result;
  }, 60_000);
  it("a batch whose bodies the ledger lost counts its stored kills as existing and sends the others to ESI", async () => {
    const kills = benchKillmails(2, 163_500_000);
    const [storedKill, lostKill] = kills as [BenchKill, BenchKill];
    const submitted = await submitKillmails(
      kills.map((k) => ({ killmailId: k.esi.killmail_id, hash: k.hash, esi: k.esi })),
      { source: "history", priority: Priority.backfill, batchJobKills: 100 },
    );
    const jobId = submitted.jobIds.get(storedKill.esi.killmail_id)!;
    // One kill is stored meanwhile by another source; the batch's bodies row is gone.
    await storeKillmails(sql(), [{ esi: storedKill.esi, hash: storedKill.hash }]);
    await sql()`delete from killmail_intake_batches`;

    const worker = startWorker({ ESI_URL: "http://127.0.0.1:9" });
    await until(async () => (await getQueue("killmail").getJobState(jobId)) === "completed", 60_000, "the batch job completed");
    expect((await getQueue("killmail").getJob(jobId))!.returnvalue).toEqual({
      stored: 0,
      existing: 1,
      invalid: 0,
      refused: 0,
      requeued: 1,
    });
    // The other kill waits in the ledger, now in its own body-less job (ESI is unreachable here).
    const jobs = await getQueue("killmail").getJobs(["prioritized", "waiting", "active", "delayed", "failed"]);
    const requeued = jobs.filter((j) => j.id!.startsWith(`killmail-${lostKill.esi.killmail_id}-`));
    expect(requeued.map((j) => j.data)).toEqual([{ killmailId: lostKill.esi.killmail_id, hash: lostKill.hash }]);
    expect(requeued[0]!.opts.priority).toBe(Priority.backfill); // the batch's priority, kept
    const ledger = await sql()`select killmail_id, status, job_key from killmail_intake where killmail_id between 163500000 and 163500001`;
    expect(ledger).toEqual([{ killmail_id: lostKill.esi.killmail_id, status: "pending", job_key: null }]);
    worker.child.kill("SIGTERM");
    await worker.result;
  }, 60_000);
});

describe("late bodies", () => {
  it("a kill queued without its body uses the body a later source brought, without calling ESI", async () => {
    const [kill] = benchKillmails(1, 164_000_000);
    const first = await submitKillmails([{ killmailId: kill!.esi.killmail_id, hash: kill!.hash }], { source: "http" });
    const again = await submitKillmails([{ killmailId: kill!.esi.killmail_id, hash: kill!.hash, esi: kill!.esi }], {
      source: "everef",
      batchJobKills: 100,
    });
    expect(again).toMatchObject({ enqueued: 0, deduplicated: 1 });
    // No ESI to fetch from: the worker can only store the kill from the ledger's body.
    const worker = startWorker({ ESI_URL: "http://127.0.0.1:9" });
    const jobId = first.jobIds.get(kill!.esi.killmail_id)!;
    await until(async () => (await getQueue("killmail").getJobState(jobId)) === "completed", 60_000, "the job completed");
    expect((await getQueue("killmail").getJob(jobId))!.returnvalue).toMatchObject({ stored: 1, existing: 0 });
    await expectExactlyOnce([kill!]);
    worker.child.kill("SIGTERM");
    await worker.result;
  }, 60_000);
});

describe("Redis flushed mid-run", () => {
  let privateRedis: PrivateRedisTarget | undefined;
  const { redisUrl, redisClusterNodes } = config();
  afterAll(async () => {
    // Back to the shared Redis before the private one goes, so the file's clean-up can reach it.
    await closeQueues();
    await closeRedis();
    setConfig({ redisUrl, redisClusterNodes });
    await privateRedis?.stop();
  });

  it.each(shapes)(
    "reconcile + workers finish with every kill stored once ($jobs)",
    async ({ batchJobKills, firstId }) => {
      privateRedis ??= await startPrivateRedis();
      await closeQueues();
      await closeRedis();
      setConfig(privateRedis.config);
      // Few batch jobs in flight (they are small: bodies stay in Postgres), so most are still waiting in
      // Redis when it is flushed and only reconcile can bring them back.
      const privateEnv = { ...privateRedis.env, ...(batchJobKills > 1 ? { QUEUE_KILLMAIL_CONCURRENCY: "2" } : {}) };
      const kills = benchKillmails(3000, 162_000_000 + firstId);
      const before = await storedCount();
      const worker = startWorker(privateEnv);
      await worker.waitFor("worker started");
      const submitted = submit(kills, batchJobKills);
      await until(async () => (await storedCount()) >= before + 400, 60_000, "a few batches stored");
      await submitted;
      await privateRedis.flushAll(); // every master of a cluster
      const storedAtFlush = await storedCount();
      expect(storedAtFlush - before).toBeLessThan(kills.length);

      const reconciled = await run("cli.ts", ["reconcile", "--json"], { ...env, ...privateEnv });
      expect(reconciled.code).toBe(0);
      const result = JSON.parse(reconciled.stdout) as { intakeRequeued: number };
      expect(result.intakeRequeued).toBeGreaterThan(0);

      await until(async () => (await storedCount()) >= before + kills.length, 120_000, "all kills stored after reconcile");
      await expectExactlyOnce(kills);
      worker.child.kill("SIGTERM");
      await worker.result;
    },
    180_000,
  );
});
