// Enrichment workflows against the in-process simulator, real Postgres/Redis and real workers:
// scan:entities enqueues exactly the missing entities (never NPCs), de-duplicated, resumable by range;
// queue:alliances / queue:alliance-corporations enqueue exactly what is missing; refresh:affiliations
// covers exactly the recent characters in jobs of ≤ 1,000 ids; snapshot:alliances counts right and is
// idempotent per day; the daily scheduler registers once. CLI commands run as real processes.
import type { Worker } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import allianceQueue from "../queue/alliance.ts";
import backfill from "../queue/backfill.ts";
import characterQueue from "../queue/character.ts";
import corporationQueue from "../queue/corporation.ts";
import detailQueue from "../queue/detail.ts";
import typeQueue from "../queue/type.ts";
import { sql } from "../server/db/client.ts";
import { forgetIdList } from "../server/enrichment/esi-lists.ts";
import { type ScanState, scanCursorName, scanEntities } from "../server/enrichment/scan.ts";
import { utcDate } from "../server/enrichment/snapshots.ts";
import { type EsiKillmail, esiKillmailSchema } from "../server/esi/killmail-schema.ts";
import { readCursor } from "../server/feeds/cursor.ts";
import { setConfig } from "../server/helpers/config.ts";
import { referencesOf } from "../server/killmails/flatten.ts";
import { storeKillmails } from "../server/killmails/store.ts";
import { enqueueJob } from "../server/queues/enqueue.ts";
import { Priority } from "../server/queues/priority.ts";
import { getQueue, getQueueStats } from "../server/queues/queue.ts";
import type { QueueName } from "../server/queues/registry.ts";
import { ALLIANCE_SNAPSHOT_SCHEDULER_ID as SNAPSHOT_SCHEDULER_ID } from "../server/queues/registry.ts";
import { type Simulator, startSimulator } from "../sim/server.ts";
import { useTestDatabase } from "./support/database.ts";
import { useTestQueues } from "./support/isolation.ts";
import { killAll, run } from "./support/spawn.ts";

const queues = useTestQueues("enrichment");
const database = useTestDatabase("enrichment");
const USER_AGENT = "killboard-tests/1.0 tests@localhost";

let sim: Simulator;
let env: Record<string, string>;
let kills: EsiKillmail[] = [];
const workers: Worker[] = [];

/** A kill naming an NPC character and NPC corporations (the generated ones only name NPC corporations). */
const NPC_CHARACTER = 3_005_000;
const NPC_CORPORATION = 1_000_125;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, seed: 23, killmails: 300, feedRate: 0, zkbDelaySeconds: 0, corpus: false, quiet: true });
  const fast = { ratePerSecond: 1000 };
  setConfig({
    esiUrl: sim.url,
    esiUserAgent: USER_AGENT,
    queues: { character: fast, corporation: fast, alliance: fast, type: fast },
  });
  env = { ...queues.env, ...database.env, ESI_URL: sim.url, ESI_USER_AGENT: USER_AGENT };
  kills = Array.from({ length: 60 }, (_, i) => esiKillmailSchema.parse(sim.world.killmail(i).esi));
  const npc = structuredClone(kills[0]!);
  npc.killmail_id = 140_000_000;
  npc.attackers[0]!.character_id = NPC_CHARACTER;
  npc.attackers[0]!.corporation_id = NPC_CORPORATION;
  delete npc.attackers[0]!.alliance_id;
  kills.unshift(npc);
  await storeKillmails(
    sql(),
    kills.map((esi, i) => ({ esi, hash: i === 0 ? "0".repeat(40) : sim.world.killmail(i - 1).hash })),
  );
  // Work the fan-out would do is left to the scans here.
  await sql()`delete from outbox`;
});

afterAll(async () => {
  killAll();
  await Promise.all(workers.splice(0).map((w) => w.close()));
  await sim.stop();
});

interface Wanted {
  character: Set<number>;
  corporation: Set<number>;
  alliance: Set<number>;
  type: Set<number>;
}

function wantedOf(list: EsiKillmail[]): Wanted {
  const w: Wanted = { character: new Set(), corporation: new Set(), alliance: new Set(), type: new Set() };
  for (const k of list) {
    const r = referencesOf(k);
    for (const x of r.characters) w.character.add(x);
    for (const x of r.corporations) w.corporation.add(x);
    for (const x of r.alliances) w.alliance.add(x);
    for (const x of r.types) w.type.add(x);
  }
  return w;
}

