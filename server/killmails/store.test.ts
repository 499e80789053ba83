// Storing kills against the real Postgres: complete and exact (the ESI body comes back deep-equal),
// exactly once under repeats and concurrency, and fan-out de-duplicated with NPCs filtered.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { type CorpusKill, loadCorpus } from "../../test/support/corpus.ts";
import { useTestDatabase } from "../../test/support/database.ts";
import { sql } from "../db/client.ts";
import type { EsiKillmail } from "../esi/killmail-schema.ts";
import { setConfig } from "../helpers/config.ts";
import { Priority } from "../queues/priority.ts";
import { loadKillmail } from "./read.ts";
import { storeKillmails } from "./store.ts";

useTestDatabase("store");
const corpus = loadCorpus();

async function counts() {
  const [row] = await sql()<{ k: number; a: number; i: number; v: number }[]>`
    select (select count(*) from killmails)::int as k, (select count(*) from attackers)::int as a,
           (select count(*) from items)::int as i, (select count(*) from killmail_values)::int as v`;
  return row!;
}

function itemRows(esi: EsiKillmail): number {
  const walk = (items: EsiKillmail["victim"]["items"]): number => (items ?? []).reduce((n, it) => n + 1 + walk(it.items), 0);
  return walk(esi.victim.items);
}

describe("storeKillmails", () => {
  it("stores every real kill completely and gives back the ESI body exactly", async () => {
    const result = await storeKillmails(
      sql(),
      corpus.map((c) => ({ esi: c.esi, hash: c.hash })),
    );
    expect(result.stored).toHaveLength(corpus.length);
    const expected = {
      k: corpus.length,
      a: corpus.reduce((n, c) => n + c.esi.attackers.length, 0),
      i: corpus.reduce((n, c) => n + itemRows(c.esi), 0),
      v: corpus.length,
    };
    expect(await counts()).toEqual(expected);
    for (const kill of corpus) {
      const stored = await loadKillmail(kill.esi.killmail_id);
      expect(stored?.killmail, `killmail ${kill.esi.killmail_id}`).toEqual(kill.raw);
      expect(stored?.hash).toBe(kill.hash);
    }
    // The shapes that break naive stores are in there.
    const biggest = corpus.reduce((a, b) => (b.esi.attackers.length > a.esi.attackers.length ? b : a));
    expect(biggest.esi.attackers.length).toBe(296);
    const nested = corpus.filter((c: CorpusKill) => c.esi.victim.items?.some((i) => i.items?.length));
    expect(nested.length).toBeGreaterThan(0);
  });

  it("writes nothing for kills already stored, even when repeated concurrently", async () => {
    const before = await counts();
    const batch = corpus.slice(0, 40).map((c) => ({ esi: c.esi, hash: c.hash }));
    const results = await Promise.all([storeKillmails(sql(), batch), storeKillmails(sql(), batch.toReversed())]);
    for (const r of results) {
      expect(r.stored).toEqual([]);
      expect(r.existing).toHaveLength(40);
    }
    expect(await counts()).toEqual(before);
  });

  it("stores each new kill exactly once when overlapping batches race", async () => {
    const base = corpus.find((c) => c.esi.attackers.length === 5 && itemRows(c.esi) > 5)!;
    const make = (id: number) => ({ esi: { ...base.esi, killmail_id: id }, hash: base.hash });
    const ids = Array.from({ length: 300 }, (_, i) => 190_000_000 + i);
    const before = await counts();
    await Promise.all([
      storeKillmails(sql(), ids.slice(0, 200).map(make)),
      storeKillmails(sql(), ids.slice(100).map(make)),
      storeKillmails(sql(), ids.filter((_, i) => i % 3 === 0).map(make)),
    ]);
    const after = await counts();
    expect(after.k - before.k).toBe(300);
    expect(after.a - before.a).toBe(300 * 5);
    expect(after.i - before.i).toBe(300 * itemRows(base.esi));
    expect(after.v - before.v).toBe(300);
  });
});

