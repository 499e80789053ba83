// `bun cli import:history` as a real process against the simulator's R2Z2 history (with 10 % of the
// kills missing from the raw files): bodies from raw, id/hash only for what raw lacks, backfill tier,
// totals check, kills already stored skipped, re-runs enqueue nothing, SIGKILL mid-day resumes without
// duplicates, a failed day exits 1 and is retried, and backpressure pauses until a worker drains the queue.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sql } from "../server/db/client.ts";
import { readCursor } from "../server/feeds/cursor.ts";
import { type HistoryCursor, historyCursorName, type ImportResult } from "../server/imports/history.ts";
import { Priority } from "../server/queues/priority.ts";
import { getQueue } from "../server/queues/queue.ts";
import { type Simulator, startSimulator } from "../sim/server.ts";
import { useTestDatabase } from "./support/database.ts";
import { intakeRows, parseJson, queuedKills, simEnv, storeSimKills, TEST_USER_AGENT } from "./support/imports.ts";
import { useTestQueues } from "./support/isolation.ts";
import { until } from "./support/poll.ts";
import { killAll, run, start } from "./support/spawn.ts";

const queues = useTestQueues("import-history");
const database = useTestDatabase("import-history");
afterEach(killAll);
let sim: Simulator;
let env: Record<string, string>;

// 1,200 kills over 2026-07-26 … 2026-07-29, all published; 10 % of them absent from the raw files.
beforeAll(async () => {
  sim = await startSimulator({
    seed: 21,
    killmails: 1200,
    days: 4,
    feedRate: 0,
    feedShare: 0,
    rawMissing: 0.1,
    corpus: false,
    catalog: "builtin",
    quiet: true,
    limits: { r2z2PerSecond: 0 },
  });
  env = { ...queues.env, ...database.env, ...simEnv(sim), R2Z2_BACKOFF_MS: "10" };
});
afterAll(() => sim.stop());

const getJson = async <T>(path: string): Promise<T> =>
  (await (await fetch(`${sim.url}/r2z2${path}`, { headers: { "User-Agent": TEST_USER_AGENT } })).json()) as T;

/** What R2Z2 says about a day: every id with its hash, and the ids the raw file has a body for. */
async function r2z2Day(day: string): Promise<{ hashes: Map<number, string>; withBody: Set<number> }> {
  const compact = day.replaceAll("-", "");
  const list = await getJson<Record<string, string>>(`/history/${compact}.json`);
  const raw = await getJson<Record<string, unknown>>(`/history/raw/${compact}.json`);
  return { hashes: new Map(Object.entries(list).map(([id, h]) => [Number(id), h])), withBody: new Set(Object.keys(raw).map(Number)) };
}

const importHistory = (from: string, to: string, ...extra: string[]) =>
  run("cli.ts", ["import:history", "--from", from, "--to", to, "--json", ...extra], env);

