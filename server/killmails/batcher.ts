// Micro-batching of killmail stores: concurrent killmail jobs hand their validated kill to the batcher
// and wait; the batcher writes up to `maxBatch` kills in one transaction (or whatever arrived within
// `maxWaitMs`), then resolves each job with its own outcome. A job is acknowledged only after the
// commit that holds its kill. If Postgres rejects the data of a batch (a value out of range, a
// constraint), the batch is split in halves and retried until the kill at fault fails alone, with a
// PermanentStoreError; any other failure (connection lost, …) fails every kill of the batch, to retry.
import type { Sql } from "postgres";
import { type KillToStore, storeKillmails } from "./store.ts";

export type StoreOutcome = "stored" | "existing";

/** Postgres refused this kill's data (SQLSTATE class 22 data exception or 23 constraint): retrying cannot help. */
export class PermanentStoreError extends Error {
  override name = "PermanentStoreError";
  constructor(
    readonly killmailId: number,
    cause: Error,
  ) {
    super(`killmail ${killmailId} cannot be stored: ${cause.message}`, { cause });
  }
}

function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === "string" && (code.startsWith("22") || code.startsWith("23"));
}

interface Pending {
  kill: KillToStore;
  resolve(outcome: StoreOutcome): void;
  reject(err: unknown): void;
}

export interface BatcherOptions {
  maxBatch?: number;
  maxWaitMs?: number;
  /** Transactions in flight at once (each holds one pool connection). */
  maxConcurrent?: number;
}

export interface BatcherStats {
  batches: number;
  kills: number;
  stored: number;
  existing: number;
}

export class KillmailBatcher {
  private queue: Pending[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
  private inFlight = 0;
  private readonly idle: (() => void)[] = [];
  readonly stats: BatcherStats = { batches: 0, kills: 0, stored: 0, existing: 0 };
  private readonly maxBatch: number;
  private readonly maxWaitMs: number;
  private readonly maxConcurrent: number;

  constructor(
    private readonly sql: () => Sql,
    opts: BatcherOptions = {},
  ) {
    this.maxBatch = opts.maxBatch ?? 500;
    this.maxWaitMs = opts.maxWaitMs ?? 20;
    this.maxConcurrent = opts.maxConcurrent ?? 2;
  }

  /** Resolves once the kill is committed (or was already stored). */
  submit(kill: KillToStore): Promise<StoreOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ kill, resolve, reject });
      if (this.queue.length >= this.maxBatch) this.flushSoon(0);
      else this.flushSoon(this.maxWaitMs);
    });
  }

  /** Writes everything queued now; resolves when nothing is in flight. */
  async drain(): Promise<void> {
    this.clearTimer();
    this.pump(true);
    if (this.inFlight === 0 && this.queue.length === 0) return;
    await new Promise<void>((r) => this.idle.push(r));
  }

  private flushSoon(delay: number): void {
    if (delay === 0) {
      this.clearTimer();
      this.pump(false);
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump(true);
      }, delay);
    }
  }

  /** Starts transactions while there is work and capacity; `partial` allows a batch below maxBatch. */
  private pump(partial: boolean): void {
    while (this.inFlight < this.maxConcurrent && this.queue.length > 0 && (partial || this.queue.length >= this.maxBatch)) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      void this.write(batch).finally(() => {
        this.inFlight--;
        // Work that queued while the connections were busy goes out as soon as one frees up.
        if (this.queue.length > 0) this.pump(true);
        else if (this.inFlight === 0) for (const r of this.idle.splice(0)) r();
      });
    }
  }

  private async write(batch: Pending[]): Promise<void> {
    try {
      const result = await storeKillmails(
        this.sql(),
        batch.map((p) => p.kill),
      );
      const stored = new Set(result.stored);
      this.stats.batches++;
      this.stats.kills += batch.length;
      this.stats.stored += result.stored.length;
      this.stats.existing += batch.length - result.stored.length;
      // A kill submitted twice in one batch is written once: only its first submission reports "stored".
      for (const p of batch) p.resolve(stored.delete(p.kill.esi.killmail_id) ? "stored" : "existing");
    } catch (err) {
      if (!isDataError(err)) {
        for (const p of batch) p.reject(err);
      } else if (new Set(batch.map((p) => p.kill.esi.killmail_id)).size === 1) {
        for (const p of batch) p.reject(new PermanentStoreError(p.kill.esi.killmail_id, err as Error));
      } else {
        const half = Math.ceil(batch.length / 2);
        await this.write(batch.slice(0, half));
        await this.write(batch.slice(half));
      }
    }
  }
}
