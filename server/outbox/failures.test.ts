// Failed work against the real Postgres and Redis: an outbox queue's job that runs out of retries on a
// transient fault leaves its row outstanding (reconcile redoes it), a permanent failure marks it failed
// without blocking the next fan-out of the same key, and an operator lists failed ledger rows with their
// reasons and re-drives them (CLI and admin API).
import { UnrecoverableError } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";
import { benchKillmails } from "../../bench/kills.ts";
import { useTestDatabase } from "../../test/support/database.ts";
import { useTestQueues } from "../../test/support/isolation.ts";
import { until } from "../../test/support/poll.ts";
import { run } from "../../test/support/spawn.ts";
import { createApp } from "../app.ts";
import { sql } from "../db/client.ts";
import { RetryableError } from "../esi/errors.ts";
import { setConfig } from "../helpers/config.ts";
import { storeKillmails } from "../killmails/store.ts";
import { enqueueJob } from "../queues/enqueue.ts";
import { defineProcessor } from "../queues/processor.ts";
import { getQueue } from "../queues/queue.ts";
import { reconcile } from "./reconcile.ts";
import { relayOutbox } from "./relay.ts";

const database = useTestDatabase("failures");
const queues = useTestQueues("failures");
const ADMIN_TOKEN = "failures-admin-token-0123456789";
setConfig({ adminToken: ADMIN_TOKEN });

interface OutboxRow {
  job_key: string;
  relayed: boolean;
  failed: boolean;
  error: string | null;
}
const outboxRows = (key: string) =>
  sql()<OutboxRow[]>`select job_key, relayed_at is not null as relayed, failed_at is not null as failed, error
                     from outbox where job_key = ${key} order by id`;

/** Runs one character job through a real worker whose handler throws `error`, until the job fails for good. */
async function failCharacterJob(id: number, error: Error): Promise<void> {
  await sql()`insert into outbox (queue, job_key, payload, priority, relayed_at) values ('character', ${`character-${id}`}, ${sql().json({ id })}, 8, now())`;
  const mod = defineProcessor("character", async () => {
    throw error;
  });
  const worker = mod.createWorker();
  void worker.run();
  try {
    const { jobId } = await enqueueJob("character", { id }, { attempts: 1 });
    await until(async () => (await getQueue("character").getJobState(jobId)) === "failed", 20_000, "the job failed");
  } finally {
    await worker.close();
  }
}

afterEach(async () => {
  await getQueue("character").obliterate({ force: true });
});

describe("outbox rows of failed work", () => {
  it("a job that ran out of retries on a transient fault leaves its row outstanding; reconcile relays it again", async () => {
    await failCharacterJob(
      95_100_001,
      new RetryableError("esi character → 503", { upstream: "esi", route: "character", url: "", status: 503 }),
    );
    expect(await outboxRows("character-95100001")).toEqual([
      {
        job_key: "character-95100001",
        relayed: true,
        failed: false,
        error: expect.stringMatching(/gave up after 1 attempts: esi character → 503/),
      },
    ]);
    const result = await reconcile();
    expect(result.outboxRequeued).toBeGreaterThanOrEqual(1);
    expect((await relayOutbox()).relayed).toBeGreaterThanOrEqual(1);
    const jobs = await getQueue("character").getJobs(["prioritized", "waiting"]);
    expect(jobs.map((j) => j.data)).toContainEqual({ id: 95_100_001 });
  });

  it("a permanent failure marks the row failed, and the next fan-out of that id opens a new row", async () => {
    await failCharacterJob(95_100_002, new UnrecoverableError("esi character → 400: bad id"));
    expect(await outboxRows("character-95100002")).toEqual([
      { job_key: "character-95100002", relayed: true, failed: true, error: "esi character → 400: bad id" },
    ]);
    // A kill naming the character arrives: its fan-out is not blocked by the failed row.
    const [kill] = benchKillmails(1, 172_000_000);
    kill!.esi.victim.character_id = 95_100_002;
    await storeKillmails(sql(), [{ esi: kill!.esi, hash: kill!.hash }]);
    expect((await outboxRows("character-95100002")).map((r) => [r.failed, r.relayed])).toEqual([
      [true, true],
      [false, false],
    ]);
  });
});

