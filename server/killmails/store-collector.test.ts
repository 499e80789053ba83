// The store collector against the real Postgres: concurrent submissions share store transactions, each
// resolves with its own outcome, and a kill Postgres refuses fails alone while the rest is stored.
import { describe, expect, it } from "vitest";
import { benchKillmails } from "../../bench/kills.ts";
import { useTestDatabase } from "../../test/support/database.ts";
import { sql } from "../db/client.ts";
import { PermanentStoreError, StoreCollector } from "./store-collector.ts";

useTestDatabase("collector");

const stored = async (lo: number, hi: number) =>
  (await sql()<{ n: number }[]>`select count(*)::int as n from killmails where killmail_id between ${lo} and ${hi}`)[0]!.n;

describe("StoreCollector", () => {
  it("writes concurrent submissions in shared transactions, each answered with its own outcome", async () => {
    const kills = benchKillmails(120, 170_000_000);
    const collector = new StoreCollector(sql, { maxKills: 50, maxWaitMs: 5 });
    const outcomes = await Promise.all([...kills, ...kills.slice(0, 20)].map((k) => collector.submit({ esi: k.esi, hash: k.hash })));
    expect(outcomes.filter((o) => o === "stored")).toHaveLength(120);
    expect(outcomes.filter((o) => o === "existing")).toHaveLength(20);
    expect(collector.stats.transactions).toBeLessThan(10);
    expect(await stored(170_000_000, 170_000_119)).toBe(120);
  });

  it("isolates a kill Postgres refuses: it fails alone with a PermanentStoreError, the others are stored", async () => {
    const kills = benchKillmails(40, 171_000_000);
    const poisoned = kills[17]!;
    // Valid JSON and a valid ESI shape, but damage beyond ESI's int32: the int4 column refuses it.
    poisoned.esi.attackers[0]!.damage_done = 3_000_000_000;
    const collector = new StoreCollector(sql, { maxKills: 40, maxWaitMs: 5 });
    const results = await Promise.allSettled(kills.map((k) => collector.submit({ esi: k.esi, hash: k.hash })));
    const rejected = results.flatMap((r, i) => (r.status === "rejected" ? [{ i, reason: r.reason as Error }] : []));
    expect(rejected.map((r) => r.i)).toEqual([17]);
    expect(rejected[0]!.reason).toBeInstanceOf(PermanentStoreError);
    expect(rejected[0]!.reason.message).toMatch(/killmail 171000017 cannot be stored: .*out of range/);
    expect(await stored(171_000_000, 171_000_039)).toBe(39);
  });
});
