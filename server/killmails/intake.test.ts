// The intake in batch mode (bulk sources): kills with bodies travel in batch jobs whose key their
// ledger rows keep; re-submitting the same kills, cut into other batches, adds nothing; a kill waiting
// without its body gets it; stored kills are skipped.
import { describe, expect, it } from "vitest";
import { benchKillmails } from "../../bench/kills.ts";
import { useTestDatabase } from "../../test/support/database.ts";
import { queuedKills } from "../../test/support/imports.ts";
import { useTestQueues } from "../../test/support/isolation.ts";
import { sql } from "../db/client.ts";
import { Priority } from "../queues/priority.ts";
import { submitKillmails } from "./intake.ts";
import { dropOrphanBatchBodies, releaseBatchBodies } from "./intake-batches.ts";
import { storeKillmails } from "./store.ts";

useTestDatabase("intake");
useTestQueues("intake");

const kills = benchKillmails(252, 175_000_000);
const withBody = (from: number, to: number) =>
  kills.slice(from, to).map((k) => ({ killmailId: k.esi.killmail_id, hash: k.hash, esi: k.esi }));
const ledger = async () =>
  sql()<{ id: number; jobKey: string | null; hasBody: boolean }[]>`
    select killmail_id as id, job_key as "jobKey",
           body is not null or exists (select 1 from killmail_intake_batches b where b.job_key = i.job_key) as "hasBody"
    from killmail_intake i order by 1`;

describe("submitKillmails with batchJobKills", () => {
  it("puts kills with bodies in batch jobs, the others in their own; ledger rows name their batch", async () => {
    const bodyless = kills.slice(250).map((k) => ({ killmailId: k.esi.killmail_id, hash: k.hash }));
    const result = await submitKillmails([...withBody(0, 250), ...bodyless], {
      source: "history",
      priority: Priority.backfill,
      batchJobKills: 100,
    });
    expect(result).toMatchObject({ enqueued: 252, deduplicated: 0, alreadyStored: 0 });

    const queued = await queuedKills();
    expect(queued.map((k) => k.killmailId)).toEqual(kills.map((k) => k.esi.killmail_id));
    const batchSizes = [
      ...Map.groupBy(
        queued.filter((k) => k.inBatch),
        (k) => k.jobId,
      ).values(),
    ]
      .map((g) => g.length)
      .sort();
    expect(batchSizes).toEqual([100, 100, 50]);
    expect(queued.filter((k) => !k.inBatch).map((k) => k.killmailId)).toEqual(bodyless.map((k) => k.killmailId));
    expect(queued.every((k) => k.priority === Priority.backfill)).toBe(true);
    // Batch jobs name their kills; the bodies stay in Postgres (below), not in Redis.
    expect(queued.filter((k) => k.inBatch && k.bodyInPayload)).toEqual([]);

    const rows = await ledger();
    expect(rows).toHaveLength(252);
    for (const row of rows.slice(0, 250)) expect(row.jobKey).toMatch(/^killmail-batch-[0-9a-f]{16}$/);
    expect(new Set(rows.slice(0, 250).map((r) => r.jobKey)).size).toBe(3);
    expect(rows.slice(250)).toEqual(bodyless.map((k) => ({ id: k.killmailId, jobKey: null, hasBody: false })));
    expect(new Set(result.jobIds.values()).size).toBe(5);

    // A batch's bodies are kept as one row (not one per kill), exactly as submitted.
    const batches = await sql()<{ jobKey: string; bodies: string }[]>`select job_key as "jobKey", bodies from killmail_intake_batches`;
    expect(batches.map((b) => b.jobKey).sort()).toEqual([...new Set(rows.slice(0, 250).map((r) => r.jobKey!))].sort());
    const kept = batches.flatMap((b) => JSON.parse(b.bodies) as unknown[]);
    expect(kept).toHaveLength(250);
    expect(new Map(kept.map((b) => [(b as { killmail_id: number }).killmail_id, b]))).toEqual(
      new Map(kills.slice(0, 250).map((k) => [k.esi.killmail_id, k.esi])),
    );
    expect((await sql()`select 1 from killmail_intake where job_key is not null and body is not null`).length).toBe(0);
  });

  it("adds nothing when the same kills come again cut into other batches", async () => {
    const before = await queuedKills();
    const again = await submitKillmails(withBody(0, 250).reverse(), { source: "everef", batchJobKills: 30 });
    expect(again).toMatchObject({ enqueued: 0, deduplicated: 250, alreadyStored: 0 });
    expect(await queuedKills()).toEqual(before);
  });

  it("gives a kill waiting without its body the body that arrives, in the ledger (its job reads it there)", async () => {
    const before = await queuedKills();
    const late = withBody(250, 252);
    const result = await submitKillmails(late, { source: "everef", batchJobKills: 100 });
    expect(result).toMatchObject({ enqueued: 0, deduplicated: 2 });
    expect((await ledger()).slice(250)).toEqual(late.map((k) => ({ id: k.killmailId, jobKey: null, hasBody: true })));
    expect(await queuedKills()).toEqual(before); // still one job per kill
  });

  it("releases a batch's bodies once no ledger row names it; reconcile drops orphans after a minute", async () => {
    const [first] = await sql()<
      { jobKey: string }[]
    >`select job_key as "jobKey" from killmail_intake where killmail_id = ${kills[0]!.esi.killmail_id}`;
    const jobKey = first!.jobKey;
    const members = (await sql()<{ id: number }[]>`select killmail_id as id from killmail_intake where job_key = ${jobKey}`).map(
      (r) => r.id,
    );
    await releaseBatchBodies(jobKey); // its kills still wait: kept
    expect((await sql()`select 1 from killmail_intake_batches where job_key = ${jobKey}`).length).toBe(1);
    await storeKillmails(
      sql(),
      kills.filter((k) => members.includes(k.esi.killmail_id)).map((k) => ({ esi: k.esi, hash: k.hash })),
    );
    await releaseBatchBodies(jobKey);
    expect((await sql()`select 1 from killmail_intake_batches where job_key = ${jobKey}`).length).toBe(0);

    await sql()`insert into killmail_intake_batches (job_key, bodies, created_at) values
      ('killmail-batch-old', '[]', now() - interval '2 minutes'), ('killmail-batch-young', '[]', now())`;
    expect(await dropOrphanBatchBodies()).toBe(1);
    const left = (
      await sql()<{ k: string }[]>`select job_key as k from killmail_intake_batches where job_key like 'killmail-batch-%g'`
    ).map((r) => r.k);
    expect(left).toEqual(["killmail-batch-young"]);
    await sql()`delete from killmail_intake_batches where job_key = 'killmail-batch-young'`;
  });

  it("skips kills already stored", async () => {
    // The first batch (100 kills) was stored by the test above.
    await storeKillmails(
      sql(),
      kills.slice(100, 110).map((k) => ({ esi: k.esi, hash: k.hash })),
    );
    const result = await submitKillmails(withBody(90, 120), { source: "history", batchJobKills: 100 });
    expect(result).toMatchObject({ enqueued: 0, alreadyStored: 20, deduplicated: 10 });
  });
});
