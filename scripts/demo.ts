// `bun run demo`: the whole job, offline. Starts the local ESI/zKillboard simulator, creates and
// migrates a demo database, starts the workers (`bun queue`), the HTTP server and the R2Z2 listener as
// real processes pointed at the simulator, lets a few thousand kills flow in live, prints a summary
// (kills stored and valued, entities fetched, ESI budget used, queue stats) with the URLs to look at,
// and keeps running until CTRL+C, which stops everything cleanly. `--exit` stops after the summary.
// It also logs one character in through the EVE SSO (the real HTTP flow: /auth/login → the simulator's
// SSO → /auth/callback) and shows its private kills — never on R2Z2 or zKillboard — arriving via its token.

import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, openSync } from "node:fs";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import postgres from "postgres";
import { closeDb, sql } from "../server/db/client.ts";
import { runMigrations } from "../server/db/migrate.ts";
import { config, exitOnConfigError, redactUrl, setConfig } from "../server/helpers/config.ts";
import { closeRedis, deleteKeys } from "../server/helpers/redis.ts";
import { enqueueJob } from "../server/queues/enqueue.ts";
import { closeQueues, getQueue, getQueueStats } from "../server/queues/queue.ts";
import { type Simulator, startSimulator } from "../sim/server.ts";

const ROOT = resolve(import.meta.dirname, "..");
const int = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`must be an integer ≥ ${min}`);
  return n;
};

const program = new Command("demo")
  .description("Run the whole pipeline offline against the local simulator")
  .option("--kills <n>", "live kills to let flow in before the summary", int(1), 2000)
  .option("--feed-rate <n>", "simulated kills per second on the R2Z2 feed", int(1), 100)
  .option("--port <n>", "HTTP port of the API (0 = any free port)", int(0), 3000)
  .option("--database <name>", "demo database (dropped and recreated)", "killboard_demo")
  .option("--seed <n>", "simulator world seed", int(0), 7)
  .option("--timeout <seconds>", "give up waiting for the kills after this long", int(10), 600)
  .option("--exit", "stop after the summary instead of running until CTRL+C")
  .option("--redis-cluster <nodes>", "use a Redis Cluster (host:port,…; same as REDIS_CLUSTER_NODES)")
  .parse();
const opts = program.opts<{
  kills: number;
  feedRate: number;
  port: number;
  database: string;
  seed: number;
  timeout: number;
  exit?: boolean;
  redisCluster?: string;
}>();

if (opts.redisCluster) process.env.REDIS_CLUSTER_NODES = opts.redisCluster;
// The demo's own prefix, hash-tagged on a cluster (required there: see README "Redis modes").
const prefix = process.env.REDIS_CLUSTER_NODES ? "{demo}" : "demo";
process.env.QUEUE_PREFIX = prefix;
try {
  config();
} catch (err) {
  exitOnConfigError(err);
}
if (!/^[a-z_][a-z0-9_]*$/.test(opts.database)) {
  process.stderr.write("--database must be a plain lower-case identifier\n");
  process.exit(2);
}

const out = (line = "") => process.stdout.write(`${line}\n`);
const adminToken = randomBytes(12).toString("hex");
const logDir = resolve(ROOT, "tmp/demo");
mkdirSync(logDir, { recursive: true });
const children: { name: string; child: ChildProcess }[] = [];
let sim: Simulator | undefined;
let stopping = false;

async function stopAll(code: number): Promise<never> {
  if (stopping) process.exit(130);
  stopping = true;
  out("\nstopping: workers, server and listener finish what they hold…");
  for (const { child } of children) child.kill("SIGTERM");
  await Promise.all(children.map(({ child }) => (child.exitCode !== null ? null : new Promise((r) => child.once("exit", r)))));
  await sim?.stop();
  await Promise.allSettled([closeQueues(), closeRedis(), closeDb()]);
  out(`stopped. The demo database '${opts.database}' is kept for inspection; logs are in ${logDir}.`);
  process.exit(code);
}
process.on("SIGINT", () => void stopAll(0));
process.on("SIGTERM", () => void stopAll(0));

