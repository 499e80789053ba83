// Value backfills end to end: each mode rewrites exactly the kills it names (never valued, valued at 0,
// flagged, all) and leaves the others alone; a job re-checks its mode when it runs; `bun cli
// backfill:values` as a real process (summary, progress, exit code); a `bun queue backfill` worker
// SIGKILLed mid-run, restarted and the command rerun: every kill valued once, exactly as a clean
// recompute values it; reconcile re-enqueues the ranges Redis lost; `bun cli verify:values` counts and
// histogram; the flagged scheduler.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { seedKills } from "../bench/backfill-seed.ts";
import { startValuesRun } from "../server/backfill/values-run.ts";
import { sql } from "../server/db/client.ts";
import { valueRange } from "../server/killmails/values.ts";
import { reconcile } from "../server/outbox/reconcile.ts";
import { getQueue } from "../server/queues/queue.ts";
import { useTestDatabase } from "./support/database.ts";
import { useTestQueues } from "./support/isolation.ts";
import { until } from "./support/poll.ts";
import { killAll, run, start } from "./support/spawn.ts";

const queues = useTestQueues("backfill");
const database = useTestDatabase("backfill");
afterEach(killAll);

const env = {
  ...queues.env,
  ...database.env,
  LOG_LEVEL: "info",
  QUEUE_BACKFILL_LOCK_SECONDS: "2",
  // No default schedulers: the flagged one would revalue kills in the middle of these tests.
  DEFAULT_SCHEDULERS: "off",
};

const startWorker = (extra: Record<string, string> = {}) =>
  start("queue.ts", ["backfill", "--no-services", "--summary-interval", "0"], { ...env, ...extra });

async function stopWorker(w: ReturnType<typeof startWorker>): Promise<void> {
  w.child.kill("SIGTERM");
  await w.result;
}

interface ValueRow {
  killmail_id: number;
  total_value: string;
  destroyed_value: string;
  dropped_value: string;
  fitted_value: string;
  unpriced_count: number;
  is_solo: boolean;
  is_awox: boolean;
  revalue: boolean;
}

/** killmail_values rows of an id range, without valued_at (which says when, not what). */
async function valueRows(lo: number, hi: number): Promise<ValueRow[]> {
  return sql()<ValueRow[]>`
    select killmail_id, total_value, destroyed_value, dropped_value, fitted_value, unpriced_count, is_solo, is_awox, revalue
    from killmail_values where killmail_id between ${lo} and ${hi} order by killmail_id`;
}

/** What a clean run values the range as: recomputed from scratch, then the range's rows restored. */
async function cleanRecompute(lo: number, hi: number): Promise<ValueRow[]> {
  return sql()
    .begin(async (tx) => {
      await tx`delete from killmail_values where killmail_id between ${lo} and ${hi}`;
      await valueRange(tx, { fromId: lo, toId: hi, mode: "all" });
      const rows = await tx<ValueRow[]>`
        select killmail_id, total_value, destroyed_value, dropped_value, fitted_value, unpriced_count, is_solo, is_awox, revalue
        from killmail_values where killmail_id between ${lo} and ${hi} order by killmail_id`;
      throw Object.assign(new Error("rollback"), { rows });
    })
    .catch((err: { rows?: ValueRow[] }) => {
      if (!err.rows) throw err;
      return err.rows;
    });
}

async function runRow(runId: string) {
  const [row] = await sql()<{ status: string; total: number; done: number; updated: number; skipped: number; errors: number }[]>`
    select status, total, done, updated, skipped, errors from batch_runs where run_id = ${runId}`;
  return row!;
}