const minus = (a: Set<number>, b: Iterable<number>) => {
  const out = new Set(a);
  for (const x of b) out.delete(x);
  return out;
};

/** Payloads of the jobs still pending (waiting, prioritized, delayed) on a queue. */
async function pendingPayloads(queue: QueueName): Promise<Record<string, unknown>[]> {
  const jobs = await getQueue(queue).getJobs(["waiting", "prioritized", "delayed"], 0, -1);
  return jobs.map((j) => j.data as Record<string, unknown>);
}

async function pendingIds(queue: QueueName): Promise<Set<number>> {
  return new Set((await pendingPayloads(queue)).map((d) => Number(d.id)));
}

async function drained(names: QueueName[]): Promise<void> {
  const end = Date.now() + 60_000;
  for (;;) {
    const stats = (await getQueueStats()).filter((s) => names.includes(s.queue));
    if (stats.every((s) => s.waiting + s.prioritized + s.active + s.delayed === 0)) return;
    if (Date.now() > end) throw new Error(`queues did not drain: ${JSON.stringify(stats)}`);
    await Bun.sleep(100);
  }
}

function startWorkers(mods: { createWorker: () => Worker }[]): Worker[] {
  const started = mods.map((m) => m.createWorker());
  for (const w of started) void w.run();
  workers.push(...started);
  return started;
}

async function stopWorkers(list: Worker[]): Promise<void> {
  await Promise.all(list.map((w) => w.close()));
  for (const w of list) workers.splice(workers.indexOf(w), 1);
}

async function cli(args: string[], extraEnv: Record<string, string> = {}) {
  const r = await run("cli.ts", args, { ...env, ...extraEnv });
  return { ...r, json: () => JSON.parse(r.stdout) as Record<string, unknown> };
}

type Counts = Record<"character" | "corporation" | "alliance" | "type", { enqueued: number; pending: number }>;