describe("fan-out", () => {
  const pilots = Array.from({ length: 50 }, (_, i) => 95_000_000 + i);
  function kill(id: number): EsiKillmail {
    const pilot = (n: number) => pilots[(id + n) % pilots.length]!;
    return {
      killmail_id: id,
      killmail_time: "2026-05-01T12:00:00Z",
      solar_system_id: 30000142,
      victim: { ship_type_id: 587, damage_taken: 500, character_id: pilot(0), corporation_id: 98_000_001, items: [] },
      attackers: [
        {
          damage_done: 300,
          final_blow: true,
          security_status: 1,
          character_id: pilot(1),
          corporation_id: 98_000_002,
          alliance_id: 99_000_001,
          ship_type_id: 587,
          weapon_type_id: 2873,
        },
        {
          damage_done: 200,
          final_blow: false,
          security_status: 0,
          character_id: 3_012_345,
          corporation_id: 1_000_125,
          ship_type_id: 23_707,
        },
        { damage_done: 0, final_blow: false, security_status: 0, faction_id: 500_001, ship_type_id: 23_707 },
      ],
    };
  }

  // Every test here sees Postgres answer for every kill; the per-process memo has its own test.
  beforeEach(() => void setConfig({ fanOutRecheckSeconds: 0 }));

  it("turns 1,000 kills naming the same 50 pilots into 50 character refreshes, never NPCs", async () => {
    await sql()`delete from outbox`;
    const kills = Array.from({ length: 1000 }, (_, i) => ({ esi: kill(180_000_000 + i), hash: "b".repeat(40) }));
    // In several batches, as the batcher would write them.
    for (let i = 0; i < kills.length; i += 250) await storeKillmails(sql(), kills.slice(i, i + 250));
    const rows = await sql()<{ queue: string; n: number }[]>`select queue, count(*)::int as n from outbox group by queue order by queue`;
    expect(Object.fromEntries(rows.map((r) => [r.queue, r.n]))).toEqual({ alliance: 1, character: 50, corporation: 2, type: 3 });
    const keys = (await sql()<{ job_key: string }[]>`select job_key from outbox`).map((r) => r.job_key);
    expect(keys).not.toContain("character-3012345");
    expect(keys).not.toContain("corporation-1000125");
    const [payload] = await sql()<
      { payload: unknown; priority: number }[]
    >`select payload, priority from outbox where job_key = 'character-95000000'`;
    expect(payload).toEqual({ payload: { id: 95_000_000 }, priority: Priority.enrichment });
  });

  it("skips entities that are fresh or deleted, and types already known", async () => {
    await sql()`delete from outbox`;
    await sql()`insert into characters (character_id, name, expires_at) values (95000000, 'fresh', now() + interval '1 day')`;
    await sql()`insert into characters (character_id, name, expires_at) values (95000001, 'stale', now() - interval '1 day')`;
    await sql()`insert into characters (character_id, deleted) values (95000002, true)`;
    await sql()`insert into types (type_id, name, group_id) values (587, 'Rifter', 25)`;
    await storeKillmails(sql(), [
      { esi: kill(181_000_000), hash: "c".repeat(40) },
      { esi: kill(181_000_001), hash: "c".repeat(40) },
    ]);
    const keys = (await sql()<{ job_key: string }[]>`select job_key from outbox order by job_key`).map((r) => r.job_key);
    expect(keys).toContain("character-95000001");
    expect(keys).not.toContain("character-95000000");
    expect(keys).not.toContain("character-95000002");
    expect(keys).not.toContain("type-587");
  });

  it("a worker process checks a named entity at most once per FANOUT_RECHECK_SECONDS", async () => {
    setConfig({ fanOutRecheckSeconds: 300 });
    await sql()`delete from outbox`;
    await storeKillmails(sql(), [{ esi: kill(182_000_003), hash: "d".repeat(40) }]);
    const first = (await sql()<{ job_key: string }[]>`select job_key from outbox`).map((r) => r.job_key);
    expect(first).toContain("character-95000003");
    // The refresh ran (its outbox row is gone); the next kills naming the same pilot within the window
    // are not checked again by this process: no new row.
    await sql()`delete from outbox`;
    await storeKillmails(sql(), [{ esi: kill(182_000_053), hash: "d".repeat(40) }]);
    expect((await sql()`select 1 from outbox where job_key = 'character-95000003'`).length).toBe(0);
    // With the window at 0 every kill is checked against Postgres again.
    setConfig({ fanOutRecheckSeconds: 0 });
    await storeKillmails(sql(), [{ esi: kill(182_000_103), hash: "d".repeat(40) }]);
    expect((await sql()`select 1 from outbox where job_key = 'character-95000003'`).length).toBe(1);
  });
});

