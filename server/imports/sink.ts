// Where every bulk import hands its kills: batches go to the intake (the one door: ledger with
// bodies, kills already stored skipped, jobs de-duplicated; kills with bodies travel in batch jobs of
// BATCH_JOB_KILLS) at the backfill tier, each batch only once the killmail queue has room
// (backpressure). `push` keeps one batch in flight while the caller reads and
// validates the next (the intake and the parsing overlap); its `then` step (a cursor write) runs after
// that batch is in, in order. Keeps the counts every import reports.
import { config } from "../helpers/config.ts";
import { type IntakeItem, type IntakeSource, submitKillmails } from "../killmails/intake.ts";
import type { PriorityTier } from "../queues/priority.ts";
import { type Backpressure, type BackpressureOptions, createBackpressure } from "./backpressure.ts";

/** Kills per intake batch by default (the intake's own chunk size; a larger batch only costs memory). */
export const DEFAULT_BATCH_SIZE = 1_000;

export interface ImportCounts {
  /** Kills the source listed (valid or not). */
  read: number;
  /** Already stored: not recorded, not enqueued. */
  alreadyStored: number;
  /** Killmail jobs added. */
  enqueued: number;
  /** Already pending in the killmail queue (same work key): nothing added. */
  alreadyQueued: number;
  /** Kills that came without a (valid) body: handed in with id/hash only, the killmail worker fetches
   * the body from ESI (paced by the ESI budget) unless the kill is stored by then. */
  bodyless: number;
  /** Entries or bodies that failed validation (a bad body with a good id/hash still goes in body-less). */
  invalid: number;
}

export function emptyCounts(): ImportCounts {
  return { read: 0, alreadyStored: 0, enqueued: 0, alreadyQueued: 0, bodyless: 0, invalid: 0 };
}

export function addCounts(into: ImportCounts, from: ImportCounts): void {
  for (const k of Object.keys(into) as (keyof ImportCounts)[]) into[k] += from[k];
}

export interface SinkOptions extends BackpressureOptions {
  source: IntakeSource;
  /** Default backfill: history never delays the live feed. */
  priority?: PriorityTier;
}

export interface ImportSink {
  /** Records and enqueues one batch after waiting for room; resolves once the intake has it. */
  submit(items: IntakeItem[]): Promise<void>;
  /**
   * Starts submitting a batch, then `then` (e.g. saving a cursor) once it is in; resolves as soon as the
   * batch before it is done, so at most one batch is in flight. Errors surface here or from drain().
   */
  push(items: IntakeItem[], then?: () => Promise<void>): Promise<void>;
  /** Waits for the batch in flight. */
  drain(): Promise<void>;
  readonly counts: ImportCounts;
  /** Time spent in the intake (recording and enqueueing, not waiting for room), ms. */
  readonly intakeMs: number;
  readonly backpressure: Backpressure;
}

export function createSink(opts: SinkOptions): ImportSink {
  const backpressure = createBackpressure(opts);
  const counts = emptyCounts();
  const priority = opts.priority ?? "backfill";
  let intakeMs = 0;
  let inflight: Promise<void> = Promise.resolve();
  return {
    counts,
    backpressure,
    get intakeMs() {
      return intakeMs;
    },
    async submit(items) {
      if (items.length === 0) return;
      await backpressure.waitForRoom();
      const t0 = performance.now();
      const result = await submitKillmails(items, { source: opts.source, priority, batchJobKills: config().batchJobKills });
      intakeMs += performance.now() - t0;
      counts.alreadyStored += result.alreadyStored;
      counts.enqueued += result.enqueued;
      counts.alreadyQueued += result.deduplicated;
    },
    async push(items, then) {
      const previous = inflight;
      await previous;
      const next = this.submit(items).then(() => then?.());
      next.catch(() => {}); // reported by the next push() or drain()
      inflight = next;
    },
    async drain() {
      await inflight;
    },
  };
}