describe("scan:entities", () => {
  let expected: Wanted;

  it("enqueues exactly the entities missing from their tables, never NPCs; a rerun adds nothing", async () => {
    const all = wantedOf(kills);
    // Some entities are already stored: they must not be asked for.
    const known = {
      character: [...all.character].slice(0, 7),
      corporation: [...all.corporation].slice(0, 3),
      alliance: [...all.alliance].slice(0, 2),
      type: [...all.type].slice(0, 5),
    };
    for (const id of known.character) await sql()`insert into characters (character_id, name) values (${id}, 'known')`;
    for (const id of known.corporation) await sql()`insert into corporations (corporation_id, name) values (${id}, 'known')`;
    for (const id of known.alliance) await sql()`insert into alliances (alliance_id, name) values (${id}, 'known')`;
    for (const id of known.type) await sql()`insert into types (type_id, name, group_id) values (${id}, 'known', 0)`;
    expected = {
      character: minus(all.character, known.character),
      corporation: minus(all.corporation, known.corporation),
      alliance: minus(all.alliance, known.alliance),
      type: minus(all.type, known.type),
    };

    const first = await cli(["scan:entities", "--batch-size", "7", "--json"]);
    expect(first.code).toBe(0);
    const summary = first.json() as { status: string; kills: number; batches: number; counts: Counts };
    expect(summary.status).toBe("done");
    expect(summary.kills).toBe(kills.length);
    expect(summary.batches).toBe(Math.ceil(kills.length / 7));
    for (const kind of ["character", "corporation", "alliance", "type"] as const) {
      expect(await pendingIds(kind)).toEqual(expected[kind]);
      expect(summary.counts[kind].enqueued).toBe(expected[kind].size);
    }
    // NPC ids are in the kills but never enqueued.
    expect(await pendingIds("character")).not.toContain(NPC_CHARACTER);
    expect(await pendingIds("corporation")).not.toContain(NPC_CORPORATION);
    const npcCorporations = new Set(
      kills
        .flatMap((k) => [k.victim, ...k.attackers])
        .map((p) => p.corporation_id ?? 0)
        .filter((c) => c > 0 && c <= 1_999_999),
    );
    expect(npcCorporations.size).toBeGreaterThan(1);
    for (const kind of ["character", "corporation"] as const) {
      const limit = kind === "character" ? 3_999_999 : 1_999_999;
      expect([...(await pendingIds(kind))].filter((id) => id <= limit)).toEqual([]);
    }
    const jobs = await getQueue("character").getJobs(["prioritized"], 0, 0);
    expect(jobs[0]?.opts.priority).toBe(Priority.backfill);

    // Rerun with the jobs still pending: nothing new.
    const second = await cli(["scan:entities", "--json"]);
    expect(second.code).toBe(0);
    const again = second.json() as { counts: Counts };
    for (const kind of ["character", "corporation", "alliance", "type"] as const) {
      expect(again.counts[kind]).toEqual({ enqueued: 0, pending: expected[kind].size });
      expect((await getQueueStats(kind)).prioritized).toBe(expected[kind].size);
    }
    // The human summary has the counts per type.
    const text = await cli(["scan:entities"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/character\s+0\s+\d+/);
  });

  it("after the jobs ran nothing is missing, so a rerun enqueues nothing", async () => {
    const started = startWorkers([characterQueue, corporationQueue, allianceQueue, typeQueue, detailQueue]);
    await drained(["character", "corporation", "alliance", "type", "detail"]);
    await stopWorkers(started);
    for (const kind of ["character", "corporation", "alliance", "type"] as const) expect((await getQueueStats(kind)).failed).toBe(0);
    const r = await cli(["scan:entities", "--json"]);
    expect(r.code).toBe(0);
    const counts = (r.json() as { counts: Counts }).counts;
    expect(counts).toEqual({
      character: { enqueued: 0, pending: 0 },
      corporation: { enqueued: 0, pending: 0 },
      alliance: { enqueued: 0, pending: 0 },
      type: { enqueued: 0, pending: 0 },
    });
    // Every wanted entity now has a row (deleted characters included).
    const [row] = await sql()<
      { n: number }[]
    >`select count(*)::int as n from characters where character_id = any(${[...expected.character]})`;
    expect(row!.n).toBe(expected.character.size);
    await getQueue("price").obliterate({ force: true });
  });

  it("scans only --from-id…--to-id, and an interrupted scan resumes from its Postgres cursor", async () => {
    const sorted = kills.slice().sort((a, b) => a.killmail_id - b.killmail_id);
    const inRange = sorted.slice(10, 30);
    const fromId = inRange[0]!.killmail_id;
    const toId = inRange.at(-1)!.killmail_id;
    const inside = wantedOf(inRange);
    const outside = minus(wantedOf([...sorted.slice(0, 10), ...sorted.slice(30)]).character, inside.character);
    expect(outside.size).toBeGreaterThan(0);
    // Forget characters named inside the range and some named only outside it.
    const forgotten = [...inside.character, ...[...outside].slice(0, 20)];
    await sql()`delete from characters where character_id = any(${forgotten})`;

    let batches = 0;
    const partial = await scanEntities({ fromId, toId, batchSize: 3, shouldStop: () => batches >= 2, onBatch: () => void batches++ });
    expect(partial.finished).toBe(false);
    expect(partial.state.kills).toBe(6);
    const saved = await readCursor<ScanState>(scanCursorName(fromId, toId));
    expect(saved).toMatchObject({ done: false, after: inRange[5]!.killmail_id, kills: 6 });

    // The rest, through the CLI: resumes after the sixth kill of the range.
    const rest = await cli(["scan:entities", "--from-id", String(fromId), "--to-id", String(toId), "--batch-size", "3", "--json"]);
    expect(rest.code).toBe(0);
    const summary = rest.json() as { status: string; resumedFrom: number; kills: number; counts: Counts };
    expect(summary).toMatchObject({ status: "done", resumedFrom: inRange[5]!.killmail_id, kills: 20 });
    expect(await pendingIds("character")).toEqual(inside.character);
    expect(summary.counts.character.enqueued).toBe(inside.character.size);
    expect(summary.counts.corporation.enqueued + summary.counts.alliance.enqueued + summary.counts.type.enqueued).toBe(0);
    expect(await readCursor<ScanState>(scanCursorName(fromId, toId))).toMatchObject({ done: true, kills: 20 });

    // Done: the jobs run, the forgotten characters outside the range are still missing.
    const started = startWorkers([characterQueue]);
    await drained(["character"]);
    await stopWorkers(started);
    const whole = await cli(["scan:entities", "--json"]);
    expect((whole.json() as { counts: Counts }).counts.character.enqueued).toBe(20);
    expect(await pendingIds("character")).toEqual(new Set([...outside].slice(0, 20)));
    await getQueue("character").obliterate({ force: true });
  });

  it("rejects an inverted range (exit 2)", async () => {
    const r = await cli(["scan:entities", "--from-id", "10", "--to-id", "5"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--from-id is above --to-id");
  });
});

describe("queue:alliances and queue:alliance-corporations", () => {
  it("enqueue the listed alliances missing or expired, reading ESI's list once per cache period", async () => {
    const listed = sim.world.allianceIds();
    const stored = await sql()<{ id: number; fresh: boolean }[]>`
      select alliance_id as id, coalesce(expires_at > now(), false) as fresh from alliances where not deleted order by 1`;
    const freshListed = stored.filter((a) => a.fresh && listed.includes(a.id)).map((a) => a.id);
    expect(freshListed.length).toBeGreaterThan(2);
    // One fresh alliance expires; stored rows without an expiry (inserted above) count as expired too.
    await sql()`update alliances set expires_at = now() - interval '1 minute' where alliance_id = ${freshListed[0]!}`;
    const fresh = freshListed.slice(1);
    const storedIds = new Set(stored.map((a) => a.id));
    const want = new Set(listed.filter((id) => !fresh.includes(id)));
    const missing = listed.filter((id) => !storedIds.has(id)).length;

    const asked = () => sim.requests().filter((r) => /\/alliances\/?$/.test(new URL(r.url, sim.url).pathname)).length;
    const before = asked();
    const first = await cli(["queue:alliances", "--json"]);
    expect(first.code).toBe(0);
    expect(first.json()).toMatchObject({
      listed: listed.length,
      missing,
      expired: want.size - missing,
      enqueued: want.size,
      pending: 0,
      cachedList: false,
    });
    expect(want.size - missing).toBeGreaterThan(0);
    expect(await pendingIds("alliance")).toEqual(want);

    const second = await cli(["queue:alliances", "--json"]);
    expect(second.json()).toMatchObject({ enqueued: 0, pending: want.size, cachedList: true });
    expect(asked() - before).toBe(1);

    // --all: every listed alliance, forced; the fresh ones are the only new jobs.
    const all = await cli(["queue:alliances", "--all", "--json"]);
    expect(all.json()).toMatchObject({ listed: listed.length, enqueued: fresh.length, pending: want.size });
    const payloads = await pendingPayloads("alliance");
    expect(new Set(payloads.map((p) => Number(p.id)))).toEqual(new Set(listed));
    expect(payloads.filter((p) => fresh.includes(Number(p.id))).every((p) => p.force === true)).toBe(true);

    const started = startWorkers([allianceQueue]);
    await drained(["alliance"]);
    await stopWorkers(started);
    expect((await getQueueStats("alliance")).failed).toBe(0);
  });

  it("alliance-corporations jobs enqueue exactly the corporations missing from the table", async () => {
    const alliances = (await sql()<{ id: number }[]>`select alliance_id as id from alliances where not deleted order by 1`).map(
      (r) => r.id,
    );
    // Forget a few corporations that are in alliances, so some stored ones are missing again.
    const members = new Set(alliances.flatMap((id) => sim.world.allianceCorporations(id) ?? []));
    const storedMembers = (
      await sql()<{ id: number }[]>`select corporation_id as id from corporations where corporation_id = any(${[...members]})`
    ).map((r) => r.id);
    expect(storedMembers.length).toBeGreaterThan(3);
    await sql()`delete from corporations where corporation_id = any(${storedMembers.slice(0, 3)})`;
    const stored = new Set((await sql()<{ id: number }[]>`select corporation_id as id from corporations`).map((r) => r.id));
    const want = minus(members, stored);
    expect(want.size).toBeGreaterThan(3);

    const r = await cli(["queue:alliance-corporations", "--json"]);
    expect(r.code).toBe(0);
    expect(r.json()).toEqual({ alliances: alliances.length, enqueued: alliances.length, pending: 0 });
    const listing = await pendingPayloads("backfill");
    expect(new Set(listing.map((p) => p.allianceId))).toEqual(new Set(alliances));
    expect(listing.every((p) => p.task === "alliance-corporations")).toBe(true);
    // A rerun while they are pending adds nothing.
    expect((await cli(["queue:alliance-corporations", "--json"])).json()).toMatchObject({ enqueued: 0, pending: alliances.length });

    const started = startWorkers([backfill]);
    await drained(["backfill"]);
    await stopWorkers(started);
    expect((await getQueueStats("backfill")).failed).toBe(0);
    expect(await pendingIds("corporation")).toEqual(want);
    // A corporation job per missing corporation, once, even though jobs of several alliances ran.
    expect((await getQueueStats("corporation")).prioritized).toBe(want.size);

    // Names in bulk, then each corporation's own route (alliance, member count) as a detail job.
    const corps = startWorkers([corporationQueue, detailQueue]);
    await drained(["corporation", "detail"]);
    await stopWorkers(corps);
    const [row] = await sql()<{ n: number }[]>`select count(*)::int as n from corporations where corporation_id = any(${[...members]})`;
    expect(row!.n).toBe(members.size);
    // No alliance list was asked of ESI again before its Expires (they are cached until then).
    const early = sim.requests().filter((q) => q.url.includes("/alliances") && q.violations.length > 0);
    expect(early.map((q) => `${q.url} ${q.violations.join(",")}`)).toEqual([]);
  });

  it("exit 1 with one line when ESI keeps failing", async () => {
    await forgetIdList("alliances");
    sim.setFaults({ service: "esi", route: "alliances", errorRate: 1, errorStatuses: [503] });
    try {
      const r = await cli(["queue:alliances"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error: .*503/m);
    } finally {
      sim.setFaults([]);
    }
  });
});

describe("refresh:affiliations", () => {
  it("covers exactly the stored characters of recent kills, in jobs of at most 1,000 ids", async () => {
    await getQueue("character").obliterate({ force: true });
    const sorted = kills.slice().sort((a, b) => a.killmail_id - b.killmail_id);
    const recent = sorted.slice(40);
    await sql()`update killmails set killmail_time = now() - interval '30 days'`;
    await sql()`update killmails set killmail_time = now() - interval '2 days' where killmail_id = any(${recent.map((k) => k.killmail_id)})`;
    const stored = new Set((await sql()<{ id: number }[]>`select character_id as id from characters where not deleted`).map((r) => r.id));
    const want = new Set([...wantedOf(recent).character].filter((id) => stored.has(id)));
    expect(want.size).toBeGreaterThan(10);

    const r = await cli(["refresh:affiliations", "--days", "7", "--json"]);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ characters: want.size, jobs: Math.ceil(want.size / 1000), days: 7 });
    const jobs = await pendingPayloads("character");
    const ids = jobs.flatMap((j) => j.affiliation as number[]);
    expect(ids.length).toBe(want.size);
    expect(new Set(ids)).toEqual(want);
    await getQueue("character").obliterate({ force: true });
  });

  it("--all: every stored character, 1,000 ids per job", async () => {
    const extra = Array.from({ length: 2_345 }, (_, i) => 95_500_000 + i);
    await sql()`insert into characters (character_id, name) select id, 'extra' from unnest(${extra}::int4[]) as id`;
    const all = new Set(
      (await sql()<{ id: number }[]>`select character_id as id from characters where not deleted and character_id > 3999999`).map(
        (r) => r.id,
      ),
    );
    const r = await cli(["refresh:affiliations", "--all", "--json"]);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ characters: all.size, jobs: Math.ceil(all.size / 1000), days: null });
    const jobs = await pendingPayloads("character");
    expect(jobs.length).toBe(Math.ceil(all.size / 1000));
    expect(jobs.every((j) => (j.affiliation as number[]).length <= 1000)).toBe(true);
    expect(new Set(jobs.flatMap((j) => j.affiliation as number[]))).toEqual(all);
    await getQueue("character").obliterate({ force: true });
    await sql()`delete from characters where character_id = any(${extra})`;
  });

  it("rejects --days 0 and --days with --all (exit 2)", async () => {
    expect((await cli(["refresh:affiliations", "--days", "0"])).code).toBe(2);
    expect((await cli(["refresh:affiliations", "--days", "3", "--all"])).code).toBe(2);
  });
});

