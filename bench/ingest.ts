// `bun run bench:ingest [--killmails N] [--workers W] [--keep]`: end-to-end ingest throughput on this
// machine. Simulated kills (sim/ world) carry their ESI bodies, as the R2Z2 feed and the archives
// deliver them. Measures, in the same run: the raw BullMQ floor (addBulk + a no-op worker), the
// store-only floor (the same kills written by storeKillmails directly, no queue) and the pipeline — intake ledger +
// enqueue (this process) → `bun queue killmail` worker process(es) → validated → stored with
// attackers/items → valued → entity/type jobs fanned out through the outbox and de-duplicated.
// Uses its own database and BullMQ prefix, removed afterwards. Prints one JSON line last.

import { availableParallelism } from "node:os";
import { Queue, Worker } from "bullmq";
import { closeDb, sql } from "../server/db/client.ts";
import { config } from "../server/helpers/config.ts";
import { closeRedis, createRedis } from "../server/helpers/redis.ts";
import { referencesOf } from "../server/killmails/flatten.ts";
import { submitKillmails } from "../server/killmails/intake.ts";
import { storeKillmails } from "../server/killmails/store.ts";
import { closeQueues, getQueueStats } from "../server/queues/queue.ts";
import { simulatedKillmails } from "./kills.ts";
import { benchEnvironment, cpuPer, cpuSnapshot, numberOption, rate, say, spawnEntry } from "./support.ts";

const N = numberOption("killmails", 20_000);
const WORKERS = numberOption("workers", 1);

// ---- isolated database and prefix --------------------------------------------------------------
const bench = await benchEnvironment("ingest");
const { database, prefix, url } = bench;

// ---- raw floor: BullMQ with no work ---------------------------------------------------------------
async function floor(): Promise<{ addPerS: number; noopPerS: number; endToEndPerS: number }> {
  const connection = createRedis();
  const queue = new Queue("floor", { connection, prefix });
  const jobs = Array.from({ length: N }, (_, i) => ({ name: "noop", data: { i }, opts: { priority: 1, removeOnComplete: true } }));
  const t0 = performance.now();
  for (let i = 0; i < jobs.length; i += 1000) await queue.addBulk(jobs.slice(i, i + 1000));
  const added = performance.now();
  let done = 0;
  const finished = new Promise<void>((resolve) => {
    const worker = new Worker("floor", async () => {}, { connection: createRedis(), prefix, concurrency: 100 });
    worker.on("completed", () => {
      if (++done === N) void worker.close().then(resolve);
    });
  });
  await finished;
  const end = performance.now();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return { addPerS: rate(N, added - t0), noopPerS: rate(N, end - added), endToEndPerS: rate(N, end - t0) };
}

say(
  `bench:ingest — ${N} killmails, ${WORKERS} worker process(es), database ${database}, prefix ${prefix}, MIMALLOC_PURGE_DELAY=${process.env.MIMALLOC_PURGE_DELAY ?? "(Bun's default)"}`,
);
const raw = await floor();
say(`raw BullMQ floor: addBulk ${raw.addPerS}/s, no-op worker ${raw.noopPerS}/s, both ${raw.endToEndPerS}/s`);

// ---- the pipeline -------------------------------------------------------------------------------
say("generating kills from the simulator's world…");
const kills = simulatedKillmails(N);
const characters = new Set<number>();
const corporations = new Set<number>();
const alliances = new Set<number>();
const types = new Set<number>();
for (const k of kills) {
  const refs = referencesOf(k.esi);
  for (const id of refs.characters) characters.add(id);
  for (const id of refs.corporations) corporations.add(id);
  for (const id of refs.alliances) alliances.add(id);
  for (const id of refs.types) types.add(id);
}
const rows = kills.reduce((n, k) => n + 1 + k.esi.attackers.length + k.items, 0);
say(
  `kills: ${N}, ${(rows / N).toFixed(1)} rows per kill; naming ${characters.size} characters, ${corporations.size} corporations, ${alliances.size} alliances, ${types.size} types`,
);

