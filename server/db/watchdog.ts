// Watches the process's Postgres pool: a pool whose connections stay broken while Postgres itself
// answers a fresh connection (after the server terminated them, a network blip) is replaced by a new
// pool; a process whose new pools break again and again exits with code 1, so its supervisor restarts
// it. While Postgres itself is down there is nothing to repair: the process waits and says so.
import { config } from "../helpers/config.ts";
import { log } from "../helpers/logger.ts";
import { withTimeout } from "../helpers/timeout.ts";
import type { RunnerService } from "../runner/run.ts";
import { createSql, resetSql, sql } from "./client.ts";

export interface WatchdogOptions {
  everyMs?: number;
  timeoutMs?: number;
  /** Consecutive failed checks of the pool before it is judged broken. */
  failuresBeforeReset?: number;
  /** More resets than this within `resetWindowMs`: exit (the process cannot keep a pool). */
  maxResets?: number;
  resetWindowMs?: number;
  exit?: (code: number) => void;
}

export function databaseWatchdog(opts: WatchdogOptions = {}): RunnerService & { check(): Promise<"ok" | "reset" | "down" | "failing"> } {
  const logger = log("db");
  const everyMs = opts.everyMs ?? 15_000;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const failuresBeforeReset = opts.failuresBeforeReset ?? 2;
  const maxResets = opts.maxResets ?? 3;
  const resetWindowMs = opts.resetWindowMs ?? 10 * 60_000;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let failures = 0;
  let down = false;
  const resets: number[] = [];
  let timer: ReturnType<typeof setInterval> | undefined;
  let running: Promise<unknown> = Promise.resolve();

  async function freshAnswers(): Promise<boolean> {
    const fresh = createSql(config().databaseUrl, { max: 1 });
    try {
      await withTimeout(fresh`select 1`, timeoutMs, "a fresh Postgres connection");
      return true;
    } catch {
      return false;
    } finally {
      void fresh.end({ timeout: 0 }).catch(() => {});
    }
  }

  async function check(): Promise<"ok" | "reset" | "down" | "failing"> {
    try {
      await withTimeout(sql()`select 1`, timeoutMs, "the Postgres pool");
      if (down || failures > 0) logger.info({ failures }, "Postgres answers again");
      failures = 0;
      down = false;
      return "ok";
    } catch (err) {
      failures++;
      if (!(await freshAnswers())) {
        if (!down) logger.warn({ err: (err as Error).message }, "Postgres does not answer; waiting for it (jobs retry meanwhile)");
        down = true;
        return "down";
      }
      if (failures < failuresBeforeReset) return "failing";
      const now = Date.now();
      resets.push(now);
      while (resets.length > 0 && resets[0]! < now - resetWindowMs) resets.shift();
      if (resets.length > maxResets) {
        logger.fatal(
          { resets: resets.length, windowMs: resetWindowMs },
          "new Postgres pools keep breaking: exiting so a supervisor restarts this process",
        );
        exit(1);
        return "failing";
      }
      logger.warn(
        { err: (err as Error).message, failures },
        "the Postgres pool's connections are broken while Postgres answers: opening a new pool",
      );
      resetSql();
      failures = 0;
      return "reset";
    }
  }

  return {
    name: "database-watchdog",
    check,
    start() {
      timer = setInterval(() => {
        running = running.then(check).catch(() => {});
      }, everyMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await withTimeout(running, timeoutMs * 2 + 1_000, "the database watchdog").catch(() => {});
    },
  };
}
