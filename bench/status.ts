// bench:status — does an operator's look at the system cost more as history grows? Seeds 10,000 kills
// (bench/backfill-seed.ts, with a values row each), times a /metrics scrape and GET /api/status of a real
// `bun server` (median of --samples requests after a warm-up), grows the same database to 1,000,000
// kills and times them again. For comparison, in the same run: the count(*) over the kill tables that
// status and metrics used to run. Own database and BullMQ prefix, removed afterwards (--keep keeps
// them). Prints one JSON line last.
import { createServer } from "node:net";
import type { Sql } from "postgres";
import { closeDb, createSql } from "../server/db/client.ts";
import { closeRedis } from "../server/helpers/redis.ts";
import { seedKills } from "./backfill-seed.ts";
import { benchEnvironment, numberOption, say, spawnEntry } from "./support.ts";

const SMALL = numberOption("small", 10_000);
const LARGE = numberOption("large", 1_000_000);
const SAMPLES = numberOption("samples", 30);
const FIRST_ID = 100_000_000;
const TOKEN = "bench-status-admin-token";

const bench = await benchEnvironment("status");
await closeDb();
const sql = createSql(bench.url, { max: 4 });

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Kills from `firstId` on, each with a values row (a valued history), then statistics as autovacuum keeps them. */
async function grow(db: Sql, kills: number, firstId: number): Promise<number> {
  const t = performance.now();
  const seeded = await seedKills(db, { kills, firstId, parallel: 2, rebuildIndexes: true });
  await db`insert into killmail_values (killmail_id, total_value, destroyed_value, dropped_value, fitted_value,
             unpriced_count, is_solo, is_awox)
           select killmail_id, 0, 0, 0, 0, 0, false, false from killmails where killmail_id >= ${firstId}`;
  await db`vacuum analyze`;
  say(`seeded ${seeded.kills} kills (ids ${seeded.fromId}–${seeded.toId}) with values rows in ${Math.round(performance.now() - t)} ms`);
  return seeded.toId;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.floor(s.length / 2)]! * 10) / 10;
};

async function timeRequest(url: string, samples: number): Promise<number> {
  const headers = { authorization: `Bearer ${TOKEN}` };
  for (let i = 0; i < 3; i++) await (await fetch(url, { headers })).text(); // warm-up
  const ms: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    const res = await fetch(url, { headers });
    await res.text();
    if (!res.ok) throw new Error(`${url}: ${res.status}`);
    ms.push(performance.now() - t);
  }
  return median(ms);
}

/** What /api/status and /metrics counted before row_counts: every kill and values row. */
async function timeOldCounts(): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await sql`select (select count(*) from killmails), (select count(*) from killmail_values)`;
    ms.push(performance.now() - t);
  }
  return median(ms);
}

interface Figures {
  kills: number;
  metricsMs: number;
  statusMs: number;
  oldCountMs: number;
}

async function measure(base: string): Promise<Figures> {
  const [status] = await Promise.all([fetch(`${base}/api/status`).then((r) => r.json() as Promise<{ pipeline: { killmails: number } }>)]);
  const figures = {
    kills: status.pipeline.killmails,
    metricsMs: await timeRequest(`${base}/metrics`, SAMPLES),
    statusMs: await timeRequest(`${base}/api/status`, SAMPLES),
    oldCountMs: await timeOldCounts(),
  };
  say(
    `${figures.kills} kills: /metrics ${figures.metricsMs} ms, /api/status ${figures.statusMs} ms (median of ${SAMPLES}); the old count(*) alone ${figures.oldCountMs} ms`,
  );
  return figures;
}

const port = await freePort();
const server = spawnEntry("server/index.ts", [], {
  DATABASE_URL: bench.url,
  QUEUE_PREFIX: bench.prefix,
  PORT: String(port),
  HOST: "127.0.0.1",
  ADMIN_TOKEN: TOKEN,
  LOG_LEVEL: "warn",
});
try {
  await server.waitFor("server listening");
  const base = `http://127.0.0.1:${port}`;
  say(`bench:status — ${SMALL} then ${LARGE} kills, database ${bench.database}`);
  const lastId = await grow(sql, SMALL, FIRST_ID);
  const small = await measure(base);
  await grow(sql, LARGE - SMALL, lastId + 1);
  const large = await measure(base);
  if (small.kills !== SMALL || large.kills !== LARGE) throw new Error(`counted ${small.kills} and ${large.kills} kills`);
  process.stdout.write(
    `${JSON.stringify({
      bench: "status",
      small: small.kills,
      large: large.kills,
      metrics_ms: [small.metricsMs, large.metricsMs],
      status_ms: [small.statusMs, large.statusMs],
      old_count_ms: [small.oldCountMs, large.oldCountMs],
      samples: SAMPLES,
    })}\n`,
  );
} finally {
  await server.stop();
  await sql.end();
  await closeRedis();
  await bench.drop();
}
