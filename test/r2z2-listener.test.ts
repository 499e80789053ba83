// The live feed against the simulator's R2Z2: kills arrive with their bodies at the live tier, the
// cursor survives restarts (no gaps, no duplicates), a replay from an older cursor adds nothing, and an
// R2Z2 outage is ridden out.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "../server/db/client.ts";
import { setUpstreamSettings } from "../server/esi/settings.ts";
import { claimCursor, FencedOutError, readCursor, readCursorFence, writeCursor } from "../server/feeds/cursor.ts";
import { listenR2z2, R2Z2_CURSOR, type R2z2Cursor } from "../server/feeds/r2z2-listener.ts";
import { setConfig } from "../server/helpers/config.ts";
import { Priority } from "../server/queues/priority.ts";
import { type Simulator, startSimulator } from "../sim/server.ts";
import { useTestDatabase } from "./support/database.ts";
import { queuedKills } from "./support/imports.ts";
import { useTestQueues } from "./support/isolation.ts";
import { until } from "./support/poll.ts";
import { run } from "./support/spawn.ts";

const queues = useTestQueues("r2z2");
const database = useTestDatabase("r2z2");
let sim: Simulator;
let env: Record<string, string>;

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    seed: 5,
    killmails: 2000,
    feedRate: 0,
    zkbDelaySeconds: 0,
    corpus: false,
    quiet: true,
    sequenceEvery: 1,
  });
  setConfig({ r2z2Url: `${sim.url}/r2z2`, esiUserAgent: "killboard-tests/1.0 tests@localhost" });
  env = { ...queues.env, ...database.env, R2Z2_URL: `${sim.url}/r2z2`, ESI_USER_AGENT: "killboard-tests/1.0 tests@localhost" };
});
afterAll(() => sim.stop());

const intake = async () => (await sql()<{ id: number }[]>`select killmail_id as id from killmail_intake order by 1`).map((r) => r.id);
const jobs = () => queuedKills();