describe("modes", () => {
  const lo = 300_000_000;
  let hi = 0;
  let correct = new Map<number, ValueRow>();

  beforeAll(async () => {
    const seeded = await seedKills(sql(), { kills: 1200, firstId: lo });
    hi = seeded.toId;
    await valueRange(sql(), { fromId: lo, toId: hi, mode: "all" });
    correct = new Map((await valueRows(lo, hi)).map((r) => [r.killmail_id, r]));
    // Every kill by id mod 6: 0 never valued, 1 valued at 0, 2 wrong value, 3 wrong value flagged, 4–5 correct.
    await sql()`delete from killmail_values where killmail_id between ${lo} and ${hi} and killmail_id % 6 = 0`;
    await sql()`update killmail_values set total_value = 0, destroyed_value = 0, dropped_value = 0, revalue = false
                where killmail_id between ${lo} and ${hi} and killmail_id % 6 = 1`;
    await sql()`update killmail_values set total_value = 123.45, revalue = false
                where killmail_id between ${lo} and ${hi} and killmail_id % 6 = 2`;
    await sql()`update killmail_values set total_value = 999, revalue = true
                where killmail_id between ${lo} and ${hi} and killmail_id % 6 = 3`;
  });

  /** Runs a backfill through a real worker and returns the ids whose values were written. */
  async function backfill(mode: "null" | "zero" | "flagged" | "all"): Promise<{ written: number[]; expected: number[] }> {
    const predicate = {
      null: sql()`v.killmail_id is null`,
      zero: sql()`v.total_value = 0`,
      flagged: sql()`v.revalue`,
      all: sql()`true`,
    }[mode];
    const expected = (
      await sql()<{ id: number }[]>`
        select k.killmail_id as id from killmails k left join killmail_values v on v.killmail_id = k.killmail_id
        where k.killmail_id between ${lo} and ${hi} and ${predicate} order by 1`
    ).map((r) => r.id);
    await sql()`update killmail_values set valued_at = '2000-01-01' where killmail_id between ${lo} and ${hi}`;
    const worker = startWorker();
    const result = await run(
      "cli.ts",
      ["backfill:values", `--mode=${mode}`, "--from-id", String(lo), "--to-id", String(hi), "--range-size", "100", "--json"],
      env,
    );
    await stopWorker(worker);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as { status: string; updated: number; skipped: number; errors: number };
    expect(summary).toMatchObject({ status: "done", updated: expected.length, skipped: 0, errors: 0 });
    const written = (
      await sql()<{ id: number }[]>`
        select killmail_id as id from killmail_values where killmail_id between ${lo} and ${hi} and valued_at > '2000-01-02' order by 1`
    ).map((r) => r.id);
    return { written, expected };
  }

  it("null values exactly the kills without values, zero the kills valued 0, flagged the flagged ones, all every kill", async () => {
    const ids = [...correct.keys()];
    const byResidue = (r: number) => ids.filter((id) => id % 6 === r);

    const nulls = await backfill("null");
    expect(nulls.expected).toEqual(byResidue(0));
    expect(nulls.written).toEqual(nulls.expected);
    // The kills valued 0, wrong or flagged are untouched by `null`.
    const after = new Map((await valueRows(lo, hi)).map((r) => [r.killmail_id, r]));
    for (const id of byResidue(0)) expect(after.get(id)).toEqual(correct.get(id));
    for (const id of byResidue(2)) expect(after.get(id)!.total_value).toBe("123.45");

    const zeros = await backfill("zero");
    // Residue 1, plus kills whose correct value is 0 (unpriced ship, no items).
    const naturalZeros = ids.filter((id) => correct.get(id)!.total_value === "0.00" && id % 6 !== 2 && id % 6 !== 3);
    expect(zeros.expected).toEqual([...new Set([...byResidue(1), ...naturalZeros])].sort((a, b) => a - b));
    expect(zeros.written).toEqual(zeros.expected);
    for (const id of byResidue(1)) expect((await valueRows(id, id))[0]).toEqual(correct.get(id));
    expect((await valueRows(lo, hi)).filter((r) => r.killmail_id % 6 === 2).every((r) => r.total_value === "123.45")).toBe(true);

    const flagged = await backfill("flagged");
    // Residue 3, plus kills flagged by their own valuation (unpriced rows), which stay flagged.
    const naturallyFlagged = ids.filter((id) => correct.get(id)!.revalue);
    expect(naturallyFlagged.length).toBeGreaterThan(0);
    expect(flagged.expected).toEqual(
      [...new Set([...byResidue(3), ...naturallyFlagged.filter((id) => id % 6 !== 2)])].sort((a, b) => a - b),
    );
    expect(flagged.written).toEqual(flagged.expected);
    for (const id of byResidue(3)) expect((await valueRows(id, id))[0]).toEqual(correct.get(id));
    expect((await valueRows(lo, hi)).filter((r) => r.killmail_id % 6 === 2).every((r) => r.total_value === "123.45")).toBe(true);

    const all = await backfill("all");
    expect(all.written).toEqual(ids);
    expect(await valueRows(lo, hi)).toEqual([...correct.values()]);
  }, 120_000);
});

