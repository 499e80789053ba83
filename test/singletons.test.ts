// One owner for each singleton, whatever the number of processes: real `bun queue` and `listen:r2z2`
// processes on one Redis and one database. Three workers started at once all start, and reconcile and
// partition upkeep run in one of them; two listeners read the simulator's feed as one (every published
// number read once, every kill stored once), the standby takes over when the active one is SIGKILLed,
// and an active one paused past its lease and resumed cannot move the cursor any more.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { simulatedKillmails } from "../bench/kills.ts";
import { pgArray } from "../server/db/arrays.ts";
import { sql } from "../server/db/client.ts";
import { readCursor } from "../server/feeds/cursor.ts";
import { R2Z2_CURSOR, type R2z2Cursor } from "../server/feeds/r2z2-listener.ts";
import { setConfig } from "../server/helpers/config.ts";
import { submitKillmails } from "../server/killmails/intake.ts";
import { reconcile } from "../server/outbox/reconcile.ts";
import { Priority } from "../server/queues/priority.ts";
import { getQueue } from "../server/queues/queue.ts";
import { type Simulator, startSimulator } from "../sim/server.ts";
import { useTestDatabase } from "./support/database.ts";
import { queuedKills } from "./support/imports.ts";
import { useTestQueues } from "./support/isolation.ts";
import { until } from "./support/poll.ts";
import { killAll, run, type Spawned, start } from "./support/spawn.ts";

const queues = useTestQueues("singletons");
const database = useTestDatabase("singletons");
afterEach(killAll);

const USER_AGENT = "killboard-tests/1.0 tests@localhost";
const env = { ...queues.env, ...database.env, LOG_LEVEL: "info", LOG_FORMAT: "json", ESI_USER_AGENT: USER_AGENT };

/** Log lines of a process (JSON, one a line) whose message matches. */
const lines = (p: Spawned, msg: RegExp) =>
  p
    .stderr()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { msg: string })
    .filter((l) => msg.test(l.msg));

describe("reconcile's minimum age", () => {
  it("leaves intake rows younger than it alone (their producer may still be enqueuing them)", async () => {
    const kills = simulatedKillmails(6, 3);
    await submitKillmails(
      kills.map((k) => ({ killmailId: k.esi.killmail_id, hash: k.hash, esi: k.esi })),
      { source: "cli", priority: Priority.routine, batchJobKills: 1 },
    );
    await getQueue("killmail").obliterate({ force: true }); // Redis lost them
    const old = kills.slice(0, 2).map((k) => k.esi.killmail_id);
    await sql()`update killmail_intake set received_at = now() - interval '2 minutes' where killmail_id in ${sql()(old)}`;
    expect(await reconcile({ minAgeMs: 60_000 })).toMatchObject({ intakeChecked: 2, intakeRequeued: 2 });
    expect((await queuedKills()).map((k) => k.killmailId).sort()).toEqual([...old].sort());
    // Without a minimum age (`bun cli reconcile`), every pending row is taken.
    expect(await reconcile()).toMatchObject({ intakeChecked: 6, intakeRequeued: 4 });
    await getQueue("killmail").obliterate({ force: true });
    await sql()`delete from killmail_intake`;
  });
});

describe("three `bun queue` processes started at once", () => {
  it("all start; reconcile and partition upkeep run in exactly one of them", async () => {
    const workers = [0, 1, 2].map(() => start("queue.ts", ["killmail", "--summary-interval", "0"], env));
    await Promise.all(workers.map((w) => w.waitFor("worker started", 60_000)));
    // Every process has had its say for the start-up round: it ran it, or it logged that it skips it.
    for (const round of ["reconcile", "partitions"]) {
      await until(
        () => workers.every((w) => lines(w, new RegExp(`^${round}: (this process runs|another process runs)`)).length > 0),
        30_000,
        `each process ran or skipped the ${round} round`,
      );
      const ran = workers.filter((w) => lines(w, new RegExp(`^${round}: this process runs the round`)).length > 0);
      const skipped = workers.filter((w) => lines(w, new RegExp(`^${round}: another process runs this round`)).length > 0);
      expect([ran.length, skipped.length], round).toEqual([1, 2]);
    }
    for (const w of workers) {
      expect(w.stderr()).not.toMatch(/already exists|failed/);
      w.child.kill("SIGTERM");
    }
    expect((await Promise.all(workers.map((w) => w.result))).map((r) => r.code)).toEqual([0, 0, 0]);
  }, 120_000);
});