describe("listen:r2z2", () => {
  it("starts at the head, then takes every new kill with its body at the live tier", async () => {
    const first = await run("cli.ts", ["listen:r2z2", "--once", "--json"], env);
    expect(first.code).toBe(0);
    const start = JSON.parse(first.stdout) as { sequence: number; kills: number };
    expect(start.kills).toBe(0);

    sim.advanceFeed(25);
    const second = await run("cli.ts", ["listen:r2z2", "--once", "--json"], env);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ sequence: start.sequence + 25, kills: 25, enqueued: 25 });
    const queued = await jobs();
    expect(queued).toHaveLength(25);
    expect(queued.every((k) => k.priority === Priority.live && (k.esi as { killmail_id: number }).killmail_id === k.killmailId)).toBe(true);
    // Read together, they travel together: batch jobs, not one job per kill.
    expect(queued.every((k) => k.inBatch)).toBe(true);
    expect(new Set(queued.map((k) => k.jobId)).size).toBeLessThan(25);
    expect(await intake()).toHaveLength(25);
    expect(await readCursor<R2z2Cursor>(R2Z2_CURSOR)).toMatchObject({ sequence: start.sequence + 25 });
  });

  it("resumes after a restart without gaps or duplicates", async () => {
    const before = (await readCursor<R2z2Cursor>(R2Z2_CURSOR))!.sequence;
    sim.advanceFeed(30);
    const listener = listenR2z2({ once: true, batchSize: 10 });
    const stats = await listener.done;
    expect(stats).toMatchObject({ sequence: before + 30, kills: 30, enqueued: 30, gaps: 0 });
    const ids = await intake();
    expect(ids).toHaveLength(55);
    expect(new Set(ids).size).toBe(55);
    expect(await jobs()).toHaveLength(55);
  });

  it("replaying from an older cursor adds nothing new", async () => {
    const cursor = (await readCursor<R2z2Cursor>(R2Z2_CURSOR))!.sequence;
    const stats = await listenR2z2({ once: true, from: cursor - 40 }).done;
    expect(stats).toMatchObject({ kills: 40, enqueued: 0 });
    expect(await intake()).toHaveLength(55);
    expect(await jobs()).toHaveLength(55);
  });

  it("rides out an R2Z2 outage", async () => {
    sim.advanceFeed(10);
    sim.setFaults({ service: "r2z2", errorRate: 1, errorStatuses: [503], count: 4 });
    const stats = await listenR2z2({ once: true }).done;
    expect(stats).toMatchObject({ kills: 10, enqueued: 10 });
    expect(sim.requests().filter((r) => r.service === "r2z2" && r.status === 503)).toHaveLength(4);
    expect(await intake()).toHaveLength(65);
    sim.setFaults([]);
  });

  it("asks again for a number R2Z2 answers 404 for while its head is past it, instead of skipping it", async () => {
    const cursor = (await readCursor<R2z2Cursor>(R2Z2_CURSOR))!.sequence;
    sim.advanceFeed(20);
    // Numbers 5 and 12 of the new ones: not readable yet for their first asks, as when R2Z2 writes
    // sequence.json before the file.
    const late = [cursor + 5, cursor + 12];
    sim.setFaults(
      late.map((n) => ({ service: "r2z2" as const, route: "ephemeral", path: `/ephemeral/${n}\\.json$`, notFoundRate: 1, count: 3 })),
    );
    const before = (await intake()).length;
    const listener = listenR2z2({ idleMs: 100 });
    // Recorded, and the cursor saved after them (the kills reach the ledger before the cursor is written).
    await until(
      async () => (await intake()).length === before + 20 && (await readCursor<R2z2Cursor>(R2Z2_CURSOR))?.gaps?.length === 0,
      30_000,
      "all 20 kills recorded",
    );
    listener.stop();
    const stats = await listener.done;
    expect(stats).toMatchObject({ gaps: 0, gapsRecovered: 2, gapsFilled: 0 });
    expect(stats.kills).toBe(20);
    // Each late number was asked until R2Z2 answered it: three 404s, then its kill.
    for (const n of late) {
      const asks = sim.requests().filter((r) => r.service === "r2z2" && r.url.endsWith(`/ephemeral/${n}.json`));
      expect(asks.map((r) => r.status)).toEqual([404, 404, 404, 200]);
    }
    expect((await readCursor<R2z2Cursor>(R2Z2_CURSOR))!).toMatchObject({ sequence: cursor + 20, gaps: [] });
    sim.setFaults([]);
  });

  it("records a file that never decodes as a gap and fills it from the daily history", async () => {
    const cursor = (await readCursor<R2z2Cursor>(R2Z2_CURSOR))!.sequence;
    sim.advanceFeed(6);
    const bad = cursor + 3;
    const badKill = sim.world.killmail(bad - 100_000_000);
    sim.setFaults({ service: "r2z2", route: "ephemeral", path: `/ephemeral/${bad}\\.json$`, malformedRate: 1 });
    setUpstreamSettings({ r2z2Attempts: 1, r2z2GapRetryMinutes: 0 });
    try {
      const listener = listenR2z2({ idleMs: 100 });
      await until(async () => (await intake()).includes(badKill.killmail_id), 30_000, "the bad file's kill recorded");
      listener.stop();
      await listener.done;
    } finally {
      setUpstreamSettings({ r2z2Attempts: 4, r2z2GapRetryMinutes: 30 });
      sim.setFaults([]);
    }
    const [row] = await sql()<{ source: string; body: boolean }[]>`
      select source, body is not null or job_key is not null as body from killmail_intake where killmail_id = ${badKill.killmail_id}`;
    expect(row).toEqual({ source: "history", body: true });
    // Its day is still running: the gap stays, to be imported again once the day's history is complete.
    const saved = (await readCursor<R2z2Cursor>(R2Z2_CURSOR))!;
    expect(saved.sequence).toBeGreaterThanOrEqual(cursor + 6);
    expect(saved.gaps?.map((g) => [g.sequence, g.reason, Boolean(g.filledAt)])).toEqual([[bad, "bad-file", true]]);
  });
});

describe("the cursor under a fenced lease", () => {
  it("refuses a write with an older fencing token; the listener that made it stops without moving the cursor", async () => {
    const saved = (await readCursor<R2z2Cursor>(R2Z2_CURSOR))!;
    const fence = await readCursorFence(R2Z2_CURSOR);
    // A newer holder claims the cursor, as a standby that took the lease over does.
    await claimCursor(R2Z2_CURSOR, fence + 2);
    await expect(writeCursor(R2Z2_CURSOR, { sequence: 1 }, fence + 1)).rejects.toBeInstanceOf(FencedOutError);
    await expect(claimCursor(R2Z2_CURSOR, fence + 1)).rejects.toBeInstanceOf(FencedOutError);

    // The old holder, resumed after a pause, reads on: its first cursor write is refused and it stops.
    const [intakeBefore, jobsBefore] = [(await intake()).length, (await jobs()).length];
    sim.advanceFeed(5);
    const stale = listenR2z2({ fence: fence + 1, idleMs: 100 });
    const stats = await stale.done;
    expect(stale.fencedOut()).toBe(true);
    expect(stats.sequence).toBe(saved.sequence);
    expect((await readCursor<R2z2Cursor>(R2Z2_CURSOR))!.sequence).toBe(saved.sequence);
    expect(await readCursorFence(R2Z2_CURSOR)).toBe(fence + 2);

    // The holder of the newest token goes on from the cursor: the five kills once each, nothing skipped.
    const current = await listenR2z2({ fence: fence + 2, once: true }).done;
    expect(current).toMatchObject({ sequence: saved.sequence + 5, kills: 5 });
    expect(await intake()).toHaveLength(intakeBefore + 5);
    expect(await jobs()).toHaveLength(jobsBefore + 5);
    expect(await readCursorFence(R2Z2_CURSOR)).toBe(fence + 2);
  });
});