describe("worker re-check", () => {
  it("skips a kill valued after its job was queued, and counts it as skipped", async () => {
    const lo = 310_000_000;
    const seeded = await seedKills(sql(), { kills: 40, firstId: lo });
    const started = await startValuesRun(sql(), { mode: "null", fromId: lo, toId: seeded.toId }, { rangeSize: 1000 });
    expect(started).toMatchObject({ created: true, ranges: 1, enqueued: 1 });
    expect(started.run.total).toBe(40);
    // Meanwhile (before any worker runs) three of the kills get values, as a live ingest would write them.
    const valuedMeanwhile = await valueRange(sql(), { fromId: lo, toId: lo + 5, mode: "null" });
    expect(valuedMeanwhile).toBe(3);
    await sql()`update killmail_values set valued_at = '2000-01-01' where killmail_id between ${lo} and ${lo + 5}`;

    const worker = startWorker();
    await until(async () => (await runRow(started.run.runId)).status !== "running", 30_000, "the run to finish");
    await stopWorker(worker);
    expect(await runRow(started.run.runId)).toMatchObject({ status: "done", total: 40, done: 40, updated: 37, skipped: 3, errors: 0 });
    const [rewritten] = await sql()<{ n: number }[]>`
      select count(*)::int as n from killmail_values where killmail_id between ${lo} and ${lo + 5} and valued_at > '2000-01-02'`;
    expect(rewritten!.n).toBe(0);
    const completed = await getQueue("backfill").getCompleted();
    const job = completed.find((j) => (j.data as { runId?: string }).runId === started.run.runId);
    expect(job?.returnvalue).toEqual({ updated: 37, skipped: 3 });
  }, 60_000);
});

describe("reconcile", () => {
  it("re-enqueues the range jobs of a running run that Redis lost, and the run then finishes", async () => {
    const lo = 315_000_000;
    const seeded = await seedKills(sql(), { kills: 300, firstId: lo });
    const started = await startValuesRun(sql(), { mode: "null", fromId: lo, toId: seeded.toId }, { rangeSize: 100 });
    expect(started).toMatchObject({ created: true, ranges: 3, enqueued: 3 });
    // Redis loses the queue (a FLUSHALL, say) before any worker took a range.
    await getQueue("backfill").obliterate({ force: true });
    expect(await reconcile()).toMatchObject({ valueRunsChecked: 1, rangesRequeued: 3 });
    // Everything is queued again: a second reconcile adds nothing.
    expect(await reconcile()).toMatchObject({ rangesRequeued: 0 });

    const worker = startWorker();
    await until(async () => (await runRow(started.run.runId)).status !== "running", 30_000, "the run to finish");
    await stopWorker(worker);
    expect(await runRow(started.run.runId)).toMatchObject({ status: "done", total: 300, done: 300, updated: 300, errors: 0 });
    const [row] = await sql()<
      { n: number }[]
    >`select count(*)::int as n from killmail_values where killmail_id between ${lo} and ${seeded.toId}`;
    expect(row!.n).toBe(300);
  }, 60_000);
});

