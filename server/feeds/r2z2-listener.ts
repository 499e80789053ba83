// The live feed: follows zKillboard's R2Z2 sequence one number at a time, hands every envelope's kill
// (with its ESI body: no ESI call needed) to the intake at the live tier in small batches, and saves
// its cursor in Postgres after each batch is recorded. A restart resumes after the last saved number;
// a crash between the intake write and the cursor save re-reads a few kills, which the intake and the
// work keys de-duplicate.
//
// Nothing published is skipped. A number R2Z2 does not answer although sequence.json is past it (its
// file not readable yet, or expired after a long outage) and a file that will not decode become gaps,
// saved with the cursor and asked again with backoff while the feed goes on; a gap R2Z2 still cannot
// answer after R2Z2_GAP_RETRY_MINUTES is filled from the daily history of the days around it (the
// history import skips kills already stored), logged at error. An outage of R2Z2, Postgres or Redis is
// waited out in the process, with backoff; nothing read is dropped meanwhile.
//
// One listener is active whatever the number of processes or hosts (server/feeds/leadership.ts): it runs
// under a fenced lease and writes the cursor with its fencing token; a refused write (another process
// holds a newer lease) stops it at once: it never moves the cursor again.

import { RetryableError } from "../esi/errors.ts";
import { config } from "../helpers/config.ts";
import { log } from "../helpers/logger.ts";
import { wakeableSleep } from "../helpers/timeout.ts";
import { importHistory } from "../imports/history.ts";
import { submitKillmails } from "../killmails/intake.ts";
import { r2z2Cursor, r2z2Gaps, r2z2Head, r2z2Kills, r2z2Lag, r2z2LastSuccess } from "../metrics/registry.ts";
import { getEphemeral, getSequence, type R2z2Envelope } from "../zkb/r2z2.ts";
import { FencedOutError, readCursor, writeCursor } from "./cursor.ts";

export const R2Z2_CURSOR = "r2z2";

/** A sequence number behind the cursor whose kill is not recorded yet. */
export interface R2z2Gap {
  sequence: number;
  /** Why: R2Z2 answered 404 while reporting a head past it, or its file did not decode. */
  reason: "missing" | "bad-file";
  /** When it was first found (ISO). */
  since: string;
  attempts: number;
  /** When to ask R2Z2 again (epoch ms). */
  nextAt: number;
  /** The UTC days (YYYY-MM-DD) around the kill: the day of the kill read before it, and the day it was found. */
  days: string[];
  /** Set once R2Z2 was given up on: the history import of `days` fills it (again after those days end). */
  filledAt?: string;
}

export interface R2z2Cursor {
  /** Last sequence number read (its kill recorded, or a gap). */
  sequence: number;
  /** Its kill's time (for operators: where the feed stands). */
  killmailTime?: string;
  gaps?: R2z2Gap[];
}

export interface ListenOptions {
  /** Start after this sequence number instead of the saved cursor (replay). */
  from?: number;
  /** Catch up to the head once, then stop (tests, cron-style runs); open gaps are left for the next run. */
  once?: boolean;
  /** Envelopes per intake batch (default 50). */
  batchSize?: number;
  /** Wait after catching up before asking again (default 6 s, as zKillboard asks). */
  idleMs?: number;
  /** Called after every saved batch. */
  onBatch?: (stats: ListenStats) => void;
  /** The fencing token of the lease this listener runs under: cursor writes are refused once a newer one claimed it. */
  fence?: number;
}

export interface ListenStats {
  sequence: number;
  kills: number;
  enqueued: number;
  /** Gaps open now (asked again, or being filled from history). */
  gaps: number;
  /** Gaps R2Z2 answered on a later ask. */
  gapsRecovered: number;
  /** Gaps filled from the daily history. */
  gapsFilled: number;
  caughtUp: boolean;
}

export interface Listener {
  /** Resolves when the listener stops (after stop(), or when caught up with `once`, or fenced out). */
  done: Promise<ListenStats>;
  stop(): void;
  /** True once a cursor write was refused: another process holds a newer lease. */
  fencedOut(): boolean;
}

/** What persist() returns when it gave up because the listener is stopping. */
const STOPPED: unique symbol = Symbol("stopped");

/** At most this many gaps are kept; past it the oldest go straight to history (an outage that expired files). */
const MAX_GAPS = 5_000;
const DAY_MS = 86_400_000;
/** How long after a day ends its history is taken as complete. */
const HISTORY_LAG_MS = 2 * 3_600_000;

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Backoff of a gap's asks: 2 s, 4 s, … 5 min. */
const gapBackoffMs = (attempts: number) => Math.min(300_000, 2_000 * 2 ** Math.min(attempts, 8));

/** A file R2Z2 serves but that does not decode (as opposed to R2Z2 not answering). */
function isBadFile(err: unknown): boolean {
  return err instanceof RetryableError && err.where.status === 200;
}

