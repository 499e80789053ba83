// Backpressure for bulk imports: before handing another batch to the intake, wait while the killmail
// queue's pending jobs (waiting + prioritized) are above a threshold, polling until the workers have
// drained it to a low-water mark (90 % of the threshold, so an import does not flap around the line).
// Bounds what an import keeps in Redis to about threshold + one batch per importing process.
import { log } from "../helpers/logger.ts";
import { getQueue } from "../helpers/queue.ts";

/** Default threshold: pending killmail jobs above which imports pause. */
export const DEFAULT_MAX_PENDING = 50_000;

export interface BackpressureOptions {
  /** Pause while pending jobs are above this (default 50,000). */
  maxPending?: number;
  /** How often to look again while paused, ms (default 1,000). */
  pollMs?: number;
  /** Told when a pause starts and ends (the CLI logs it). */
  onPause?: (pending: number, maxPending: number) => void;
  onResume?: (pending: number, pausedMs: number) => void;
}

export interface BackpressureStats {
  /** Times the import paused. */
  pauses: number;
  /** Total time spent paused, ms. */
  pausedMs: number;
}

export interface Backpressure {
  /** Resolves when there is room for another batch. */
  waitForRoom(): Promise<void>;
  readonly stats: BackpressureStats;
}

/** Pending killmail jobs: waiting (priority 0) plus prioritized (every job we add has a priority). */
export async function pendingKillmails(): Promise<number> {
  const counts = await getQueue("killmail").getJobCounts("waiting", "prioritized");
  return (counts.waiting ?? 0) + (counts.prioritized ?? 0);
}

export function createBackpressure(opts: BackpressureOptions = {}): Backpressure {
  const maxPending = opts.maxPending ?? DEFAULT_MAX_PENDING;
  const lowWater = Math.floor(maxPending * 0.9);
  const pollMs = opts.pollMs ?? 1_000;
  const logger = log("import");
  const stats: BackpressureStats = { pauses: 0, pausedMs: 0 };
  return {
    stats,
    async waitForRoom() {
      let pending = await pendingKillmails();
      if (pending <= maxPending) return;
      const started = Date.now();
      stats.pauses++;
      // The caller's callbacks tell the user (the CLI prints a line); otherwise the log does.
      const level = opts.onPause ? "debug" : "info";
      logger[level]({ pending, maxPending }, "killmail queue is full: waiting for the workers to drain it");
      opts.onPause?.(pending, maxPending);
      let lastLog = started;
      while (pending > lowWater) {
        await new Promise((r) => setTimeout(r, pollMs));
        pending = await pendingKillmails();
        if (Date.now() - lastLog >= 60_000) {
          lastLog = Date.now();
          logger.info({ pending, maxPending, waitingMs: lastLog - started }, "still waiting for the killmail queue to drain");
        }
      }
      const pausedMs = Date.now() - started;
      stats.pausedMs += pausedMs;
      logger[level]({ pending, pausedMs }, "killmail queue drained: resuming the import");
      opts.onResume?.(pending, pausedMs);
    },
  };
}
