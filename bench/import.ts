// `bun bench/import.ts [--killmails N] [--days D]`: throughput of the history imports on this machine.
// Runs `bun cli import:history` and `bun cli import:everef` (URL range, then one day's archive as a local
// file with each decompressor) as real processes against an in-process simulator whose files are built
// and cached beforehand, into a fresh database and BullMQ prefix (no workers: the intake and enqueue
// only). Prints, per run: kills read, kills/s overall, kills/s inside the intake (ledger rows with bodies
// + enqueue), and the importing process's peak RSS (VmHWM). One JSON line last.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { closeDb, sql } from "../server/db/client.ts";
import { closeRedis } from "../server/helpers/redis.ts";
import { closeQueues, getQueue } from "../server/queues/queue.ts";
import { startSimulator } from "../sim/server.ts";
import { benchEnvironment, numberOption, say } from "./support.ts";

const N = numberOption("killmails", 20_000);
const DAYS = numberOption("days", 2);
const ROOT = resolve(import.meta.dirname, "..");

// Always dropped at the end (this bench has no --keep).
const bench = await benchEnvironment("import", false);
const { prefix } = bench;

say(`simulator: ${N} kills over ${DAYS} days…`);
const sim = await startSimulator({
  seed: 31,
  killmails: N,
  days: DAYS,
  feedRate: 0,
  feedShare: 0,
  rawMissing: 0.05,
  corpus: false,
  catalog: "builtin",
  quiet: true,
  limits: { r2z2PerSecond: 0 },
});
const days = Array.from({ length: DAYS }, (_, i) =>
  new Date(Date.parse("2026-07-26T00:00:00Z") + i * 86_400_000).toISOString().slice(0, 10),
);
const from = days[0]!;
const to = days.at(-1)!;
const headers = { "User-Agent": "bench/1.0 bench@localhost" };
say("building and caching the R2Z2 raw files and EVE Ref archives…");
for (const day of days) {
  await (await fetch(`${sim.url}/r2z2/history/raw/${day.replaceAll("-", "")}.json`, { headers })).arrayBuffer();
  await (await fetch(`${sim.url}/everef/killmails/${day.slice(0, 4)}/killmails-${day}.tar.bz2`, { headers })).arrayBuffer();
}
const archive = join(tmpdir(), `bench-import-${randomBytes(3).toString("hex")}`, `killmails-${from}.tar.bz2`);
await Bun.$`mkdir -p ${join(archive, "..")}`;
writeFileSync(
  archive,
  Buffer.from(await (await fetch(`${sim.url}/everef/killmails/${from.slice(0, 4)}/killmails-${from}.tar.bz2`)).arrayBuffer()),
);

const env = {
  DATABASE_URL: bench.url,
  QUEUE_PREFIX: prefix,
  LOG_LEVEL: "warn",
  ESI_URL: sim.url,
  R2Z2_URL: `${sim.url}/r2z2`,
  EVEREF_URL: `${sim.url}/everef`,
  ESI_USER_AGENT: "bench/1.0 bench@localhost",
};

interface Run {
  name: string;
  kills: number;
  seconds: number;
  killsPerSecond: number;
  intakeKillsPerSecond: number;
  peakRssMb: number;
}

/** Runs one import command as a process, polling its peak RSS; clears the intake and queue afterwards. */
async function measure(name: string, cliArgs: string[]): Promise<Run> {
  const child = spawn(process.execPath, [join(ROOT, "cli.ts"), ...cliArgs, "--json", "--max-pending", "100000000"], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  let peakKb = 0;
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
    } catch {
      // exited
    }
  }, 50);
  const code = await new Promise<number | null>((r) => child.on("close", (c) => r(c)));
  clearInterval(poll);
  if (code !== 0) throw new Error(`${name} exited ${code}:\n${out}\n${err}`);
  const result = JSON.parse(out) as { counts: { read: number }; ms: number; killsPerSecond: number; intakeKillsPerSecond: number };
  await sql()`truncate killmail_intake, cursors`;
  await getQueue("killmail").obliterate({ force: true });
  const run: Run = {
    name,
    kills: result.counts.read,
    seconds: Math.round(result.ms / 100) / 10,
    killsPerSecond: result.killsPerSecond,
    intakeKillsPerSecond: result.intakeKillsPerSecond,
    peakRssMb: Math.round(peakKb / 1024),
  };
  say(
    `${name}: ${run.kills} kills in ${run.seconds}s — ${run.killsPerSecond}/s overall, ${run.intakeKillsPerSecond}/s in the intake, peak RSS ${run.peakRssMb} MB`,
  );
  return run;
}

const runs: Run[] = [];
try {
  runs.push(await measure("import:history", ["import:history", "--from", from, "--to", to]));
  runs.push(await measure("import:everef (URL)", ["import:everef", "--from", from, "--to", to]));
  runs.push(await measure("import:everef (file, bzip2 -dc)", ["import:everef", archive, "--decompressor", "bzip2"]));
  runs.push(await measure("import:everef (file, unbzip2-stream)", ["import:everef", archive, "--decompressor", "js"]));
} finally {
  await sim.stop();
  await closeQueues();
  await closeRedis();
  await closeDb();
  await bench.drop();
  rmSync(join(archive, ".."), { recursive: true, force: true });
}
const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
process.stdout.write(
  `${JSON.stringify({ bench: "import", killmails: N, days: DAYS, cpus: navigator.hardwareConcurrency, loadavg: load, runs })}\n`,
);
