// Backpressure for bulk imports: before handing another batch to the intake, wait while the kills
// waiting to be stored (pending rows of the intake ledger, each carried by a killmail job in Redis,
// alone or in a batch job) are above a threshold, polling until the workers have drained them to a
// low-water mark (90 % of the threshold, so an import does not flap around the line). Bounds what an
// import keeps in Redis to about threshold + one batch per importing process. Counted in kills, not
// jobs: a batch job carries up to KILLMAIL_BATCH_MAX of them.
import { sql } from "../db/client.ts";
import { log } from "../helpers/logger.ts";

/** Default threshold: kills waiting to be stored above which imports pause. */
export const DEFAULT_MAX_PENDING = 50_000;

export interface BackpressureOptions {
  /** Pause while more kills than this wait to be stored (default 50,000). */
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

/** Kills waiting to be stored (pending ledger rows), counted up to `cap` (a big backlog costs no more). */
export async function pendingKillmails(cap: number): Promise<number> {
  const [row] = await sql()<{ n: number }[]>`
    select count(*)::int as n from (select 1 from killmail_intake where status = 'pending' limit ${cap}) p`;
  return row!.n;
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
      let pending = await pendingKillmails(maxPending + 1);
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
        pending = await pendingKillmails(maxPending + 1);
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
