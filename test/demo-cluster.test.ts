// `bun run demo --exit` pointed at a private 3-master Redis Cluster (`--redis-cluster`): the whole
// pipeline — listener, workers, server, SSO member sync — completes with every kill stored once and
// valued, and no process logs a key sent to the wrong node or slot (MOVED, CROSSSLOT).
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, expect, it } from "vitest";
import { config } from "../server/helpers/config.ts";
import { type PrivateCluster, startRedisCluster } from "./support/redis-cluster.ts";
import { clusterErrors, ROOT, run } from "./support/spawn.ts";

let cluster: PrivateCluster;
const database = `kb_demo_cluster_${randomBytes(3).toString("hex")}`;
const admin = postgres(config().databaseUrl, { max: 1, onnotice: () => {} });
beforeAll(async () => {
  cluster = await startRedisCluster();
});
afterAll(async () => {
  await cluster?.stop();
  await admin.unsafe(`drop database if exists "${database}" with (force)`);
  await admin.end();
});

it("completes on a cluster: every kill stored once and valued, no MOVED or CROSSSLOT", async () => {
  const demo = await run(
    "scripts/demo.ts",
    ["--exit", "--kills", "200", "--port", "0", "--database", database, "--redis-cluster", cluster.nodes],
    {
      REDIS_CLUSTER_NODES: "",
      QUEUE_PREFIX: "",
    },
  );
  expect(demo.code, demo.stdout + demo.stderr).toBe(0);
  const summary = /kills stored\s+(\d+) in \d+ s \((\d+) valued, (\d+) still waiting for a price\)/.exec(demo.stdout);
  expect(summary, demo.stdout).not.toBeNull();
  const [, stored, valued] = summary!;
  expect(Number(stored)).toBeGreaterThanOrEqual(200);
  expect(valued).toBe(stored);

  const db = postgres(config().databaseUrl.replace(/\/[^/]*$/, `/${database}`), { max: 1, onnotice: () => {} });
  try {
    const [row] = await db<{ kills: number; distinct: number; unvalued: number }[]>`
      select count(*)::int as kills, count(distinct killmail_id)::int as distinct,
             (select count(*)::int from killmails k where not exists (select 1 from killmail_values v where v.killmail_id = k.killmail_id)) as unvalued
      from killmails`;
    expect(row).toEqual({ kills: Number(stored), distinct: Number(stored), unvalued: 0 });
  } finally {
    await db.end();
  }
  // The demo's processes log to tmp/demo/*.log.
  const logs = resolve(ROOT, "tmp/demo");
  const text = readdirSync(logs)
    .filter((f) => f.endsWith(".log"))
    .map((f) => readFileSync(resolve(logs, f), "utf8"))
    .join("\n");
  expect(text).toContain("worker started");
  expect(clusterErrors(text)).toEqual([]);
}, 300_000);
