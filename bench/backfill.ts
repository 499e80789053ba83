// `bun run bench:backfill [--killmails N] [--workers W] [--concurrency C] [--range-size R]
// [--floor-killmails F] [--revalue] [--keep]`: throughput of the `all` value backfill through the queue.
// Seeds N kills with items and attackers (plus types, groups and daily prices) straight into a fresh
// database with set-based SQL, then measures, in the same run:
//   - the raw floors: one valueRange statement over the first F kills on one connection, the same F
//     kills as ranges of R on C connections without any queue, and BullMQ with a no-op worker;
//   - the real thing: `bun cli backfill:values --mode=all` with W `bun queue backfill` worker processes
//     (concurrency C each), from the command's start (planning included) to its summary.
// --revalue seeds a values row for every kill first, so the backfill updates rows instead of inserting.
// Own database and BullMQ prefix, removed afterwards (--keep keeps them). Prints one JSON line last.
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { Queue, Worker } from "bullmq";
import type { Sql } from "postgres";
import { DEFAULT_RANGE_SIZE } from "../server/backfill/values-run.ts";
import { closeDb, createSql } from "../server/db/client.ts";
import { closeRedis, createRedis } from "../server/helpers/redis.ts";
import { valueRange } from "../server/killmails/values.ts";
import { QUEUES } from "../server/queues/registry.ts";
import { seedKills } from "./backfill-seed.ts";
import { benchEnvironment, flag, numberOption, rate, say, spawnEntry } from "./support.ts";

const N = numberOption("killmails", 1_000_000);
const WORKERS = numberOption("workers", 1);
const CONCURRENCY = numberOption("concurrency", QUEUES.backfill.worker.concurrency);
const RANGE = numberOption("range-size", DEFAULT_RANGE_SIZE);
const FLOOR_N = Math.min(N, numberOption("floor-killmails", 200_000));
const revalue = flag("revalue");
const FIRST_ID = 100_000_000;

const secs = (ms: number) => Math.round(ms / 100) / 10;

// ---- isolated database and prefix --------------------------------------------------------------
const bench = await benchEnvironment("backfill");
const { database, prefix, url } = bench;
await closeDb();
const sql = createSql(url, { max: Math.max(4, CONCURRENCY) });

say(
  `bench:backfill — ${N} killmails, ${WORKERS} worker process(es) × concurrency ${CONCURRENCY}, ranges of ${RANGE}, database ${database}`,
);

// ---- seed ---------------------------------------------------------------------------------------
let t = performance.now();
const seeded = await seedKills(sql, { kills: N, firstId: FIRST_ID, parallel: 2, rebuildIndexes: true });
const seedMs = performance.now() - t;
say(
  `seeded ${seeded.kills} kills, ${seeded.items} items (${(seeded.items / N).toFixed(1)}/kill), ${seeded.attackers} attackers in ${secs(seedMs)} s`,
);

/** Values rows for every kill (zeros), as a database that was valued before has them. */
async function seedValueRows(db: Sql): Promise<void> {
  await db`truncate killmail_values`;
  if (revalue) {
    await db`insert into killmail_values (killmail_id, total_value, destroyed_value, dropped_value, fitted_value,
               unpriced_count, is_solo, is_awox) select killmail_id, 0, 0, 0, 0, 0, false, false from killmails`;
  }
  await db`vacuum analyze`;
  await db`checkpoint`;
}
t = performance.now();
await seedValueRows(sql);
say(`vacuum analyze${revalue ? " (values rows seeded)" : ""}: ${secs(performance.now() - t)} s`);

// ---- raw floors -------------------------------------------------------------------------------------
const floorIds = await sql<{ id: number }[]>`
  select killmail_id as id from killmails order by killmail_id offset ${FLOOR_N - 1} limit 1`;
const floorHi = floorIds[0]!.id;

t = performance.now();
// valueRange applies its own session settings (work_mem, jit) in its own transaction, as in a job.
const single = await valueRange(sql, { fromId: FIRST_ID, toId: floorHi, mode: "all" });
const singleMs = performance.now() - t;
say(`raw floor, one valueRange statement on one connection: ${single} kills in ${secs(singleMs)} s = ${rate(single, singleMs)}/s`);
await seedValueRows(sql);

const floorRanges = await sql<{ lo: number; hi: number }[]>`
  select min(killmail_id) as lo, max(killmail_id) as hi
  from (select killmail_id, (row_number() over (order by killmail_id) - 1) / ${RANGE} as b
        from killmails where killmail_id <= ${floorHi}) x group by b order by 1`;
