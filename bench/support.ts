// Helpers shared by the benchmark scripts: options, output, an isolated database and BullMQ prefix,
// spawning entry points as real processes, CPU time by role.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import postgres from "postgres";
import { runMigrations } from "../server/db/migrate.ts";
import { config, prefixFor, setConfig } from "../server/helpers/config.ts";
import { deleteKeys } from "../server/helpers/redis.ts";

const ROOT = resolve(import.meta.dirname, "..");

const args = process.argv.slice(2);

/** `--name <number>` from the command line, or the fallback. */
export function numberOption(name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

export function flag(name: string): boolean {
  return args.includes(`--${name}`);
}

/** Progress and figures go to stderr; stdout is kept for the final JSON line. */
export const say = (s: string) => process.stderr.write(`${s}\n`);
export const rate = (n: number, ms: number) => Math.round(n / (ms / 1000));

export interface BenchEnvironment {
  database: string;
  /** URL of the bench's own database (migrated). */
  url: string;
  /** The bench's own BullMQ prefix. */
  prefix: string;
  /** Drops the database and the prefix's Redis keys (unless `keep`); close your own connections first. */
  drop(): Promise<void>;
}

/** Creates and migrates a database `kb_bench_<label>_<hex>` and a prefix, and points this process at both. */
export async function benchEnvironment(label: string, keep = flag("keep")): Promise<BenchEnvironment> {
  const hex = randomBytes(3).toString("hex");
  const database = `kb_bench_${label}_${hex}`;
  const prefix = prefixFor(`bench-${label}-${hex}`);
  const adminUrl = config().databaseUrl;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${database}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  setConfig({ databaseUrl: url.toString(), queuePrefix: prefix, logLevel: "warn" });
  await runMigrations();
  return {
    database,
    url: url.toString(),
    prefix,
    async drop() {
      if (keep) say(`kept database ${database} and prefix ${prefix}`);
      else {
        await deleteKeys(`${prefix}:*`);
        await admin.unsafe(`drop database if exists "${database}" with (force)`);
      }
      await admin.end();
    },
  };
}

export interface BenchProcess {
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<number | null>;
  output(): string;
  readonly pid: number;
}

/** CPU seconds used so far, by role: this process, the given worker pids, Postgres, Redis (Linux /proc). */
export interface CpuSnapshot {
  bench: number;
  workers: number;
  postgres: number;
  redis: number;
}

const TICKS_PER_S = 100;

function procCpu(pid: string): { name: string; seconds: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { name, seconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S };
  } catch {
    return undefined; // gone, or not Linux
  }
}

export function cpuSnapshot(workerPids: number[]): CpuSnapshot {
  const own = process.cpuUsage();
  const snap: CpuSnapshot = { bench: (own.user + own.system) / 1e6, workers: 0, postgres: 0, redis: 0 };
  for (const pid of workerPids) snap.workers += procCpu(String(pid))?.seconds ?? 0;
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc");
  } catch {
    return snap;
  }
  for (const pid of entries) {
    if (!/^\d+$/.test(pid)) continue;
    const p = procCpu(pid);
    if (p?.name === "postgres") snap.postgres += p.seconds;
    else if (p?.name === "redis-server") snap.redis += p.seconds;
  }
  return snap;
}

/** CPU microseconds per unit of work between two snapshots, by role. */
export function cpuPer(units: number, from: CpuSnapshot, to: CpuSnapshot): CpuSnapshot {
  const per = (k: keyof CpuSnapshot) => Math.round(((to[k] - from[k]) * 1e6) / units);
  return { bench: per("bench"), workers: per("workers"), postgres: per("postgres"), redis: per("redis") };
}

/** Runs `bun <entry> …args` from the project root (with BENCH_CPU_PROF_DIR set: under Bun's CPU profiler, a
 * .cpuprofile per process written there at exit); stop() sends SIGTERM and waits for the exit. */
export function spawnEntry(entry: string, args: string[], env: Record<string, string>): BenchProcess {
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_CPU_PROF_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`] : []),
      resolve(ROOT, entry),
      ...args,
    ],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  process.on("exit", () => child.kill("SIGKILL"));
  return {
    pid: child.pid!,
    output: () => out,
    async waitFor(text, timeoutMs = 30_000) {
      const end = Date.now() + timeoutMs;
      while (!out.includes(text)) {
        if (Date.now() > end) throw new Error(`${entry} did not print '${text}' in time:\n${out}`);
        if (child.exitCode !== null) throw new Error(`${entry} exited (${child.exitCode}):\n${out}`);
        await Bun.sleep(50);
      }
    },
    async stop() {
      child.kill("SIGTERM");
      return exited;
    },
  };
}
