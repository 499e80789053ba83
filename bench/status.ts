// bench:status — does an operator's look at the system cost more as history grows? Two databases,
// seeded by bench/backfill-seed.ts (a values row per kill): 10,000 and 1,000,000 kills, each served by
// its own `bun server`; a /metrics scrape and GET /api/status of each are timed in alternation (so the
// box's load swings hit both alike; median of --samples after a warm-up). For comparison, in the same
// run: the count(*) over the kill tables that status and metrics used to run. Own databases and BullMQ
// prefixes, removed afterwards (--keep keeps them). Prints one JSON line last.
import { createServer } from "node:net";
import type { Sql } from "postgres";
import { closeDb, createSql } from "../server/db/client.ts";
import { config, setConfig } from "../server/helpers/config.ts";
import { closeRedis } from "../server/helpers/redis.ts";
import { seedKills } from "./backfill-seed.ts";
import { benchEnvironment, numberOption, say, spawnEntry } from "./support.ts";

const SMALL = numberOption("small", 10_000);
const LARGE = numberOption("large", 1_000_000);
const SAMPLES = numberOption("samples", 30);
const FIRST_ID = 100_000_000;
const TOKEN = "bench-status-admin-token";

// Each environment points the configuration (and the shared pool) at its database: the second must
// start from the server's, not from the first one's.
const serverUrl = config().databaseUrl;
const small = await benchEnvironment("status10k");
await closeDb();
setConfig({ databaseUrl: serverUrl });
const large = await benchEnvironment("status1m");
await closeDb();
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

async function timeOnce(url: string): Promise<number> {
  const t = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
  await res.text();
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return performance.now() - t;
}

/** What /api/status and /metrics counted before row_counts: every kill and values row. */
async function timeOldCounts(db: Sql): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await db`select (select count(*) from killmails), (select count(*) from killmail_values)`;
    ms.push(performance.now() - t);
  }
  return median(ms);
}

interface Target {
  name: string;
  kills: number;
  env: Awaited<ReturnType<typeof benchEnvironment>>;
  sql: Sql;
  base: string;
  server: ReturnType<typeof spawnEntry>;
  metrics: number[];
  status: number[];
}

async function target(name: string, kills: number, env: Target["env"]): Promise<Target> {
  const db = createSql(env.url, { max: 4 });
  await grow(db, kills, FIRST_ID);
  const port = await freePort();
  const server = spawnEntry("server/index.ts", [], {
    DATABASE_URL: env.url,
    QUEUE_PREFIX: env.prefix,
    PORT: String(port),
    HOST: "127.0.0.1",
    ADMIN_TOKEN: TOKEN,
    LOG_LEVEL: "warn",
  });
  await server.waitFor("server listening");
  return { name, kills, env, sql: db, base: `http://127.0.0.1:${port}`, server, metrics: [], status: [] };
}

say(`bench:status — ${SMALL} and ${LARGE} kills, databases ${small.database}, ${large.database}`);
const targets: Target[] = [];
try {
  targets.push(await target("small", SMALL, small), await target("large", LARGE, large));
  for (const t of targets) {
    const status = (await (await fetch(`${t.base}/api/status`)).json()) as { pipeline: { killmails: number; valued: number } };
    if (status.pipeline.killmails !== t.kills || status.pipeline.valued !== t.kills) {
      throw new Error(`${t.name}: status counts ${status.pipeline.killmails} kills, ${status.pipeline.valued} valued`);
    }
    for (let i = 0; i < 3; i++) await Promise.all([timeOnce(`${t.base}/metrics`), timeOnce(`${t.base}/api/status`)]); // warm-up
  }
  for (let i = 0; i < SAMPLES; i++) {
    for (const t of targets) t.metrics.push(await timeOnce(`${t.base}/metrics`));
    for (const t of targets) t.status.push(await timeOnce(`${t.base}/api/status`));
  }
  const old = [await timeOldCounts(targets[0]!.sql), await timeOldCounts(targets[1]!.sql)];
  for (const [i, t] of targets.entries()) {
    say(
      `${t.kills} kills: /metrics ${median(t.metrics)} ms, /api/status ${median(t.status)} ms (median of ${SAMPLES}); the old count(*) alone ${old[i]} ms`,
    );
  }
  process.stdout.write(
    `${JSON.stringify({
      bench: "status",
      kills: targets.map((t) => t.kills),
      metrics_ms: targets.map((t) => median(t.metrics)),
      status_ms: targets.map((t) => median(t.status)),
      old_count_ms: old,
      samples: SAMPLES,
    })}\n`,
  );
} finally {
  for (const t of targets) {
    await t.server.stop();
    await t.sql.end();
  }
  await closeRedis();
  await small.drop();
  await large.drop();
}
