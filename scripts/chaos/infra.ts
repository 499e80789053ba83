// The chaos suite's own infrastructure, on local ports only: a redis-server with an append-only file
// (killable, restartable with its data or without), a PostgreSQL instance of its own (initdb + pg_ctl
// from /usr/lib/postgresql/15/bin, stoppable and restartable), and the project's processes (`bun queue`,
// `bun cli listen:r2z2`) with their logs in files.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chownSync, mkdirSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import postgres from "postgres";
import { parseConfig } from "../../server/helpers/config.ts";
import { createRedis } from "../../server/helpers/redis.ts";

export const ROOT = resolve(import.meta.dirname, "../..");
const PG_BIN = process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolvePort(port));
    });
  });
}

/** Polls `ok` until it is true (or throws after timeoutMs). */
export async function waitUntil(what: string, ok: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 250): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await ok()) return;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A redis-server of our own whose data lives in an append-only file (fsync on every write). */
export class OwnRedis {
  private child: ChildProcess | undefined;
  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort(), mkdtempSync(join(tmpdir(), "kb-chaos-redis-")));
    await redis.launch();
    return redis;
  }

  private async launch(): Promise<void> {
    this.child = spawn(
      "redis-server",
      [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--dir",
        this.dir,
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--save",
        "",
        "--maxmemory-policy",
        "noeviction",
      ],
      { stdio: "ignore" },
    );
    const client = createRedis(
      { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 1 },
      parseConfig({ REDIS_URL: this.url }),
    );
    client.on("error", () => {});
    try {
      await waitUntil(
        `redis-server on port ${this.port}`,
        async () => {
          if (client.status !== "ready") await client.connect().catch(() => client.disconnect());
          return (await client.ping()) === "PONG";
        },
        15_000,
        100,
      );
    } finally {
      client.disconnect();
    }
  }

  /** SIGKILL: no shutdown, no final write. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
  }

  /** Starts it again on the same port: with the append-only file it had, or with nothing. */
  async restart(keepData: boolean): Promise<void> {
    await this.kill();
    if (!keepData) {
      rmSync(this.dir, { recursive: true, force: true });
      mkdirSync(this.dir, { recursive: true });
    }
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A PostgreSQL instance of our own (trust authentication on 127.0.0.1), stoppable and restartable. */
export class OwnPostgres {
  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  url(database = "postgres"): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** initdb refuses to run as root: as root, the cluster belongs to the `postgres` user. */
  private static run(bin: string, args: string[]): void {
    const asRoot = process.getuid?.() === 0;
    const cmd = asRoot ? "runuser" : join(PG_BIN, bin);
    const argv = asRoot ? ["-u", "postgres", "--", join(PG_BIN, bin), ...args] : args;
    const result = spawnSync(cmd, argv, { encoding: "utf8" });
    if (result.status !== 0) throw new Error(`${bin} ${args.join(" ")} failed: ${result.stderr || result.stdout || result.error?.message}`);
  }

  static async start(): Promise<OwnPostgres> {
    const dir = mkdtempSync(join(tmpdir(), "kb-chaos-pg-"));
    if (process.getuid?.() === 0)
      chownSync(dir, Number(spawnSync("id", ["-u", "postgres"]).stdout), Number(spawnSync("id", ["-g", "postgres"]).stdout));
    const pg = new OwnPostgres(await freePort(), dir);
    OwnPostgres.run("initdb", ["-D", join(dir, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
    await pg.launch();
    return pg;
  }

  private async launch(): Promise<void> {
    const options = `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.dir} -c fsync=off -c max_connections=200`;
    OwnPostgres.run("pg_ctl", ["-D", join(this.dir, "data"), "-l", join(this.dir, "server.log"), "-o", options, "-w", "start"]);
    await waitUntil(`postgres on port ${this.port}`, () => this.answers(), 30_000, 200);
  }

  async answers(): Promise<boolean> {
    const client = postgres(this.url(), { max: 1, connect_timeout: 2, onnotice: () => {} });
    try {
      await client`select 1`;
      return true;
    } catch {
      return false;
    } finally {
      await client.end({ timeout: 1 }).catch(() => {});
    }
  }

  /** A fast shutdown: connections are cut, in-flight transactions roll back. */
  stopServer(): void {
    OwnPostgres.run("pg_ctl", ["-D", join(this.dir, "data"), "-m", "fast", "-w", "stop"]);
  }

  async startServer(): Promise<void> {
    await this.launch();
  }

  async stop(): Promise<void> {
    try {
      this.stopServer();
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One of the project's processes, its output in a log file. */
export class Proc {
  readonly child: ChildProcess;
  constructor(
    readonly name: string,
    entry: string,
    args: string[],
    env: Record<string, string>,
    logDir: string,
  ) {
    const log = openSync(join(logDir, `${name}.log`), "a");
    this.child = spawn(process.execPath, [resolve(ROOT, entry), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", log, log],
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (!this.running) return;
    this.child.kill(signal);
    await new Promise((r) => this.child.once("exit", r));
  }

  /** SIGTERM, then SIGKILL after `ms` if it is still there. */
  async stop(ms = 40_000): Promise<void> {
    if (!this.running) return;
    this.child.kill("SIGTERM");
    const exited = new Promise((r) => this.child.once("exit", r));
    const timer = setTimeout(() => this.child.kill("SIGKILL"), ms);
    await exited;
    clearTimeout(timer);
  }
}
