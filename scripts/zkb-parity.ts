// `bun scripts/zkb-parity.ts [--kills N] [--seed S] [--database NAME]`: zKillboard value parity on a
// simulator import of N kills (default 10,000) — the import the parity test makes (test/support/zkb-parity.ts:
// kills stored with their types, zkb blocks through the intake, prices from the simulator's ESI, values
// for every kill) in a database of its own (recreated), then `bun cli verify:zkb` against it as a real
// process, its report printed as is. Exit code: verify:zkb's.
import { parseArgs } from "node:util";
import postgres from "postgres";
import { closeDb } from "../server/db/client.ts";
import { runMigrations } from "../server/db/migrate.ts";
import { config, setConfig } from "../server/helpers/config.ts";
import { startSimulator } from "../sim/server.ts";
import { importWithPrices, parityKills } from "../test/support/zkb-parity.ts";

const { values } = parseArgs({
  options: {
    kills: { type: "string", default: "10000" },
    seed: { type: "string", default: "5" },
    database: { type: "string", default: "killboard_zkb_parity" },
  },
});
const count = Number(values.kills);
const seed = Number(values.seed);
if (!Number.isInteger(count) || count < 10 || !Number.isInteger(seed)) {
  process.stderr.write("--kills must be a whole number ≥ 10, --seed a whole number\n");
  process.exit(2);
}
const started = Date.now();
const say = (s: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${s}\n`);

const adminUrl = config().databaseUrl;
const url = new URL(adminUrl);
url.pathname = `/${values.database}`;
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
await admin.unsafe(`drop database if exists "${values.database}" with (force)`);
await admin.unsafe(`create database "${values.database}"`);
await admin.end();
setConfig({ databaseUrl: url.toString(), logLevel: "warn", queuePrefix: `zkbparity${process.pid}` });
await runMigrations();

const days = Math.max(3, Math.ceil(count / 1500));
const sim = await startSimulator({ port: 0, seed, killmails: count, days, feedRate: 0, corpus: false, quiet: true, catalog: "builtin" });
setConfig({ esiUrl: sim.url, esiUserAgent: "killboard-zkb-parity/1.0 parity@localhost" });
say(`simulator: ${count} kills over ${days} days (seed ${seed})`);
const kills = parityKills(sim, count);
await importWithPrices(sim, kills, say);
await closeDb();
sim.stop();

const verify = Bun.spawnSync(["bun", "cli.ts", "verify:zkb"], {
  cwd: `${import.meta.dirname}/..`,
  env: { ...process.env, DATABASE_URL: url.toString(), LOG_LEVEL: "warn" },
  stdout: "inherit",
  stderr: "inherit",
});
say(`done (${kills.length} kills)`);
process.exit(verify.exitCode ?? 1);