describe("ledger:failed and ledger:retry", () => {
  const env = { ...queues.env, ...database.env };

  it("lists failed kills and outbox rows with their reasons, and re-drives them", async () => {
    const [kill] = benchKillmails(1, 173_000_000);
    await sql()`insert into killmail_intake (killmail_id, hash, source, priority, status, error, body)
                values (${kill!.esi.killmail_id}, ${kill!.hash}, 'http', 1, 'failed', 'invalid ESI body: attackers', ${JSON.stringify(kill!.esi)})`;
    await sql()`insert into outbox (queue, job_key, payload, priority, relayed_at, failed_at, error)
                values ('character', 'character-95100009', '{"id":95100009}', 8, now(), now(), 'esi character → 400: bad id')`;

    const listed = await run("cli.ts", ["ledger:failed", "--json"], env);
    expect(listed.code, listed.stderr).toBe(0);
    const failures = JSON.parse(listed.stdout) as {
      intake: { total: number; rows: { killmailId: number; error: string }[] };
      outbox: { total: number; rows: { jobKey: string; error: string }[] };
    };
    expect(failures.intake.rows).toContainEqual(
      expect.objectContaining({ killmailId: kill!.esi.killmail_id, error: "invalid ESI body: attackers" }),
    );
    expect(failures.outbox.rows).toContainEqual(
      expect.objectContaining({ jobKey: "character-95100009", error: "esi character → 400: bad id" }),
    );
    const text = await run("cli.ts", ["ledger:failed"], env);
    expect(text.stdout).toContain("invalid ESI body: attackers");

    const usage = await run("cli.ts", ["ledger:retry"], env);
    expect(usage.code).toBe(2);
    const retried = await run("cli.ts", ["ledger:retry", "--intake", String(kill!.esi.killmail_id), "--outbox", "--json"], env);
    expect(retried.code, retried.stderr).toBe(0);
    expect(JSON.parse(retried.stdout)).toMatchObject({ intake: 1 });
    const [row] = await sql()<{ status: string; error: string | null }[]>`
      select status, error from killmail_intake where killmail_id = ${kill!.esi.killmail_id}`;
    expect(row).toEqual({ status: "pending", error: null });
    expect(await getQueue("killmail").getJobs(["prioritized", "waiting"])).toHaveLength(1);
    expect((await outboxRows("character-95100009")).map((r) => [r.failed, r.relayed])).toEqual([[false, true]]);
  }, 60_000);

  it("has admin API routes, behind the admin token", async () => {
    await sql()`insert into outbox (queue, job_key, payload, priority, relayed_at, failed_at, error)
                values ('character', 'character-95100010', '{"id":95100010}', 8, now(), now(), 'bad id')`;
    const app = createApp();
    const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
    expect((await app.request("/admin/api/ledger/failed")).status).toBe(401);
    expect((await app.request("/admin/api/ledger/retry", { method: "POST", body: "{}" })).status).toBe(401);
    const listed = await app.request("/admin/api/ledger/failed?limit=10", { headers: auth });
    expect(listed.status).toBe(200);
    const body = (await listed.json()) as { outbox: { rows: { jobKey: string; error: string }[] } };
    expect(body.outbox.rows).toContainEqual(expect.objectContaining({ jobKey: "character-95100010", error: "bad id" }));
    const bad = await app.request("/admin/api/ledger/retry", { method: "POST", headers: auth, body: JSON.stringify({ outbox: "some" }) });
    expect(bad.status).toBe(400);
    const retried = await app.request("/admin/api/ledger/retry", {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ outbox: "all" }),
    });
    expect(retried.status).toBe(200);
    expect(((await retried.json()) as { outbox: number }).outbox).toBeGreaterThanOrEqual(1);
    expect((await outboxRows("character-95100010")).map((r) => r.failed)).toEqual([false]);
  });
});