t = performance.now();
let parallelDone = 0;
let next = 0;
await Promise.all(
  Array.from({ length: CONCURRENCY * WORKERS }, async () => {
    while (next < floorRanges.length) {
      const r = floorRanges[next++]!;
      const n = await valueRange(sql, { fromId: r.lo, toId: r.hi, mode: "all" });
      parallelDone += n;
    }
  }),
);
const parallelMs = performance.now() - t;
say(
  `raw floor, ranges of ${RANGE} on ${CONCURRENCY * WORKERS} connections, no queue: ${parallelDone} kills in ${secs(parallelMs)} s = ${rate(parallelDone, parallelMs)}/s`,
);
await seedValueRows(sql);

async function bullmqFloor(jobs: number): Promise<number> {
  const connection = createRedis();
  const queue = new Queue("floor", { connection, prefix });
  const t0 = performance.now();
  const all = Array.from({ length: jobs }, (_, i) => ({ name: "noop", data: { i }, opts: { priority: 10, removeOnComplete: true } }));
  for (let i = 0; i < all.length; i += 1000) await queue.addBulk(all.slice(i, i + 1000));
  let done = 0;
  await new Promise<void>((resolveDone) => {
    const worker = new Worker("floor", async () => {}, { connection: createRedis(), prefix, concurrency: CONCURRENCY });
    worker.on("completed", () => {
      if (++done === jobs) void worker.close().then(resolveDone);
    });
  });
  const ms = performance.now() - t0;
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return rate(jobs, ms);
}
const noop = await bullmqFloor(10_000);
say(`raw floor, BullMQ add + no-op worker (concurrency ${CONCURRENCY}): ${noop} jobs/s`);

// ---- through the queue ---------------------------------------------------------------------------
const env = {
  DATABASE_URL: url,
  QUEUE_PREFIX: prefix,
  LOG_LEVEL: "warn",
  QUEUE_BACKFILL_CONCURRENCY: String(CONCURRENCY),
};
const workers = Array.from({ length: WORKERS }, () =>
  spawnEntry("queue.ts", ["backfill", "--no-services", "--summary-interval", "0"], { ...env, LOG_LEVEL: "info" }),
);
await Promise.all(workers.map((w) => w.waitFor("worker started")));

interface Summary {
  status: string;
  total: number;
  updated: number;
  errors: number;
  seconds: number;
  killmailsPerSecond: number;
}
t = performance.now();
const cli = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolveRun) => {
  const child = spawn(
    process.execPath,
    [resolve(import.meta.dirname, "../cli.ts"), "backfill:values", "--mode=all", "--range-size", String(RANGE), "--json"],
    {
      cwd: resolve(import.meta.dirname, ".."),
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
    process.stderr.write(`  cli: ${d.toString().trimEnd().replace(/\n/g, "\n  cli: ")}\n`);
  });
  child.on("close", (code) => resolveRun({ code, stdout, stderr }));
});
const queueMs = performance.now() - t;
await Promise.all(workers.map((w) => w.stop()));
if (cli.code !== 0) {
  say(`backfill:values exited ${cli.code}:\n${cli.stdout}\n${cli.stderr}`);
}
const summary = JSON.parse(cli.stdout || "{}") as Partial<Summary>;
const [check] = await sql<{ values: number }[]>`select count(*)::int as values from killmail_values`;
say(
  `through the queue: ${N} kills in ${secs(queueMs)} s (planning included) = ${rate(N, queueMs)}/s; after planning ${summary.killmailsPerSecond}/s`,
);

// ---- clean up -----------------------------------------------------------------------------------
await sql.end();
await closeRedis();
await bench.drop();

const result = {
  bench: "backfill",
  killmails: N,
  items_per_killmail: Number((seeded.items / N).toFixed(1)),
  attackers_per_killmail: Number((seeded.attackers / N).toFixed(1)),
  values_rows_before: revalue ? "present (updates)" : "none (inserts)",
  worker_processes: WORKERS,
  concurrency: CONCURRENCY,
  range_size: RANGE,
  seed_s: secs(seedMs),
  killmails_per_s: rate(N, queueMs),
  killmails_per_s_after_planning: summary.killmailsPerSecond ?? null,
  raw_single_statement_floor_killmails_per_s: rate(single, singleMs),
  raw_single_statement_floor_killmails: single,
  raw_parallel_ranges_floor_killmails_per_s: rate(parallelDone, parallelMs),
  raw_bullmq_noop_floor_jobs_per_s: noop,
  valued: check!.values,
  status: summary.status ?? "error",
  mimalloc_purge_delay: process.env.MIMALLOC_PURGE_DELAY ?? "default",
};
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(cli.code === 0 && check!.values === N ? 0 : 1);