// ---- store-only floor: the same kills through storeKillmails directly (no queue, no ledger, no relay) --
// Three transactions at a time, 500 kills each, as the worker's batcher writes them: what Postgres and
// the statement alone allow on this box right now. Emptied again before the pipeline runs.
async function storeFloor(): Promise<{ perS: number; cpu: ReturnType<typeof cpuPer> }> {
  const chunks: (typeof kills)[] = [];
  for (let i = 0; i < kills.length; i += 500) chunks.push(kills.slice(i, i + 500));
  const c0 = cpuSnapshot([]);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    [0, 1, 2].map(async () => {
      while (next < chunks.length)
        await storeKillmails(
          sql(),
          chunks[next++]!.map((k) => ({ esi: k.esi, hash: k.hash })),
        );
    }),
  );
  const result = { perS: rate(N, performance.now() - t0), cpu: cpuPer(N, c0, cpuSnapshot([])) };
  await sql()`truncate killmails, attackers, items, killmail_values, outbox`;
  return result;
}
// Each measured phase starts right after a checkpoint, so neither inherits the other's WAL (a checkpoint
// falling inside one phase, and the full-page images after it, would otherwise land on either by chance).
async function checkpoint(): Promise<void> {
  await sql()`checkpoint`.catch((err: Error) => say(`(no CHECKPOINT before the phase: ${err.message})`));
}
await checkpoint();
const storeOnly = await storeFloor();
say(
  `store-only floor (storeKillmails, 3 transactions of 500 at a time, no queue/ledger/relay): ${storeOnly.perS} kills/s; CPU per kill (µs): this process ${storeOnly.cpu.bench}, Postgres ${storeOnly.cpu.postgres}`,
);

const env = { DATABASE_URL: url, QUEUE_PREFIX: prefix, LOG_LEVEL: "info", ESI_USER_AGENT: "killboard-bench/1.0 bench@localhost" };
const workers = Array.from({ length: WORKERS }, () => spawnEntry("queue.ts", ["killmail", "--summary-interval", "0"], env));
await Promise.all(workers.map((w) => w.waitFor("worker started")));

await checkpoint();
const cpu0 = cpuSnapshot(workers.map((w) => w.pid));
const t0 = performance.now();
let producerMs = 0;
const producer = (async () => {
  // In day-file sized calls, as the importers hand them over.
  for (let i = 0; i < kills.length; i += 5000) {
    const chunk = kills.slice(i, i + 5000).map((k) => ({ killmailId: k.esi.killmail_id, hash: k.hash, esi: k.esi }));
    await submitKillmails(chunk, { source: "bench", batchJobKills: config().batchJobKills });
  }
  producerMs = performance.now() - t0;
})();

let stored = 0;
let lastReport = t0;
while (stored < N) {
  // count(*) costs Postgres ~2 ms: poll slowly until the end is near, then finely (≤ 50 ms late).
  await Bun.sleep(stored < N * 0.9 ? 500 : 50);
  stored = (await sql()<{ n: number }[]>`select count(*)::int as n from killmails`)[0]!.n;
  if (performance.now() - lastReport > 2000) {
    lastReport = performance.now();
    say(`  ${stored}/${N} stored (${rate(stored, lastReport - t0)}/s)`);
  }
}
const storedMs = performance.now() - t0;
const cpuUs = cpuPer(N, cpu0, cpuSnapshot(workers.map((w) => w.pid)));
await producer;