describe("bun cli backfill:values", () => {
  it("values the never-valued kills, shows progress on stderr and a summary, exits 0", async () => {
    const lo = 320_000_000;
    const seeded = await seedKills(sql(), { kills: 500, firstId: lo });
    const worker = startWorker();
    const result = await run(
      "cli.ts",
      ["backfill:values", "--mode=null", "--from-id", String(lo), "--to-id", String(seeded.toId), "--range-size", "200"],
      env,
    );
    await stopWorker(worker);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/run null-\w+: 500 kills in 3 ranges; 3 jobs enqueued/);
    expect(result.stderr).toContain("kills: 500/500 (100%)");
    expect(result.stdout).toMatch(
      /^run null-\w+ \(null\): done\nupdated 500, skipped 0, errors 0 \(0 failed ranges\)\n500 kills in \d+s: \d+ kills\/s\n$/,
    );
    const [row] = await sql()<
      { n: number }[]
    >`select count(*)::int as n from killmail_values where killmail_id between ${lo} and ${seeded.toId}`;
    expect(row!.n).toBe(500);

    // Nothing is left to do: a second run plans no range and is done at once.
    const again = await run(
      "cli.ts",
      ["backfill:values", "--mode=null", "--from-id", String(lo), "--to-id", String(seeded.toId), "--json"],
      env,
    );
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: "done", total: 0, updated: 0 });
  }, 60_000);

  it("rejects a bad mode with exit 2", async () => {
    const result = await run("cli.ts", ["backfill:values", "--mode=some"], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Allowed choices are null, zero, all, flagged");
  });
});

describe("a range that fails for good", () => {
  it("is reported in the summary with exit code 1; rerunning the command retries it and finishes the run", async () => {
    const lo = 325_000_000;
    const seeded = await seedKills(sql(), { kills: 300, firstId: lo });
    const [poisoned] = await sql()<{ id: number }[]>`
      select killmail_id as id from killmails where killmail_id between ${lo} and ${seeded.toId} order by 1 offset 150 limit 1`;
    // A real database error for one kill (as a broken row or constraint would raise), not a mock.
    await sql().unsafe(`
      create function reject_poisoned_value() returns trigger language plpgsql as $$
      begin
        if new.killmail_id = ${poisoned!.id} then raise exception 'cannot value kill %', new.killmail_id; end if;
        return new;
      end $$;
      create trigger reject_poisoned before insert on killmail_values_p32 for each row execute function reject_poisoned_value();`);
    const args = ["backfill:values", "--mode=null", "--from-id", String(lo), "--to-id", String(seeded.toId), "--range-size", "100"];
    const worker = startWorker();
    const failed = await run("cli.ts", args, env);
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.stdout).toMatch(/^run null-\w+ \(null\): failed$/m);
    expect(failed.stdout).toContain("updated 200, skipped 0, errors 100 (1 failed range)");
    expect(failed.stdout).toMatch(new RegExp(`^  failed range \\d+–\\d+ \\(100 kills\\): cannot value kill ${poisoned!.id}$`, "m"));
    const [range] = await sql()<{ status: string; attempts: number }[]>`
      select status, attempts from batch_ranges where from_id <= ${poisoned!.id} and to_id >= ${poisoned!.id}`;
    // A database error the data causes is permanent: the range failed on its first attempt, without retries.
    expect(range).toEqual({ status: "failed", attempts: 1 });

    await sql().unsafe(`drop trigger reject_poisoned on killmail_values_p32`);
    const rerun = await run("cli.ts", [...args, "--json"], env);
    await stopWorker(worker);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toMatch(
      /resumed run null-\w+: 300 kills in 3 ranges, 200 kills already done, 1 ranges to do \(1 failed range retried\)/,
    );
    expect(JSON.parse(rerun.stdout)).toMatchObject({ status: "done", total: 300, done: 300, updated: 300, skipped: 0, errors: 0 });
  }, 120_000);
});