describe("snapshot:alliances", () => {
  async function expectedCounts(): Promise<Map<number, { members: number; corporations: number }>> {
    const alliances = await sql()<{ id: number }[]>`select alliance_id as id from alliances where not deleted`;
    const corps = await sql()<{ alliance: number; members: number | null }[]>`
      select alliance_id as alliance, member_count as members from corporations where not deleted and alliance_id is not null`;
    const out = new Map(alliances.map((a) => [a.id, { members: 0, corporations: 0 }]));
    for (const c of corps) {
      const e = out.get(c.alliance);
      if (!e) continue;
      e.members += c.members ?? 0;
      e.corporations++;
    }
    return out;
  }

  async function snapshotRows(date: string) {
    const rows = await sql()<{ id: number; members: number; corporations: number }[]>`
      select alliance_id as id, member_count as members, corporation_count as corporations
      from alliance_snapshots where date = ${date}::date`;
    return new Map(rows.map((r) => [r.id, { members: r.members, corporations: r.corporations }]));
  }

  it("records member and corporation counts per alliance; a rerun the same day does not duplicate", async () => {
    const today = utcDate();
    const want = await expectedCounts();
    expect([...want.values()].some((c) => c.corporations > 1)).toBe(true);
    const first = await cli(["snapshot:alliances", "--json"]);
    expect(first.code).toBe(0);
    expect(first.json()).toMatchObject({ date: today, alliances: want.size, inserted: want.size, updated: 0 });
    expect(await snapshotRows(today)).toEqual(want);

    // Counts change, the same day is recorded again: one row per alliance, with the new counts.
    const [corp] = await sql()<{ id: number; alliance: number }[]>`
      select corporation_id as id, alliance_id as alliance from corporations where alliance_id is not null and not deleted limit 1`;
    await sql()`update corporations set member_count = member_count + 1000 where corporation_id = ${corp!.id}`;
    want.get(corp!.alliance)!.members += 1000;
    const second = await cli(["snapshot:alliances", "--json"]);
    expect(second.json()).toMatchObject({ date: today, alliances: want.size, inserted: 0, updated: want.size });
    expect(await snapshotRows(today)).toEqual(want);
    const [n] = await sql()<{ n: number }[]>`select count(*)::int as n from alliance_snapshots`;
    expect(n!.n).toBe(want.size);
  });

  it("the backfill task writes the day it is given; the daily scheduler registers once", async () => {
    const want = await expectedCounts();
    const started = startWorkers([backfill]);
    await enqueueJob("backfill", { task: "alliance-snapshot", date: "2026-08-01" }, { priority: Priority.routine });
    await drained(["backfill"]);
    await stopWorkers(started);
    expect(await snapshotRows("2026-08-01")).toEqual(want);

    for (let i = 0; i < 2; i++) {
      const r = await cli(["snapshot:alliances", "--schedule", "--json"]);
      expect(r.code).toBe(0);
    }
    const schedulers = await getQueue("backfill").getJobSchedulers();
    expect(schedulers).toHaveLength(1);
    expect(schedulers[0]).toMatchObject({ key: SNAPSHOT_SCHEDULER_ID, pattern: "0 12 * * *", tz: "UTC" });
    expect(schedulers[0]!.template?.data).toEqual({ task: "alliance-snapshot" });
    const removed = await cli(["snapshot:alliances", "--unschedule", "--json"]);
    expect(removed.json()).toEqual({ id: SNAPSHOT_SCHEDULER_ID, removed: true });
    expect(await getQueue("backfill").getJobSchedulersCount()).toBe(0);
  });

  it("rejects a bad date, --schedule with --date and a bad cron pattern (exit 2)", async () => {
    expect((await cli(["snapshot:alliances", "--date", "2026-13-45"])).code).toBe(2);
    expect((await cli(["snapshot:alliances", "--schedule", "--date", "2026-08-01"])).code).toBe(2);
    expect((await cli(["snapshot:alliances", "--schedule", "--cron", "99 12 * * *"])).code).toBe(2);
    expect(await getQueue("backfill").getJobSchedulersCount()).toBe(0);
  });
});