// ---- simulator ---------------------------------------------------------------------------------
out("▶ starting the ESI / zKillboard simulator (nothing leaves this machine)");
sim = await startSimulator({
  port: 0,
  seed: opts.seed,
  // Half the world is ahead of the feed; 5 % of it is private (never on the feed): a little more than
  // twice the kills asked for keeps the feed's public kills above that number.
  killmails: Math.ceil(opts.kills * 2.2),
  feedShare: 0.5,
  // A share of the kills nobody posted to zKillboard: only the members' tokens see them.
  privateShare: 0.05,
  // Frozen until the listener runs: it starts at the feed's head, like a real first start.
  feedRate: 0,
  // The built-in catalog (~200 real types) keeps the demo's static-data fetches short; the full
  // 48k-type universe (../shared/sde) makes every kill name new types for a long while.
  catalog: "builtin",
  quiet: true,
});
out(`  simulator: ${sim.url}  (ESI at /, R2Z2 at /r2z2, zKillboard at /zkb)`);

// ---- database and queues -----------------------------------------------------------------------
const adminUrl = config().databaseUrl;
const dbUrl = new URL(adminUrl);
dbUrl.pathname = `/${opts.database}`;
out(`▶ database '${opts.database}' on ${redactUrl(adminUrl).replace(/\/[^/]*$/, "")} (recreated)`);
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
try {
  await admin.unsafe(`drop database if exists "${opts.database}" with (force)`);
  await admin.unsafe(`create database "${opts.database}"`);
} catch (err) {
  process.stderr.write(`cannot create the demo database: ${(err as Error).message}\n`);
  await stopAll(1);
} finally {
  await admin.end();
}
setConfig({ databaseUrl: dbUrl.toString(), queuePrefix: prefix, logLevel: "warn" });
await runMigrations();
await deleteKeys(`${prefix}:*`);

// ---- the processes -----------------------------------------------------------------------------
// The SSO's callback URL must be known before the server starts: pick the port now when asked for any.
async function freePort(): Promise<number> {
  return new Promise((resolvePort) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolvePort(port));
    });
  });
}
const port = opts.port === 0 ? await freePort() : opts.port;
const env = {
  ...process.env,
  DATABASE_URL: dbUrl.toString(),
  QUEUE_PREFIX: prefix,
  ESI_URL: sim.url,
  R2Z2_URL: `${sim.url}/r2z2`,
  ZKB_URL: `${sim.url}/zkb`,
  EVEREF_URL: `${sim.url}/everef`,
  ESI_USER_AGENT: "killboard-demo/1.0 (local simulator; demo@localhost)",
  ADMIN_TOKEN: adminToken,
  PORT: String(port),
  EVE_SSO_URL: `${sim.url}/sso`,
  EVE_SSO_CLIENT_ID: "killboarddemo",
  EVE_SSO_SECRET: randomBytes(16).toString("hex"),
  EVE_SSO_CALLBACK_URL: `http://127.0.0.1:${port}/auth/callback`,
  TOKEN_ENCRYPTION_KEY: randomBytes(32).toString("hex"),
  LOG_LEVEL: "info",
  // The simulator has no rate limits on these routes; real ESI keeps the processors' polite defaults.
  QUEUE_CHARACTER_RATE: "300",
  QUEUE_CORPORATION_RATE: "300",
  QUEUE_ALLIANCE_RATE: "300",
  QUEUE_TYPE_RATE: "300",
  QUEUE_TYPE_CONCURRENCY: "16",
  QUEUE_CHARACTER_CONCURRENCY: "16",
};
function launch(name: string, entry: string, args: string[]): ChildProcess {
  const log = openSync(resolve(logDir, `${name}.log`), "w");
  const child = spawn(process.execPath, [resolve(ROOT, entry), ...args], { cwd: ROOT, env, stdio: ["ignore", log, log] });
  child.on("exit", (code) => {
    if (!stopping) {
      process.stderr.write(`${name} exited unexpectedly (code ${code}); see ${resolve(logDir, `${name}.log`)}\n`);
      void stopAll(1);
    }
  });
  children.push({ name, child });
  return child;
}
out("▶ starting workers (bun queue), the HTTP server (bun server) and the R2Z2 listener (bun cli listen:r2z2)");
launch("workers", "queue.ts", ["--summary-interval", "10"]);
const server = launch("server", "server/index.ts", []);
launch("listener", "cli.ts", ["listen:r2z2"]);

// The server prints its URL (port 0 picks a free one).
let apiUrl = `http://127.0.0.1:${port}`;
const deadline = Date.now() + 30_000;
while (Date.now() < deadline) {
  const log = await Bun.file(resolve(logDir, "server.log"))
    .text()
    .catch(() => "");
  const m = /server listening on (http:\/\/\S+)/.exec(log);
  if (m) {
    apiUrl = m[1]!;
    break;
  }
  if (server.exitCode !== null) break;
  await Bun.sleep(100);
}