export function listenR2z2(opts: ListenOptions = {}): Listener {
  const logger = log("r2z2");
  const batchSize = opts.batchSize ?? 50;
  const idleMs = opts.idleMs ?? 6_000;
  const giveUpMs = config().upstream.r2z2GapRetryMinutes * 60_000;
  let stopping = false;
  let fencedOut = false;
  const stats: ListenStats = { sequence: 0, kills: 0, enqueued: 0, gaps: 0, gapsRecovered: 0, gapsFilled: 0, caughtUp: false };
  let gaps: R2z2Gap[] = [];
  let lastTime: string | undefined;

  const { sleep, wake } = wakeableSleep();

  /**
   * Runs `step` until it succeeds or the listener stops, backing off on failures (an outage). A step
   * that succeeded returns its value even when stop() came meanwhile; STOPPED means it did not happen.
   */
  async function persist<T>(what: string, step: () => Promise<T>): Promise<T | typeof STOPPED> {
    for (let failures = 1; ; failures++) {
      try {
        return await step();
      } catch (err) {
        if (err instanceof FencedOutError) {
          // Another process took the lease over (this one was paused, or cut off from Redis): stop now.
          logger.error({ fence: err.fence }, "another listener holds a newer lease: this one stops");
          fencedOut = true;
          stopping = true;
          return STOPPED;
        }
        if (stopping) return STOPPED;
        const waitMs = Math.min(60_000, 500 * 2 ** Math.min(failures, 7));
        logger.error({ err: (err as Error).message, retryInMs: waitMs }, `${what} failed; keeping what was read and trying again`);
        await sleep(waitMs);
        if (stopping) return STOPPED;
      }
    }
  }

  /** Records the batch's kills, then the cursor (with the gaps); survives Postgres and Redis outages. */
  async function save(batch: R2z2Envelope[], last: number): Promise<boolean> {
    if (batch.length > 0) {
      const result = await persist("recording kills", () =>
        submitKillmails(
          batch.map((e) => ({ killmailId: e.killmail_id, hash: e.hash, esi: e.esi, zkb: e.zkb })),
          // Catching up, a read brings many kills: one batch job for them (a lone kill gets its own job).
          { source: "r2z2", batchJobKills: config().batchJobKills },
        ),
      );
      if (result === STOPPED) return false;
      stats.kills += batch.length;
      stats.enqueued += result.enqueued;
    }
    const cursor: R2z2Cursor = { sequence: last, gaps };
    const time = batch.at(-1)?.esi.killmail_time ?? lastTime;
    if (time) cursor.killmailTime = time;
    if ((await persist("saving the cursor", () => writeCursor(R2Z2_CURSOR, cursor, opts.fence))) === STOPPED) return false;
    stats.sequence = last;
    stats.gaps = gaps.length;
    r2z2Kills.inc(batch.length);
    observePosition(last);
    r2z2LastSuccess.set(Date.now() / 1000);
    opts.onBatch?.({ ...stats });
    return true;
  }

  /** The head as last seen: sequence.json, or the last number read when that is further. */
  let head = 0;
  let headAskedAt = 0;
  /** While catching up the head is not asked for by the reads: ask sequence.json every 30 s for the lag. */
  async function refreshHead(): Promise<void> {
    if (Date.now() - headAskedAt < 30_000) return;
    headAskedAt = Date.now();
    head = Math.max(head, await getSequence());
  }
  function observePosition(cursor: number): void {
    head = Math.max(head, cursor);
    r2z2Cursor.set(cursor);
    r2z2Head.set(head);
    r2z2Lag.set(head - cursor);
    r2z2Gaps.set(gaps.length);
  }

  function addGap(sequence: number, reason: R2z2Gap["reason"], now = Date.now()): void {
    const days = [...new Set([lastTime ? utcDay(Date.parse(lastTime)) : utcDay(now), utcDay(now)])].sort();
    gaps.push({ sequence, reason, since: new Date(now).toISOString(), attempts: 0, nextAt: now + 1_000, days });
    if (gaps.length > MAX_GAPS) {
      const oldest = gaps.reduce((a, b) => (Date.parse(a.since) <= Date.parse(b.since) ? a : b));
      oldest.nextAt = 0;
      oldest.since = new Date(0).toISOString(); // given up on at the next look
    }
  }

  const done = (async (): Promise<ListenStats> => {
    const saved = await persist("reading the cursor", () => readCursor<R2z2Cursor>(R2Z2_CURSOR));
    if (saved === STOPPED) return { ...stats };
    gaps = opts.from === undefined ? [...(saved?.gaps ?? [])] : [];
    lastTime = saved?.killmailTime;
    const start = opts.from ?? saved?.sequence ?? (await persist("asking R2Z2 for its head", getSequence));
    if (start === STOPPED) return { ...stats };
    let last: number = start;
    stats.sequence = last;
    stats.gaps = gaps.length;
    observePosition(last);
    // The first start remembers where the feed stood, so nothing published after it is ever missed.
    if (
      (!saved || opts.from !== undefined) &&
      (await persist("saving the cursor", () => writeCursor(R2Z2_CURSOR, { sequence: last, gaps } satisfies R2z2Cursor, opts.fence))) ===
        STOPPED
    )
      return { ...stats };
    logger.info({ from: last + 1, gaps: gaps.length, resumed: opts.from === undefined && saved !== undefined }, "following the R2Z2 feed");
    let failures = 0;
    while (!stopping) {
      const batch: R2z2Envelope[] = [];
      let caughtUp = false;
      try {
        await refreshHead();
        await askGaps(batch);
        caughtUp = await readBatch(batch);
        failures = 0;
      } catch (err) {
        // R2Z2 unreachable for longer than the client's own retries: keep what was read, back off, go on.
        failures++;
        const waitMs = Math.min(60_000, 1_000 * 2 ** Math.min(failures, 6));
        logger.error({ err: (err as Error).message, sequence: last + 1, retryInMs: waitMs }, "R2Z2 unreachable; retrying");
        if (batch.length > 0 && !(await save(batch, last))) break;
        await sleep(waitMs);
        continue;
      }
      if ((batch.length > 0 || last !== stats.sequence || gaps.length !== stats.gaps) && !(await save(batch, last))) break;
      await fillFromHistory();
      stats.caughtUp = caughtUp;
      if (caughtUp) {
        if (opts.once) break;
        await sleep(idleMs);
      }
    }
    logger.info({ ...stats }, "R2Z2 listener stopped");
    return { ...stats };

    /** Reads envelopes after `last` into batch; true when the head was reached. */
    async function readBatch(batch: R2z2Envelope[]): Promise<boolean> {
      while (batch.length < batchSize && !stopping) {
        const next = last + 1;
        let envelope: R2z2Envelope | null;
        try {
          envelope = await getEphemeral(next);
        } catch (err) {
          if (!isBadFile(err)) throw err;
          logger.warn({ sequence: next, err: (err as Error).message }, "R2Z2 file does not decode; recorded as a gap, asked again later");
          addGap(next, "bad-file");
          last = next;
          continue;
        }
        if (envelope) {
          batch.push(envelope);
          lastTime = envelope.esi.killmail_time;
          last = next;
          continue;
        }
        // 404: past the head, or not readable yet although sequence.json is past it (or expired).
        const seen = await getSequence();
        head = Math.max(head, seen);
        headAskedAt = Date.now();
        if (next > seen) return true;
        logger.info({ sequence: next, head: seen }, "R2Z2 number missing behind the head; recorded as a gap, asked again later");
        addGap(next, "missing");
        last = next;
      }
      return false;
    }

    /** Asks R2Z2 again for the gaps that are due; those it answers join the batch. */
    async function askGaps(batch: R2z2Envelope[]): Promise<void> {
      const now = Date.now();
      for (const gap of gaps.filter((g) => !g.filledAt && g.nextAt <= now)) {
        if (stopping || batch.length >= batchSize) return;
        let envelope: R2z2Envelope | null = null;
        try {
          envelope = await getEphemeral(gap.sequence);
        } catch (err) {
          if (!isBadFile(err)) throw err;
        }
        if (envelope) {
          batch.push(envelope);
          gaps = gaps.filter((g) => g !== gap);
          stats.gapsRecovered++;
          logger.info({ sequence: gap.sequence, attempts: gap.attempts + 1 }, "R2Z2 gap answered");
          continue;
        }
        gap.attempts++;
        gap.nextAt = Date.now() + gapBackoffMs(gap.attempts);
      }
    }

    /**
     * Gaps R2Z2 would not answer for R2Z2_GAP_RETRY_MINUTES: imports the history of their days (kills
     * stored are skipped). A gap whose days have ended is then closed; one of today is imported again
     * once the day is over, when its history is complete.
     */
    async function fillFromHistory(): Promise<void> {
      const now = Date.now();
      const ended = (g: R2z2Gap) => g.days.every((d) => Date.parse(d) + DAY_MS + HISTORY_LAG_MS <= now);
      const due = gaps.filter((g) => (g.filledAt ? ended(g) : now - Date.parse(g.since) >= giveUpMs));
      if (due.length === 0 || stopping) return;
      const days = [...new Set(due.flatMap((g) => g.days))].sort();
      logger.error(
        { sequences: due.map((g) => g.sequence).slice(0, 20), gaps: due.length, days },
        "R2Z2 never answered these numbers: filling them from the daily history",
      );
      let imported = 0;
      let alreadyStored = 0;
      for (const day of days) {
        const result = await persist("filling gaps from history", () => importHistory(day, day, { force: true }));
        if (result === STOPPED || result.days.some((d) => d.status === "failed")) return;
        imported += result.counts.enqueued;
        alreadyStored += result.counts.alreadyStored;
      }
      const filledAt = new Date().toISOString();
      for (const gap of due) {
        // Days that had ended are complete in the history; a day still running gets a second import once it is over.
        if (gap.filledAt || ended(gap)) {
          gaps = gaps.filter((g) => g !== gap);
          stats.gapsFilled++;
        } else gap.filledAt = filledAt;
      }
      logger.info({ days, imported, alreadyStored }, "gaps filled from history");
      await save([], last);
    }
  })();

  return {
    done,
    stop() {
      stopping = true;
      wake();
    },
    fencedOut: () => fencedOut,
  };
}
