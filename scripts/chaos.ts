// `bun run chaos [--short] [--only name,…]`: the fault suite. For each scenario (scripts/chaos/
// scenarios.ts) it starts a Redis (append-only file) and a PostgreSQL of its own on local ports, the
// simulator, `bun queue` and the R2Z2 listener; lets the live feed run while the fault happens; waits for
// the pipeline to settle by itself (no manual action: reconcile at its default interval, or every 20 s
// with --short); then compares the kills the feed offered with what is stored and prints one JSON line
// of figures. Exits 1 when any scenario loses, doubles or leaves unvalued a kill, stores a body that is
// not ESI's, or leaves a named entity missing.
import { mkdirSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { Command } from "commander";
import postgres from "postgres";
import { closeDb } from "../server/db/client.ts";
import { runMigrations } from "../server/db/migrate.ts";
import type { EsiKillmail } from "../server/esi/killmail-schema.ts";
import { setConfig } from "../server/helpers/config.ts";
import { closeRedis } from "../server/helpers/redis.ts";
import { closeQueues } from "../server/queues/queue.ts";
import { SEQUENCE_BASE } from "../sim/routes/r2z2.ts";
import { startSimulator } from "../sim/server.ts";
import { freePort, OwnPostgres, OwnRedis, Proc, ROOT, sleep, waitUntil } from "./chaos/infra.ts";
import { SCENARIOS, type Scenario, type ScenarioContext } from "./chaos/scenarios.ts";
import { clean, type Figures, figures, missingEntities, storedFigures } from "./chaos/verify.ts";

const program = new Command("chaos")
  .description("Fault scenarios against real processes; one JSON line of figures per scenario")
  .option("--short", "shorter faults and feed, reconcile every 20 s (what CI runs)")
  .option("--only <names>", `comma-separated scenarios (${SCENARIOS.map((s) => s.name).join(", ")})`)
  .option("--keep-logs", "keep the processes' logs (tmp/chaos/<scenario>/) even when a scenario passes")
  .parse();
const opts = program.opts<{ short?: boolean; only?: string; keepLogs?: boolean }>();
const short = Boolean(opts.short);
const say = (s: string) => process.stderr.write(`${s}\n`);

const wanted = opts.only ? opts.only.split(",").map((s) => s.trim()) : SCENARIOS.map((s) => s.name);
const unknown = wanted.filter((n) => !SCENARIOS.some((s) => s.name === n));
if (unknown.length > 0) {
  say(`unknown scenario: ${unknown.join(", ")}`);
  process.exit(2);
}

const FEED_RATE = 10;
const FEED_SECONDS = short ? 25 : 60;
const SETTLE_MS = (short ? 6 : 15) * 60_000;
const PREFIX = "chaos";

say(`▶ chaos: starting a Redis and a PostgreSQL of our own${short ? " (short run)" : ""}`);
const redis = await OwnRedis.start();
const pg = await OwnPostgres.start();
const results: (Figures & {
  scenario: string;
  ok: boolean;
  seconds: number;
  events: string[];
  esi420: number;
  esi429: number;
  faultsInjected: Record<string, number>;
})[] = [];
let failed = false;

try {
  for (const scenario of SCENARIOS.filter((s) => wanted.includes(s.name))) {
    const result = await runScenario(scenario);
    results.push(result);
    process.stdout.write(`${JSON.stringify({ chaos: scenario.name, ...result })}\n`);
    if (!result.ok) failed = true;
  }
} finally {
  await closeQueues().catch(() => {});
  await closeRedis().catch(() => {});
  await closeDb().catch(() => {});
  await redis.stop();
  await pg.stop();
}
say(
  failed
    ? `✘ chaos: ${results
        .filter((r) => !r.ok)
        .map((r) => r.scenario)
        .join(", ")} failed`
    : `✔ chaos: ${results.length} scenario(s): nothing lost, doubled or left unvalued`,
);
process.exit(failed ? 1 : 0);

async function runScenario(scenario: Scenario): Promise<(typeof results)[number]> {
  const started = Date.now();
  const database = `chaos_${scenario.name.replace(/\W/g, "_")}`;
  const logDir = resolve(ROOT, "tmp/chaos", scenario.name);
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  say(`\n▶ ${scenario.name}: ${scenario.description}`);

  const admin = postgres(pg.url(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists "${database}" with (force)`);
  await admin.unsafe(`create database "${database}"`);
  await admin.end();
  await redis.restart(false);
  setConfig({ databaseUrl: pg.url(database), redisUrl: redis.url, queuePrefix: PREFIX, logLevel: "warn" });
  await runMigrations();

  const sim = await startSimulator({
    port: await freePort(),
    seed: 11,
    killmails: 3000,
    feedShare: 0.5,
    feedRate: 0,
    catalog: "builtin",
    zkbDelaySeconds: 0,
    quiet: true,
  });
  const env: Record<string, string> = {
    DATABASE_URL: pg.url(database),
    REDIS_URL: redis.url,
    QUEUE_PREFIX: PREFIX,
    ESI_URL: sim.url,
    R2Z2_URL: `${sim.url}/r2z2`,
    ZKB_URL: `${sim.url}/zkb`,
    EVEREF_URL: `${sim.url}/everef`,
    ESI_USER_AGENT: "killboard-chaos/1.0 (local simulator; chaos@localhost)",
    LOG_LEVEL: "info",
    // Reconcile at its default interval (5 min); a short run cannot wait that long.
    ...(short ? { RECONCILE_INTERVAL_MS: "20000" } : {}),
    // The simulator has no per-route rate limits; the error limit still binds.
    QUEUE_CHARACTER_RATE: "100",
    QUEUE_CORPORATION_RATE: "100",
    QUEUE_ALLIANCE_RATE: "100",
    QUEUE_TYPE_RATE: "100",
    ...scenario.env?.(short),
  };

  const firstIndex = sim.world.feedHead();
  let worker = new Proc("workers", "queue.ts", ["--summary-interval", "10"], env, logDir);
  const listener = new Proc("listener", "cli.ts", ["listen:r2z2", "--from", String(SEQUENCE_BASE + firstIndex - 1)], env, logDir);
  const events: string[] = [];
  const note = (event: string) => {
    events.push(`${Math.round((Date.now() - started) / 1000)}s ${event}`);
    say(`  ${events.at(-1)}`);
  };
  const ctx: ScenarioContext = {
    redis,
    pg,
    sim,
    database,
    short,
    firstIndex,
    worker: () => worker,
    async killWorker() {
      await worker.kill("SIGKILL");
      await sleep(1_000);
      worker = new Proc("workers", "queue.ts", ["--summary-interval", "10"], env, logDir);
    },
    note,
  };

  let offered: EsiKillmail[] = [];
  let result: Figures | undefined;
  try {
    await waitUntil(
      "the listener to start",
      async () => (await Bun.file(resolve(logDir, "listener.log")).text()).includes("following the R2Z2 feed"),
      60_000,
    );
    sim.setFeedRate(FEED_RATE);
    note(`feed at ${FEED_RATE} kills/s`);
    const fault = scenario.inject(ctx);
    await sleep((scenario.feedSeconds?.(short) ?? FEED_SECONDS) * 1000);
    sim.setFeedRate(0);
    const lastIndex = sim.world.feedHead();
    note(`feed stopped: ${lastIndex - firstIndex} kills offered`);
    await fault;
    offered = Array.from({ length: lastIndex - firstIndex }, (_, i) => sim.world.killmail(firstIndex + i).esi as EsiKillmail);

    // Settling: the pipeline finishes by itself, however long its retries and reconcile take.
    let last = "";
    await waitUntil(
      "every offered kill stored, valued and its entities known",
      async () => {
        const s = await storedFigures(offered);
        const missing = await missingEntities(offered);
        const line = `stored ${s.stored}/${offered.length}, unvalued ${s.withoutValues}, intake open ${s.intakeOpen}, entities missing ${missing}`;
        if (line !== last) {
          last = line;
          say(`  ${Math.round((Date.now() - started) / 1000)}s ${line}`);
        }
        return s.stored === offered.length && s.withoutValues === 0 && s.intakeOpen === 0 && missing === 0;
      },
      SETTLE_MS,
      2_000,
    ).catch((err: Error) => note(err.message));
    result = await figures(offered);
  } finally {
    await listener.stop();
    await worker.stop();
    await sim.stop();
    await closeQueues().catch(() => {});
    await closeRedis().catch(() => {});
    await closeDb().catch(() => {});
  }
  const stats = sim.stats();
  const faultsInjected: Record<string, number> = {};
  for (const r of sim.requests()) if (r.fault && r.fault !== "latency") faultsInjected[r.fault] = (faultsInjected[r.fault] ?? 0) + 1;
  const ok = clean(result);
  if (ok && !opts.keepLogs) rmSync(logDir, { recursive: true, force: true });
  else say(`  logs: ${logDir}`);
  return {
    scenario: scenario.name,
    ok,
    ...result,
    seconds: Math.round((Date.now() - started) / 1000),
    esi420: stats.byStatus["420"] ?? 0,
    esi429: stats.byStatus["429"] ?? 0,
    faultsInjected,
    events,
  };
}