// ---- let kills flow ----------------------------------------------------------------------------
for (let waited = 0; waited < 30_000; waited += 100) {
  const log = await Bun.file(resolve(logDir, "listener.log"))
    .text()
    .catch(() => "");
  if (log.includes("following the R2Z2 feed")) break;
  await Bun.sleep(100);
}
sim.setFeedRate(opts.feedRate);
interface Counts {
  kills: number;
  valued: number;
  unpriced: number;
  characters: number;
  deleted: number;
  corporations: number;
  alliances: number;
  types: number;
  isk: string;
}
async function counts(): Promise<Counts> {
  const [row] = await sql()<Counts[]>`
    select (select count(*) from killmails)::int as kills,
           (select count(*) from killmail_values)::int as valued,
           (select count(*) from killmail_values where unpriced_count > 0)::int as unpriced,
           (select count(*) from characters where not deleted)::int as characters,
           (select count(*) from characters where deleted)::int as deleted,
           (select count(*) from corporations)::int as corporations,
           (select count(*) from alliances)::int as alliances,
           (select count(*) from types)::int as types,
           (select coalesce(sum(total_value), 0)::text from killmail_values) as isk`;
  return row!;
}
/** Jobs still pending on the queues a stored kill fans out to (prices and backfills go on in the background). */
const backlog = async () =>
  (await getQueueStats())
    .filter((s) => s.queue !== "price" && s.queue !== "backfill")
    .reduce((n, s) => n + s.waiting + s.prioritized + s.active + s.delayed, 0);

// R2Z2 serves one kill a file and the listener spaces its requests (R2Z2_INTERVAL_MS): that pace, not the
// feed's, is how fast kills arrive.
const readRate = Math.min(opts.feedRate, Math.floor(1000 / Math.max(1, config().upstream.r2z2IntervalMs)));
out(
  `▶ letting ${opts.kills} kills flow in from the live feed (published at ~${opts.feedRate}/s, read at ≤ ${readRate}/s: one R2Z2 request a kill) …`,
);
const started = Date.now();
let c = await counts();
let lastLine = 0;
while (c.kills < opts.kills || (await backlog()) > 0) {
  if (Date.now() - started > opts.timeout * 1000) {
    out(`  timed out after ${opts.timeout} s`);
    break;
  }
  await Bun.sleep(500);
  c = await counts();
  if (Date.now() - lastLine > 3000) {
    lastLine = Date.now();
    out(
      `  ${Math.round((Date.now() - started) / 1000)}s: ${c.kills} kills stored, ${c.valued} valued; ` +
        `${c.characters} characters, ${c.corporations} corporations, ${c.alliances} alliances, ${c.types} types; ` +
        `${await backlog()} jobs pending`,
    );
  }
}

// ---- a member logs in through the EVE SSO ---------------------------------------------------------
// The character with the most private kills so far (they happened: below the feed's head).
const world = sim.world;
const head = world.feedHead();
const candidates = world.entities.pilots
  .filter((id) => world.character(id))
  .map((id) => ({ id, priv: world.entityKills("character", id).filter((i) => i < head && world.isPrivate(i)) }))
  .sort((a, b) => b.priv.length - a.priv.length);
const member = candidates[0]!;
const memberName = world.entities.characters.get(member.id)!.name;
const privateIds = member.priv.map((i) => world.idOfIndex(i));
out(`▶ ${memberName} (${member.id}) logs in through the EVE SSO: GET /auth/login → the SSO → /auth/callback`);
let ssoOk = false;
try {
  const begin = await fetch(`${apiUrl}/auth/login`, { redirect: "manual" });
  const cookie = (begin.headers.get("set-cookie") ?? "").split(";")[0]!;
  const authorize = new URL(begin.headers.get("location") ?? "");
  // At the real SSO the member types a password; the simulator's SSO takes the character from the URL.
  authorize.searchParams.set("character", String(member.id));
  const back = await fetch(authorize, { redirect: "manual" });
  const callback = await fetch(back.headers.get("location") ?? "", { headers: { cookie } });
  const answer = (await callback.json()) as { status?: string; error?: string };
  ssoOk = callback.status === 200;
  out(`  callback: ${callback.status} ${answer.status ?? answer.error}`);
} catch (err) {
  out(`  login failed: ${(err as Error).message}`);
}
const privateStored = async () =>
  privateIds.length === 0
    ? 0
    : (await sql()<{ n: number }[]>`select count(*)::int as n from killmails where killmail_id = any(${privateIds}::int8[])`)[0]!.n;
