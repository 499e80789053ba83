// The ledgers that make Redis disposable: intake rows recorded with the enqueue and closed by the
// store, the outbox relayed to BullMQ at its priority, and reconcile re-enqueuing whatever Redis lost.
import { describe, expect, it } from "vitest";
import { loadCorpus } from "../../test/support/corpus.ts";
import { useTestDatabase } from "../../test/support/database.ts";
import { queuedKills } from "../../test/support/imports.ts";
import { useTestQueues } from "../../test/support/isolation.ts";
import { sql } from "../db/client.ts";
import { submitKillmails } from "../killmails/intake.ts";
import { storeKillmails } from "../killmails/store.ts";
import { Priority } from "../queues/priority.ts";
import { getQueue, getQueueStats } from "../queues/queue.ts";
import { reconcile } from "./reconcile.ts";
import { relayOutbox } from "./relay.ts";
import { closeOutbox } from "./rows.ts";

useTestDatabase("outbox");
useTestQueues("outbox");
const corpus = loadCorpus().slice(0, 12);

const pendingIntake = async () =>
  (await sql()<{ n: number }[]>`select count(*)::int as n from killmail_intake where status = 'pending'`)[0]!.n;

describe("intake", () => {
  it("records each kill with its body and enqueues it once", async () => {
    const items = corpus.map((c) => ({ killmailId: c.esi.killmail_id, hash: c.hash, esi: c.esi }));
    const first = await submitKillmails(items, { source: "cli", priority: Priority.user });
    expect(first).toMatchObject({ enqueued: 12, deduplicated: 0, alreadyStored: 0 });
    expect(await pendingIntake()).toBe(12);
    const [row] = await sql()<{ body: unknown; source: string; priority: number }[]>`
      select body, source, priority from killmail_intake where killmail_id = ${corpus[0]!.esi.killmail_id}`;
    expect(row).toEqual({ body: JSON.stringify(corpus[0]!.esi), source: "cli", priority: Priority.user });
    const again = await submitKillmails(items, { source: "http" });
    expect(again).toMatchObject({ enqueued: 0, deduplicated: 12 });
    expect((await getQueueStats("killmail")).prioritized).toBe(12);
  });

  it("closes intake rows when their kills are stored, and skips stored kills later", async () => {
    await storeKillmails(
      sql(),
      corpus.slice(0, 4).map((c) => ({ esi: c.esi, hash: c.hash })),
    );
    expect(await pendingIntake()).toBe(8);
    const again = await submitKillmails(
      corpus.slice(0, 4).map((c) => ({ killmailId: c.esi.killmail_id, hash: c.hash })),
      { source: "http" },
    );
    expect(again).toMatchObject({ enqueued: 0, alreadyStored: 4 });
  });
});

describe("reconcile", () => {
  it("re-enqueues pending kills whose jobs Redis lost, with their bodies", async () => {
    await getQueue("killmail").obliterate({ force: true });
    await sql()`update killmail_intake set status = 'failed', error = '422' where killmail_id = ${corpus[4]!.esi.killmail_id}`;
    const result = await reconcile();
    expect(result).toMatchObject({ intakeChecked: 7, intakeRequeued: 7 });
    // Kills with a body go back in a batch job, with the priority they came with.
    const queued = await queuedKills();
    expect(queued).toHaveLength(7);
    expect(queued.every((k) => (k.esi as { killmail_id: number }).killmail_id === k.killmailId && k.inBatch)).toBe(true);
    expect(queued.map((k) => k.priority)).toEqual(Array(7).fill(Priority.user));
    const [batchKey] = await sql()<{ job_key: string }[]>`select distinct job_key from killmail_intake where status = 'pending'`;
    expect(batchKey!.job_key).toMatch(/^killmail-batch-/);
    // Nothing lost now: a second pass enqueues nothing.
    expect(await reconcile()).toMatchObject({ intakeChecked: 7, intakeRequeued: 0 });
  });

  it("re-opens a failed kill when it is submitted again", async () => {
    const failed = corpus[4]!;
    const result = await submitKillmails([{ killmailId: failed.esi.killmail_id, hash: failed.hash }], { source: "http" });
    expect(result.enqueued).toBe(1);
    expect(await pendingIntake()).toBe(8);
  });
});

describe("outbox relay", () => {
  it("relays fan-out rows as LOW-priority jobs, once, and hands lost ones back", async () => {
    await sql()`delete from outbox`;
    await sql()`insert into outbox (queue, job_key, payload, priority) values
      ('character', 'character-95000001', '{"id":95000001}', 10),
      ('character', 'character-95000002', '{"id":95000002}', 10),
      ('type', 'type-587', '{"id":587}', 10)`;
    expect(await relayOutbox()).toEqual({ relayed: 3, deduplicated: 0, failed: 0 });
    expect(await relayOutbox()).toEqual({ relayed: 0, deduplicated: 0, failed: 0 });
    const characters = await getQueue("character").getJobs(["prioritized"]);
    const byId = (j: (typeof characters)[number]) => ("id" in j.data ? j.data.id : 0);
    expect(characters.sort((a, b) => byId(a) - byId(b)).map((j) => [j.data, j.opts.priority])).toEqual([
      [{ id: 95000001 }, 10],
      [{ id: 95000002 }, 10],
    ]);
    // Redis loses the character jobs: reconcile gives those rows back to the relay.
    await getQueue("character").obliterate({ force: true });
    expect(await reconcile()).toMatchObject({ outboxChecked: 3, outboxRequeued: 2 });
    expect(await relayOutbox()).toEqual({ relayed: 2, deduplicated: 0, failed: 0 });
    expect(await getQueue("character").getJobCountByTypes("prioritized")).toBe(2);
    // Finished work closes its row.
    await closeOutbox("type", "type-587");
    expect((await sql()`select job_key from outbox order by job_key`).map((r) => r.job_key)).toEqual([
      "character-95000001",
      "character-95000002",
    ]);
  });

  it("marks a row its queue refuses failed, with the reason, and relays the rows around it", async () => {
    await sql()`delete from outbox`;
    await sql()`insert into outbox (queue, job_key, payload, priority) values
      ('character', 'character-95000011', '{"id":95000011}', 10),
      ('character', 'character-95000012', '{"id":"not a number"}', 10),
      ('nonsense', 'nonsense-1', '{"id":1}', 10),
      ('character', 'character-95000013', '{"id":95000013}', 10)`;
    expect(await relayOutbox()).toEqual({ relayed: 2, deduplicated: 0, failed: 2 });
    const rows = await sql()<{ job_key: string; relayed: boolean; error: string | null }[]>`
      select job_key, relayed_at is not null as relayed, error from outbox order by id`;
    expect(rows.map((r) => [r.job_key, r.relayed, r.error !== null])).toEqual([
      ["character-95000011", true, false],
      ["character-95000012", false, true],
      ["nonsense-1", false, true],
      ["character-95000013", true, false],
    ]);
    expect(rows[2]!.error).toMatch(/unknown queue 'nonsense'/);
    // Failed rows stay for the operator: the relay does not take them again.
    expect(await relayOutbox()).toEqual({ relayed: 0, deduplicated: 0, failed: 0 });
  });
});