describe("attacker indexes by corporation, alliance and ship type", () => {
  // Two pilots of one corporation and alliance in the same ship, a third of another corporation in the
  // same alliance, an NPC, a faction-only attacker (made-up ship type ids no other kill here uses).
  const id = 183_000_001;
  const esi: EsiKillmail = {
    killmail_id: id,
    killmail_time: "2026-05-02T12:00:00Z",
    solar_system_id: 30000142,
    victim: { ship_type_id: 587, damage_taken: 900, character_id: 95_100_009, corporation_id: 98_100_009, items: [] },
    attackers: [
      {
        damage_done: 300,
        final_blow: true,
        security_status: 1,
        character_id: 95_100_001,
        corporation_id: 98_100_001,
        alliance_id: 99_100_001,
        ship_type_id: 990_001,
      },
      {
        damage_done: 300,
        final_blow: false,
        security_status: 1,
        character_id: 95_100_002,
        corporation_id: 98_100_001,
        alliance_id: 99_100_001,
        ship_type_id: 990_001,
      },
      {
        damage_done: 200,
        final_blow: false,
        security_status: 0,
        character_id: 95_100_003,
        corporation_id: 98_100_002,
        alliance_id: 99_100_001,
        ship_type_id: 990_002,
      },
      {
        damage_done: 100,
        final_blow: false,
        security_status: 0,
        character_id: 3_012_345,
        corporation_id: 1_000_125,
        ship_type_id: 990_003,
      },
      { damage_done: 0, final_blow: false, security_status: 0, faction_id: 500_001, ship_type_id: 990_003 },
    ],
  };
  const flags = async () =>
    sql()<{ corporation_first: boolean; alliance_first: boolean; ship_first: boolean }[]>`
      select corporation_first, alliance_first, ship_first from attackers where killmail_id = ${id} order by attacker_index`;
  const expected = [
    { corporation_first: true, alliance_first: true, ship_first: true },
    { corporation_first: false, alliance_first: false, ship_first: false },
    { corporation_first: true, alliance_first: false, ship_first: true },
    { corporation_first: true, alliance_first: false, ship_first: true },
    { corporation_first: false, alliance_first: false, ship_first: false },
  ];

  it("index each kill once per corporation, alliance and ship type, and the queries use them", async () => {
    await storeKillmails(sql(), [{ esi, hash: "e".repeat(40) }]);
    expect(await flags()).toEqual(expected);
    const kills = async (column: "corporation_id" | "alliance_id" | "ship_type_id", flag: string, value: number) =>
      (await sql().unsafe(`select killmail_id from attackers where ${column} = $1 and ${flag} order by killmail_id desc`, [value])).map(
        (r) => Number(r.killmail_id),
      );
    expect(await kills("corporation_id", "corporation_first", 98_100_001)).toEqual([id]);
    expect(await kills("alliance_id", "alliance_first", 99_100_001)).toEqual([id]);
    expect(await kills("ship_type_id", "ship_first", 990_001)).toEqual([id]);
    expect(await kills("ship_type_id", "ship_first", 990_003)).toEqual([id]);
    // The partial indexes serve those queries (the planner is told to avoid a scan of the table).
    const plan = await sql().begin(async (tx) => {
      await tx`set local enable_seqscan = off`;
      return tx.unsafe(`explain select killmail_id from attackers where corporation_id = 98100001 and corporation_first
                        order by killmail_id desc limit 50`);
    });
    const partialIndexes = (
      await sql()<{ indexname: string }[]>`
      select indexname from pg_indexes where tablename like 'attackers%' and indexdef like '%WHERE corporation_first%'`
    ).map((r) => r.indexname);
    const planText = plan.map((r) => String(r["QUERY PLAN"])).join("\n");
    expect(
      partialIndexes.some((name) => planText.includes(name)),
      planText,
    ).toBe(true);
  });

  it("migration 0006 gives rows stored before it the same flags", async () => {
    await sql()`update attackers set corporation_first = false, alliance_first = false, ship_first = false where killmail_id = ${id}`;
    const migration = readFileSync(resolve(import.meta.dirname, "../../drizzle/0006_attacker_index_firsts.sql"), "utf8");
    const backfill = migration
      .split("--> statement-breakpoint")
      .map((s) => s.trim())
      .find((s) => s.includes("UPDATE"));
    // The statement that sets the flags of rows stored before the migration (comments above it stripped).
    expect(backfill).toMatch(/^UPDATE "attackers" a SET corporation_first = /m);
    await sql().unsafe(backfill!);
    expect(await flags()).toEqual(expected);
  });
});