describe("crash mid-run", () => {
  it("a worker SIGKILLed mid-run, restarted, and the command rerun: every kill valued once, as a clean run values it", async () => {
    const lo = 330_000_000;
    const seeded = await seedKills(sql(), { kills: 30_000, firstId: lo });
    const hi = seeded.toId;
    const args = ["backfill:values", "--mode=all", "--from-id", String(lo), "--to-id", String(hi), "--range-size", "300"];
    const first = startWorker();
    await first.waitFor("worker started");
    const enqueued = await run("cli.ts", [...args, "--no-wait", "--json"], env);
    expect(enqueued.code, enqueued.stderr).toBe(0);
    const { runId, ranges } = JSON.parse(enqueued.stdout) as { runId: string; ranges: number };
    expect(ranges).toBe(100);
    await until(async () => (await runRow(runId)).done >= 3000, 60_000, "a few ranges done");
    first.child.kill("SIGKILL");
    await first.result;
    const atCrash = await runRow(runId);
    expect(atCrash.status).toBe("running");
    expect(atCrash.done).toBeLessThan(30_000);

    const second = startWorker();
    const rerun = await run("cli.ts", [...args, "--json"], env);
    await stopWorker(second);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain(`resumed run ${runId}`);
    expect(JSON.parse(rerun.stdout)).toMatchObject({
      runId,
      status: "done",
      total: 30_000,
      done: 30_000,
      updated: 30_000,
      skipped: 0,
      errors: 0,
    });

    // Every range done once, their counts add up to every kill once; no job left behind.
    const [ranges2] = await sql()<{ done: number; updated: number; n: number }[]>`
      select count(*) filter (where status = 'done')::int as done, sum(updated)::int as updated, count(*)::int as n
      from batch_ranges where run_id = ${runId}`;
    expect(ranges2).toEqual({ done: 100, updated: 30_000, n: 100 });
    // (A job may still be counted failed by BullMQ's stall check under load while its range committed:
    // the ranges, not the jobs, are the record.)
    // Every kill has values, exactly those of a clean recompute.
    const stored = await valueRows(lo, hi);
    expect(stored.length).toBe(30_000);
    expect(stored).toEqual(await cleanRecompute(lo, hi));
  }, 180_000);
});

describe("bun cli verify:values", () => {
  it("counts valued, not valued, zero and flagged kills and draws the value histogram", async () => {
    const lo = 340_000_000;
    // Kills of their own days, so the date filter isolates them from the other tests' kills.
    const seeded = await seedKills(sql(), { kills: 600, firstId: lo, firstDay: "2024-03-01", days: 2 });
    await valueRange(sql(), { fromId: lo, toId: seeded.toId, mode: "all" });
    const ids = (
      await sql()<{ id: number }[]>`
      select killmail_id as id from killmails where killmail_id between ${lo} and ${seeded.toId} order by 1`
    ).map((r) => r.id);
    await sql()`delete from killmail_values where killmail_id in ${sql()(ids.slice(0, 40))}`;
    await sql()`update killmail_values set total_value = 0, revalue = false where killmail_id in ${sql()(ids.slice(40, 60))}`;
    await sql()`update killmail_values set total_value = 2500000000000 where killmail_id = ${ids[60]!}`;
    const [expected] = await sql()<{ valued: number; zero: number; flagged: number; unpriced: number; trillion: number; b10: number }[]>`
      select count(*)::int as valued, count(*) filter (where total_value = 0)::int as zero,
             count(*) filter (where revalue)::int as flagged, count(*) filter (where unpriced_count > 0)::int as unpriced,
             count(*) filter (where total_value >= 1e12)::int as trillion,
             count(*) filter (where total_value >= 1e9 and total_value < 1e10)::int as b10
      from killmail_values where killmail_id between ${lo} and ${seeded.toId}`;

    const json = await run("cli.ts", ["verify:values", "--from-date", "2024-03-01", "--to-date", "2024-03-02", "--json"], env);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as {
      totals: Record<string, number | string>;
      histogram: { label: string; kills: number }[];
    };
    expect(report.totals).toMatchObject({
      kills: 600,
      valued: 560,
      notValued: 40,
      zero: expected!.zero,
      flagged: expected!.flagged,
      unpriced: expected!.unpriced,
    });
    expect(expected!.zero).toBeGreaterThanOrEqual(20);
    expect(report.histogram.map((b) => b.label)).toEqual([
      "0",
      "<1k",
      "1k–10k",
      "10k–100k",
      "100k–1M",
      "1M–10M",
      "10M–100M",
      "100M–1B",
      "1B–10B",
      "10B–100B",
      "100B–1T",
      "≥1T",
    ]);
    expect(report.histogram.reduce((n, b) => n + b.kills, 0)).toBe(560);
    const bucket = (label: string) => report.histogram.find((b) => b.label === label)!.kills;
    expect(bucket("0")).toBe(expected!.zero);
    expect(bucket("≥1T")).toBe(expected!.trillion);
    expect(bucket("1B–10B")).toBe(expected!.b10);

    const text = await run("cli.ts", ["verify:values", "--from-date", "2024-03-01", "--to-date", "2024-03-02"], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^all\s+600\s+100\.0%$/m);
    expect(text.stdout).toMatch(/^not valued\s+40\s+6\.7%$/m);
    expect(text.stdout).toMatch(new RegExp(`^≥1T\\s+${expected!.trillion}\\b`, "m"));
  }, 60_000);
});