describe("import:history", () => {
  it("rejects bad dates and ranges with exit 2 and a clear message", async () => {
    const bad = await run("cli.ts", ["import:history", "--from", "2026-13-01", "--to", "2026-07-27"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--from <date>.*'2026-13-01' is invalid.*expected a date YYYY-MM-DD/);
    const feb30 = await run("cli.ts", ["import:history", "--from", "2026-02-30", "--to", "2026-03-01"], env);
    expect(feb30.code).toBe(2);
    const reversed = await run("cli.ts", ["import:history", "--from", "2026-07-27", "--to", "2026-07-26"], env);
    expect(reversed.code).toBe(2);
    expect(reversed.stderr).toContain("--to 2026-07-26 is before --from 2026-07-27");
    const missing = await run("cli.ts", ["import:history", "--from", "2026-07-27"], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--to <date>.*not specified/);
    expect(await intakeRows()).toEqual([]);
  });

  it("takes bodies from raw, id/hash only for what raw lacks, at the backfill tier, checked against totals; skips stored kills", async () => {
    const days = ["2026-07-26", "2026-07-27"];
    const totals = await getJson<Record<string, number>>("/history/totals.json");
    const r2z2 = await Promise.all(days.map(r2z2Day));
    const all = new Map(r2z2.flatMap((d) => [...d.hashes]));
    const withBody = new Set(r2z2.flatMap((d) => [...d.withBody]));
    expect(withBody.size).toBeLessThan(all.size); // the simulator's raw files lack some kills

    // Two kills are already stored: one with a raw body, one without.
    const ids = [...all.keys()].sort((a, b) => a - b);
    const stored = [ids.find((id) => withBody.has(id))!, ids.find((id) => !withBody.has(id))!];
    await storeSimKills(stored.map((id) => sim.world.killmailById(id)!));

    const res = await importHistory(days[0]!, days[1]!);
    expect(res.code, res.stderr).toBe(0);
    const result = parseJson<ImportResult>(res.stdout, res.stderr);
    expect(result.days).toEqual(
      days.map((day, i) => ({
        day,
        expected: totals[day.replaceAll("-", "")],
        withBody: r2z2[i]!.withBody.size,
        idHashOnly: r2z2[i]!.hashes.size - r2z2[i]!.withBody.size,
        missing: 0,
        invalid: 0,
        status: "imported",
      })),
    );
    expect(result.counts).toEqual({
      read: all.size,
      alreadyStored: 2,
      enqueued: all.size - 2,
      alreadyQueued: 0,
      bodyless: all.size - withBody.size,
      invalid: 0,
    });

    // The ledger: every kill not stored, with its hash; a body exactly where raw had one.
    const rows = await intakeRows();
    const open = ids.filter((id) => !stored.includes(id));
    expect(rows.map((r) => r.id)).toEqual(open);
    for (const r of rows) {
      expect(r).toEqual({ id: r.id, hash: all.get(r.id), source: "history", priority: Priority.backfill, hasBody: withBody.has(r.id) });
    }
    // The jobs: every open kill once, LOW priority; kills with their raw body travel in batch jobs, the
    // others alone (the worker fetches their body from ESI).
    const queued = await queuedKills();
    expect(queued.map((k) => k.killmailId)).toEqual(open);
    for (const k of queued) {
      expect(k.priority).toBe(Priority.backfill);
      expect(k.hash).toBe(all.get(k.killmailId));
      expect(k.inBatch).toBe(withBody.has(k.killmailId));
      expect(k.esi).toEqual(withBody.has(k.killmailId) ? sim.world.killmailById(k.killmailId)!.esi : undefined);
    }
    expect(new Set(queued.filter((k) => k.inBatch).map((k) => k.jobId)).size).toBeLessThan(withBody.size / 10);
    const cursor = await readCursor<HistoryCursor>(historyCursorName(days[0]!));
    expect(cursor).toMatchObject({ done: true, report: { status: "imported" } });
  });

  it("re-running enqueues nothing new: finished days are skipped, --force re-reads them into the intake's de-duplication", async () => {
    const before = await queuedKills();
    const again = await importHistory("2026-07-26", "2026-07-27");
    expect(again.code).toBe(0);
    const skipped = parseJson<ImportResult>(again.stdout, again.stderr);
    expect(skipped.days.map((d) => d.status)).toEqual(["done-earlier", "done-earlier"]);
    expect(skipped.counts).toMatchObject({ read: 0, enqueued: 0 });

    const forced = await importHistory("2026-07-26", "2026-07-27", "--force");
    expect(forced.code).toBe(0);
    const reread = parseJson<ImportResult>(forced.stdout, forced.stderr);
    expect(reread.days.map((d) => d.status)).toEqual(["imported", "imported"]);
    expect(reread.counts).toMatchObject({ read: before.length + 2, alreadyStored: 2, enqueued: 0, alreadyQueued: before.length });
    expect(await queuedKills()).toEqual(before);
    expect((await intakeRows()).length).toBe(before.length);
  });

  it("resumes a day after SIGKILL without gaps or duplicates", async () => {
    const day = "2026-07-28";
    const { hashes } = await r2z2Day(day);
    const pendingBefore = (await intakeRows()).length;
    // A tiny queue threshold makes the import stop mid-day (waiting for room) where we can kill it.
    const first = start(
      "cli.ts",
      ["import:history", "--from", day, "--to", day, "--batch", "50", "--max-pending", String(pendingBefore + 100)],
      env,
    );
    await first.waitFor("waiting for the workers to drain it");
    first.child.kill("SIGKILL");
    await first.result;
    const cursor = (await readCursor<HistoryCursor>(historyCursorName(day)))!;
    expect(cursor.done).toBe(false);
    expect(cursor.afterId).toBeGreaterThan(0);
    const handedIn = [...hashes.keys()].filter((id) => id <= cursor.afterId!).length;
    expect(handedIn).toBeGreaterThanOrEqual(100);
    expect(handedIn).toBeLessThan(hashes.size);

    const second = await importHistory(day, day);
    expect(second.code, second.stderr).toBe(0);
    const result = parseJson<ImportResult>(second.stdout, second.stderr);
    expect(result.days[0]).toMatchObject({ status: "imported", withBody: expect.any(Number), missing: 0 });
    expect(result.counts.read).toBe(hashes.size - handedIn); // resumed after the saved position
    const queued = await queuedKills();
    expect(queued.filter((k) => hashes.has(k.killmailId)).length).toBe(hashes.size);
    expect(new Set(queued.map((k) => k.killmailId)).size).toBe(queued.length);
    expect((await intakeRows()).filter((r) => hashes.has(r.id)).length).toBe(hashes.size);
  });

  it("a day R2Z2 keeps failing is reported, exits 1, and the next run imports it", async () => {
    const day = "2026-07-29";
    sim.setFaults({ service: "r2z2", path: "20260729", errorRate: 1, errorStatuses: [503] });
    const failed = await importHistory(day, day);
    expect(failed.code).toBe(1);
    const report = parseJson<ImportResult>(failed.stdout, failed.stderr);
    expect(report.days[0]).toMatchObject({ day, status: "failed", error: expect.stringMatching(/503/) });
    sim.setFaults([]);
    const retried = await importHistory(day, day);
    expect(retried.code).toBe(0);
    const { hashes } = await r2z2Day(day);
    expect(parseJson<ImportResult>(retried.stdout, retried.stderr).counts).toMatchObject({ read: hashes.size, enqueued: hashes.size });
  });

  it("backpressure: pauses while the killmail queue is above the threshold and resumes as a worker drains it", async () => {
    await getQueue("killmail").obliterate({ force: true }); // start from an empty queue
    await sql()`delete from killmail_intake`;
    const importer = start(
      "cli.ts",
      ["import:history", "--from", "2026-07-26", "--to", "2026-07-27", "--force", "--batch", "50", "--max-pending", "100", "--json"],
      env,
    );
    await importer.waitFor("waiting for the workers to drain it");
    // Paused: at most the threshold plus one batch of kills wait to be stored, and the import is not finished.
    expect((await queuedKills()).length).toBeLessThanOrEqual(150);
    expect((await intakeRows()).length).toBeLessThanOrEqual(150);
    expect(importer.child.exitCode).toBeNull();

    const worker = start("queue.ts", ["killmail", "--summary-interval", "0"], {
      ...env,
      QUEUE_KILLMAIL_CONCURRENCY: "50",
      STORE_TRANSACTION_KILLS: "50",
    });
    const first = await Promise.race([importer.result.then((r) => ({ importer: r })), worker.result.then((r) => ({ worker: r }))]);
    if ("worker" in first)
      throw new Error(`the killmail worker exited (${first.worker.code}) before the import finished:\n${first.worker.stderr.slice(-2000)}`);
    const done = first.importer;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stderr).toMatch(/resuming/);
    const result = parseJson<ImportResult>(done.stdout, done.stderr);
    expect(result.pauses).toBeGreaterThanOrEqual(1);
    const total = result.days.reduce((n, d) => n + d.withBody + d.idHashOnly, 0);
    expect(result.counts.enqueued + result.counts.alreadyStored).toBe(total);
    // The worker stores everything (bodies from the import, the rest fetched from the simulator's ESI).
    await until(async () => (await sql()`select count(*)::int as n from killmails`)[0]!.n === total, 60_000, "all kills stored");
    worker.child.kill("SIGTERM");
    await worker.result;
  }, 90_000);
});