describe("two listeners and two workers on one feed", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({
      port: 0,
      seed: 11,
      killmails: 3000,
      feedRate: 0,
      zkbDelaySeconds: 0,
      corpus: false,
      quiet: true,
      sequenceEvery: 1,
    });
    setConfig({ r2z2Url: `${sim.url}/r2z2` });
  });
  afterAll(() => sim.stop());
  const feedHead = async () => ((await (await fetch(`${sim.url}/r2z2/ephemeral/sequence.json`)).json()) as { sequence: number }).sequence;

  it("reads every published number once, stores every kill once, and hands over on kill -9 and on a pause", async () => {
    const feedEnv = { ...env, R2Z2_URL: `${sim.url}/r2z2` };
    const listener = (name: string) => start("cli.ts", ["listen:r2z2"], { ...feedEnv, ESI_USER_AGENT: `${name}/1.0 tests@localhost` });
    const workers = [0, 1].map(() => start("queue.ts", ["killmail", "--summary-interval", "0"], feedEnv));
    const headAtStart = await feedHead();
    const a = listener("listener-a");
    await a.waitFor("this process is the active listener", 60_000);
    const b = listener("listener-b");
    await b.waitFor("standing by", 60_000);
    await Promise.all(workers.map((w) => w.waitFor("worker started", 60_000)));

    sim.setFeedRate(5);
    // Two workers and two listeners side by side for a while (with the hand-overs below, over 2 minutes).
    await Bun.sleep(75_000);
    // The standby asked R2Z2 nothing while it stood by.
    const byAgent = (agent: string) => sim.requests().filter((r) => r.service === "r2z2" && r.userAgent?.startsWith(agent));
    expect(byAgent("listener-a").length).toBeGreaterThan(0);
    expect(byAgent("listener-b")).toEqual([]);

    // kill -9: the standby takes over within 15 s (the lease lives 5 s).
    a.child.kill("SIGKILL");
    await b.waitFor("this process is the active listener", 15_000);
    await Bun.sleep(10_000);

    // A third listener stands by; the active one is paused past its lease, then resumed: the third
    // takes over, and the resumed one stops reading (its lease lost, its cursor writes refused).
    const c = listener("listener-c");
    await c.waitFor("standing by", 60_000);
    b.child.kill("SIGSTOP");
    await c.waitFor("this process is the active listener", 15_000);
    b.child.kill("SIGCONT");
    await b.waitFor(/lost the lease|another listener holds a newer lease/, 15_000);
    await b.waitFor("no longer the active listener: standing by", 15_000);
    // A one-shot run does not wait for ever behind an active listener: it says so and fails.
    const once = await run("cli.ts", ["listen:r2z2", "--once"], { ...feedEnv, ESI_USER_AGENT: "listener-once/1.0 tests@localhost" });
    expect(once.code).toBe(1);
    expect(once.stderr).toContain("another listener is active");
    expect(byAgent("listener-once")).toEqual([]);
    await Bun.sleep(5_000);

    // The feed stops; the active listener catches up and the workers store everything.
    sim.setFeedRate(0);
    const head = await feedHead();
    await until(async () => (await readCursor<R2z2Cursor>(R2Z2_CURSOR))?.sequence === head, 60_000, "the cursor at the head");
    const published = head - headAtStart;
    const expected = Array.from({ length: published }, (_, i) => sim.world.killmail(headAtStart + 1 + i - 100_000_000).killmail_id);
    const storedCount = async () =>
      (await sql()<{ n: number }[]>`select count(*)::int as n from killmails where killmail_id = any(${pgArray(expected)}::int8[])`)[0]!.n;
    await until(async () => (await storedCount()) === published, 120_000, "every published kill stored");

    // Every published number was read, and at most one batch twice (what the killed listener had read
    // but not saved); no number was left as a gap.
    const reads = sim.requests().filter((r) => r.service === "r2z2" && r.route === "ephemeral" && r.status === 200);
    const perNumber = new Map<number, number>();
    for (const r of reads) {
      const n = Number(/\/(\d+)\.json$/.exec(r.url)?.[1]);
      perNumber.set(n, (perNumber.get(n) ?? 0) + 1);
    }
    for (let n = headAtStart + 1; n <= head; n++) expect(perNumber.get(n) ?? 0, `sequence ${n}`).toBeGreaterThanOrEqual(1);
    const reread = reads.length - published;
    const polls = sim.requests().filter((r) => r.service === "r2z2" && r.status !== 200).length;
    const sequenceAsks = sim.requests().filter((r) => r.service === "r2z2" && r.route !== "ephemeral").length;
    console.log(
      `singletons: ${published} kills published; ${reads.length} R2Z2 reads (${reread} read again after a hand-over), ${polls} 404 polls, ${sequenceAsks} head asks`,
    );
    expect(reread).toBeLessThanOrEqual(2 * 50);
    expect((await readCursor<R2z2Cursor>(R2Z2_CURSOR))?.gaps ?? []).toEqual([]);

    // Every kill exactly once: no doubled kill, attacker or item rows.
    const [counts] = await sql()<{ k: number; distinct: number }[]>`
      select count(*)::int as k, count(distinct killmail_id)::int as distinct from killmails where killmail_id = any(${pgArray(expected)}::int8[])`;
    expect(counts).toEqual({ k: published, distinct: published });
    const [doubled] = await sql()<{ n: number }[]>`
      select count(*)::int as n from (select killmail_id, attacker_index from attackers where killmail_id = any(${pgArray(expected)}::int8[])
                                      group by 1, 2 having count(*) > 1) d`;
    expect(doubled!.n).toBe(0);

    for (const p of [b, c, ...workers]) p.child.kill("SIGTERM");
    const codes = await Promise.all([b, c, ...workers].map((p) => p.result.then((r) => r.code)));
    expect(codes).toEqual([0, 0, 0, 0]);
  }, 420_000);
});
