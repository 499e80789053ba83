// The store collector: concurrent killmail jobs hand it their validated kills and wait; it writes up to
// `maxKills` kills in one store transaction (or whatever arrived within `maxWaitMs`), then resolves each
// kill with its own outcome, so a job is acknowledged only after the commit that holds its kills. If
// Postgres rejects the data of a transaction (a value out of range, a constraint), the transaction's
// kills are split in halves and written again until the kill at fault fails alone, with a
// PermanentStoreError; any other failure (connection lost, …) fails every kill of the transaction, to retry.

import type { Sql } from "postgres";
import { isPermanentDatabaseError } from "../helpers/transient.ts";
import { type KillToStore, storeKillmails } from "./store.ts";

export type StoreOutcome = "stored" | "existing";

/** Postgres refused this kill's data (SQLSTATE class 22, 23 or P0: see isPermanentDatabaseError): retrying cannot help. */
export class PermanentStoreError extends Error {
  override name = "PermanentStoreError";
  constructor(
    readonly killmailId: number,
    cause: Error,
  ) {
    super(`killmail ${killmailId} cannot be stored: ${cause.message}`, { cause });
  }
}

interface Pending {
  kill: KillToStore;
  resolve(outcome: StoreOutcome): void;
  reject(err: unknown): void;
}

export interface StoreCollectorOptions {
  /** Kills per store transaction at most. */
  maxKills?: number;
  /** How long a transaction waits for more kills before it is written. */
  maxWaitMs?: number;
  /** Transactions in flight at once (each holds one pool connection). */
  maxConcurrent?: number;
}

export interface StoreCollectorStats {
  transactions: number;
  kills: number;
  stored: number;
  existing: number;
}

export class StoreCollector {
  private queue: Pending[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight = 0;
  private readonly idle: (() => void)[] = [];
  readonly stats: StoreCollectorStats = { transactions: 0, kills: 0, stored: 0, existing: 0 };
  private readonly maxKills: number;
  private readonly maxWaitMs: number;
  private readonly maxConcurrent: number;

  constructor(
    private readonly sql: () => Sql,
    opts: StoreCollectorOptions = {},
  ) {
    this.maxKills = opts.maxKills ?? 500;
    this.maxWaitMs = opts.maxWaitMs ?? 20;
    this.maxConcurrent = opts.maxConcurrent ?? 2;
  }

  /** Resolves once the kill is committed (or was already stored). */
  submit(kill: KillToStore): Promise<StoreOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ kill, resolve, reject });
      if (this.queue.length >= this.maxKills) this.flushSoon(0);
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

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
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

  /** Starts transactions while there is work and capacity; `partial` allows a transaction below maxKills. */
  private pump(partial: boolean): void {
    while (this.inFlight < this.maxConcurrent && this.queue.length > 0 && (partial || this.queue.length >= this.maxKills)) {
      const kills = this.queue.splice(0, this.maxKills);
      this.inFlight++;
      void this.write(kills).finally(() => {
        this.inFlight--;
        // Work that queued while the connections were busy goes out as soon as one frees up.
        if (this.queue.length > 0) this.pump(true);
        else if (this.inFlight === 0) for (const r of this.idle.splice(0)) r();
      });
    }
  }

  private async write(kills: Pending[]): Promise<void> {
    try {
      const result = await storeKillmails(
        this.sql(),
        kills.map((p) => p.kill),
      );
      const stored = new Set(result.stored);
      this.stats.transactions++;
      this.stats.kills += kills.length;
      this.stats.stored += result.stored.length;
      this.stats.existing += kills.length - result.stored.length;
      // A kill submitted twice in one transaction is written once: only its first submission reports "stored".
      for (const p of kills) p.resolve(stored.delete(p.kill.esi.killmail_id) ? "stored" : "existing");
    } catch (err) {
      if (!isPermanentDatabaseError(err)) {
        for (const p of kills) p.reject(err);
      } else if (new Set(kills.map((p) => p.kill.esi.killmail_id)).size === 1) {
        for (const p of kills) p.reject(new PermanentStoreError(p.kill.esi.killmail_id, err as Error));
      } else {
        const half = Math.ceil(kills.length / 2);
        await this.write(kills.slice(0, half));
        await this.write(kills.slice(half));
      }
    }
  }
}