describe("flagged scheduler", () => {
  it("bun queue backfill registers the flagged scheduler, whose job plans a run of the flagged kills; backfill:schedule changes or removes it", async () => {
    const lo = 350_000_000;
    const seeded = await seedKills(sql(), { kills: 200, firstId: lo });
    await valueRange(sql(), { fromId: lo, toId: seeded.toId, mode: "all" });
    const flaggedBefore = (await sql()<{ n: number }[]>`select count(*)::int as n from killmail_values where revalue`)[0]!.n;
    expect(flaggedBefore).toBeGreaterThan(0);
    const flaggedScheduler = async () =>
      (await getQueue("backfill").getJobSchedulers(0, -1, true)).filter((s) => (s.id ?? s.key) === "backfill-values-flagged");

    // The worker creates its queue's default schedulers; the flagged one's first job is due at once.
    const worker = startWorker({ DEFAULT_SCHEDULERS: "on" });
    await until(
      async () => (await sql()`select 1 from batch_runs where params->>'source' = 'scheduler' and status = 'done'`).length > 0,
      30_000,
      "the scheduled flagged run",
    );
    await stopWorker(worker);
    const [registered] = await flaggedScheduler();
    expect(Number(registered!.every)).toBe(600_000);
    expect(registered!.template?.data).toEqual({ task: "values-run", mode: "flagged" });
    const runs = await sql()<{ total: number; updated: number; params: { mode: string } }[]>`
      select total, updated, params from batch_runs where params->>'source' = 'scheduler'`;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ total: flaggedBefore, updated: flaggedBefore, params: { mode: "flagged" } });

    for (let i = 0; i < 2; i++) {
      const sched = await run("cli.ts", ["backfill:schedule", "--every", "30"], env);
      expect(sched.code).toBe(0);
      expect(sched.stdout).toContain("scheduler backfill-values-flagged: flagged value backfill every 30 min");
    }
    const changed = await flaggedScheduler();
    expect(changed).toHaveLength(1);
    expect(Number(changed[0]!.every)).toBe(1_800_000);

    const removed = await run("cli.ts", ["backfill:schedule", "--remove"], env);
    expect(removed.stdout).toContain("removed scheduler backfill-values-flagged");
    expect(await flaggedScheduler()).toHaveLength(0);
  }, 60_000);
});