// Fan-out: every named entity/type ends up as exactly one queued job.
let fanned = { character: 0, corporation: 0, alliance: 0, type: 0 };
const fanDeadline = performance.now() + 60_000;
for (;;) {
  const stats = await getQueueStats();
  const pending = (q: string) => {
    const s = stats.find((x) => x.queue === q)!;
    return s.waiting + s.prioritized + s.delayed + s.active + s.completed + s.failed;
  };
  fanned = { character: pending("character"), corporation: pending("corporation"), alliance: pending("alliance"), type: pending("type") };
  const unrelayed = (await sql()<{ n: number }[]>`select count(*)::int as n from outbox where relayed_at is null`)[0]!.n;
  if (unrelayed === 0 || performance.now() > fanDeadline) break;
  await Bun.sleep(100);
}
const fanOutMs = performance.now() - t0;
await Promise.all(workers.map((w) => w.stop()));
// Counted once the workers are stopped: with several worker processes, nothing may be stored twice.
const [check] = await sql()<{ kills: number; distinct: number; values: number; intake: number; attackers: number; items: number }[]>`
  select (select count(*) from killmails)::int as kills, (select count(distinct killmail_id) from killmails)::int as distinct,
         (select count(*) from killmail_values)::int as values, (select count(*) from killmail_intake)::int as intake,
         (select count(*) from attackers)::int as attackers, (select count(*) from items)::int as items`;
const expectedAttackers = kills.reduce((n, k) => n + k.esi.attackers.length, 0);
const expectedItems = kills.reduce((n, k) => n + k.items, 0);
const exactlyOnce = check!.kills === N && check!.distinct === N && check!.attackers === expectedAttackers && check!.items === expectedItems;
const expected = { character: characters.size, corporation: corporations.size, alliance: alliances.size, type: types.size };
const dedupOk = JSON.stringify(fanned) === JSON.stringify(expected);
say(`stored ${N} kills in ${(storedMs / 1000).toFixed(2)} s; producer (intake + enqueue) done after ${(producerMs / 1000).toFixed(2)} s`);
say(
  `CPU per kill (µs): producer ${cpuUs.bench}, worker process(es) ${cpuUs.workers}, Postgres ${cpuUs.postgres}, Redis ${cpuUs.redis}; total ${cpuUs.bench + cpuUs.workers + cpuUs.postgres + cpuUs.redis} on ${availableParallelism()} cores`,
);
say(`valued ${check!.values}, intake rows left ${check!.intake}`);
say(
  `stored exactly once by ${WORKERS} worker process(es): ${exactlyOnce ? "yes" : "NO"} — kills ${check!.kills} (${check!.distinct} distinct) of ${N}, attackers ${check!.attackers} of ${expectedAttackers}, items ${check!.items} of ${expectedItems}`,
);
say(
  `fan-out jobs ${JSON.stringify(fanned)} vs distinct named ${JSON.stringify(expected)}: ${dedupOk ? "de-duplicated exactly" : "MISMATCH"} (all relayed after ${(fanOutMs / 1000).toFixed(2)} s)`,
);

// ---- clean up -----------------------------------------------------------------------------------
await closeQueues();
await closeRedis();
await closeDb();
await bench.drop();

const result = {
  bench: "ingest",
  killmails: N,
  worker_processes: WORKERS,
  rows_per_killmail: Number((rows / N).toFixed(1)),
  killmails_per_s: rate(N, storedMs),
  producer_per_s: rate(N, producerMs),
  raw_bullmq_noop_floor_jobs_per_s: raw.endToEndPerS,
  raw_bullmq_addbulk_per_s: raw.addPerS,
  raw_bullmq_noop_worker_per_s: raw.noopPerS,
  store_only_floor_per_s: storeOnly.perS,
  // Bun's allocator setting the processes ran with (package.json sets -1; unset means Bun's default, 100 ms).
  mimalloc_purge_delay: process.env.MIMALLOC_PURGE_DELAY ?? "default",
  cpu_us_per_killmail: cpuUs,
  valued: check!.values,
  fan_out_deduplicated: dedupOk,
  stored_exactly_once: exactlyOnce,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(dedupOk && exactlyOnce && check!.values === N && check!.intake === 0 ? 0 : 1);
