// The live feed: follows zKillboard's R2Z2 sequence one number at a time, hands every envelope's kill
// (with its ESI body: no ESI call needed) to the intake at the live tier in small batches, and saves
// its cursor in Postgres after each batch is recorded. A restart resumes after the last saved number;
// a crash between the intake write and the cursor save re-reads a few kills, which the intake and the
// work keys de-duplicate. 404 past the head means caught up: wait and ask again. A missing number
// behind the head (an expired file after a long outage) is logged with the way to fill it.

import { config } from "../helpers/config.ts";
import { log } from "../helpers/logger.ts";
import { submitKillmails } from "../killmails/intake.ts";
import { getEphemeral, getSequence, type R2z2Envelope } from "../zkb/r2z2.ts";
import { readCursor, writeCursor } from "./cursor.ts";

export const R2Z2_CURSOR = "r2z2";

export interface R2z2Cursor {
  /** Last sequence number whose kill is recorded. */
  sequence: number;
  /** Its kill's time (for operators: where the feed stands). */
  killmailTime?: string;
}

export interface ListenOptions {
  /** Start after this sequence number instead of the saved cursor (replay). */
  from?: number;
  /** Catch up to the head once, then stop (tests, cron-style runs). */
  once?: boolean;
  /** Envelopes per intake batch (default 50). */
  batchSize?: number;
  /** Wait after catching up before asking again (default 6 s, as zKillboard asks). */
  idleMs?: number;
  /** Called after every saved batch. */
  onBatch?: (stats: ListenStats) => void;
}

export interface ListenStats {
  sequence: number;
  kills: number;
  enqueued: number;
  skippedMissing: number;
  caughtUp: boolean;
}

export interface Listener {
  /** Resolves when the listener stops (after stop(), or when caught up with `once`). */
  done: Promise<ListenStats>;
  stop(): void;
}

export function listenR2z2(opts: ListenOptions = {}): Listener {
  const logger = log("r2z2");
  const batchSize = opts.batchSize ?? 50;
  const idleMs = opts.idleMs ?? 6_000;
  let stopping = false;
  let wake: (() => void) | undefined;
  const stats: ListenStats = { sequence: 0, kills: 0, enqueued: 0, skippedMissing: 0, caughtUp: false };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  async function save(batch: R2z2Envelope[], last: number): Promise<void> {
    if (batch.length > 0) {
      const result = await submitKillmails(
        batch.map((e) => ({ killmailId: e.killmail_id, hash: e.hash, esi: e.esi })),
        // Catching up, a read brings many kills: one batch job for them (a lone kill gets its own job).
        { source: "r2z2", batchJobKills: config().batchJobKills },
      );
      stats.kills += batch.length;
      stats.enqueued += result.enqueued;
    }
    const cursor: R2z2Cursor = { sequence: last };
    const time = batch.at(-1)?.esi.killmail_time;
    if (time) cursor.killmailTime = time;
    await writeCursor(R2Z2_CURSOR, cursor);
    stats.sequence = last;
    opts.onBatch?.({ ...stats });
  }

  const done = (async (): Promise<ListenStats> => {
    const saved = await readCursor<R2z2Cursor>(R2Z2_CURSOR);
    let last = opts.from ?? saved?.sequence ?? (await getSequence());
    stats.sequence = last;
    // The first start remembers where the feed stood, so nothing published after it is ever missed.
    if (!saved || opts.from !== undefined) await writeCursor(R2Z2_CURSOR, { sequence: last } satisfies R2z2Cursor);
    logger.info({ from: last + 1, resumed: opts.from === undefined && saved !== undefined }, "following the R2Z2 feed");
    let failures = 0;
    while (!stopping) {
      const batch: R2z2Envelope[] = [];
      let caughtUp = false;
      try {
        caughtUp = await readBatch(batch);
        failures = 0;
      } catch (err) {
        // An outage longer than the client's own retries: keep what was read, back off, go on.
        failures++;
        const waitMs = Math.min(60_000, 1_000 * 2 ** Math.min(failures, 6));
        logger.error({ err: (err as Error).message, sequence: last + 1, retryInMs: waitMs }, "R2Z2 unreachable; retrying");
        if (batch.length > 0) await save(batch, last);
        await sleep(waitMs);
        continue;
      }
      if (batch.length > 0 || last !== stats.sequence) await save(batch, last);
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
        const envelope = await getEphemeral(next);
        if (envelope) {
          batch.push(envelope);
          last = next;
          continue;
        }
        // 404: past the head, or a hole behind it (sequence.json is written about every 51 kills).
        const head = await getSequence();
        if (next <= head) {
          logger.warn(
            { sequence: next, head },
            "R2Z2 sequence number is missing behind the head (expired after an outage?); skipped — fill the gap with `bun cli import:history` for those days",
          );
          stats.skippedMissing++;
          last = next;
          continue;
        }
        return true;
      }
      return false;
    }
  })();

  return {
    done,
    stop() {
      stopping = true;
      wake?.();
    },
  };
}