out(`  its recent kills are read with its own token; ${privateIds.length} of them were never posted to zKillboard …`);
while (ssoOk && (await privateStored()) < privateIds.length && Date.now() - started < opts.timeout * 1000) await Bun.sleep(500);
const privateCount = await privateStored();
// Its older public kills, from before the feed was followed, are new to this board too: fetched with them.
out(
  `  ${privateCount} / ${privateIds.length} private kills stored (every kill of its list the board lacked fetched once: esi.killmail below)`,
);

// Prices of the types just learned arrive through the price queue; the flagged value backfill (which
// the scheduler runs every 10 minutes) then values the kills that waited for them. The demo runs it now.
/** Jobs still to run on a queue, not counting the next runs its schedulers keep delayed. */
const pending = async (queue: "price" | "backfill") => {
  const s = (await getQueueStats()).find((q) => q.queue === queue)!;
  const delayed = (await getQueue(queue).getDelayed()).filter((j) => !j.repeatJobKey).length;
  return s.waiting + s.prioritized + s.active + delayed;
};
out("▶ waiting for Forge prices of the types the kills name …");
while ((await pending("price")) > 0 && Date.now() - started < opts.timeout * 1000) await Bun.sleep(500);
out("▶ re-valuing the kills that waited for a price (the flagged value backfill) …");
await enqueueJob("backfill", { task: "values-run", mode: "flagged" }, { priority: "user" });
await Bun.sleep(1000);
while ((await pending("backfill")) > 0 && Date.now() - started < opts.timeout * 1000) await Bun.sleep(500);
c = await counts();

// ---- summary ------------------------------------------------------------------------------------
const stats = sim.stats();
const queues = await getQueueStats();
const [sample] = await sql()<{ id: number }[]>`select killmail_id as id from killmails order by killmail_id desc limit 1`;
const esiRoutes = Object.entries(stats.byRoute)
  .filter(([route]) => !/^(ephemeral|sequence|history|api|archive)/.test(route))
  .map(([route, r]) => `${route} ${r.total}`)
  .join(", ");
out("\n══ summary ═════════════════════════════════════════════════════════════════════════");
out(
  `kills stored        ${c.kills} in ${Math.round((Date.now() - started) / 1000)} s (${c.valued} valued, ${c.unpriced} still waiting for a price)`,
);
out(`ISK destroyed       ${Number(c.isk).toLocaleString("en-US", { maximumFractionDigits: 0 })}`);
out(
  `entities fetched    ${c.characters} characters (+${c.deleted} deleted), ${c.corporations} corporations, ${c.alliances} alliances, ${c.types} types`,
);
out(`upstream requests   ${stats.total} (ESI: ${esiRoutes || "none"})`);
out(
  `EVE SSO member      ${memberName} (${member.id}): ${privateCount} of ${privateIds.length} private kills stored via its token` +
    ` (${sim.sso.stats().codeExchanges} login, ${sim.sso.stats().refreshes} refreshes)`,
);
out(
  `ESI budget          ${stats.errorLimited} × 420, ${stats.rateLimited} × 429, ${stats.notModified} × 304, ${stats.violations} violations`,
);
out(
  "queues              " +
    queues.map((q) => `${q.queue} ${q.completed}✓ ${q.failed}✗ ${q.waiting + q.prioritized + q.active}… ${q.delayed}⏲`).join(" | "),
);
out(
  "                    (✓ completed jobs still kept: at most 1,000 per queue, 20 batch jobs of kills; ✗ failed, … to run, ⏲ delayed: retries and the schedulers' next runs)",
);
out("");
out(`API status          ${apiUrl}/api/status`);
if (sample) out(`a killmail          ${apiUrl}/api/killmails/${sample.id}`);
out(`dashboard           ${apiUrl}/admin/queues   (user: admin, password: ${adminToken})`);
out(`metrics             ${apiUrl}/metrics        (Authorization: Bearer ${adminToken})`);
out(`members (SSO)       ${apiUrl}/admin/api/sso   (Authorization: Bearer ${adminToken}); bun cli sso:list`);
out(`simulator stats     ${sim.url}/_sim/stats`);
out(`logs                ${logDir}/{workers,server,listener}.log`);
out("══════════════════════════════════════════════════════════════════════════════════════");

if (opts.exit) await stopAll(c.kills >= opts.kills && privateCount === privateIds.length ? 0 : 1);
out("running; press CTRL+C to stop everything.");
