// One active reader of a feed whatever the number of processes or hosts: each process asks for a fenced
// lease in Redis; the one that gets it claims the feed's Postgres cursor with its fencing token and runs
// the reader, the others stand by (logged) and ask again every second. The lease lives a few seconds and
// is renewed while its holder lives, so a standby takes over within about LEASE_TTL_MS + a second of a
// kill -9. A holder that loses the lease stops its reader; one paused past its TTL finds its next cursor
// write refused (cursor.ts) and stops too — either way it goes back to standing by.

import type { Logger } from "pino";
import { acquireFencedLease, processName } from "../helpers/lease.ts";
import { wakeableSleep } from "../helpers/timeout.ts";
import { claimCursor, FencedOutError, readCursorFence } from "./cursor.ts";

/** Lifetime of the lease unless renewed (renewed every third of it). */
export const LEASE_TTL_MS = 5_000;
/** How often a standby asks for the lease. */
const STANDBY_POLL_MS = 1_000;

/** A reader started under the lease: what listenR2z2 returns. */
export interface LedReader<T> {
  done: Promise<T>;
  stop(): void;
  fencedOut(): boolean;
}

export interface LeadOptions<T> {
  /** Lease name (`${QUEUE_PREFIX}:lease:<name>` in Redis). */
  lease: string;
  /** The Postgres cursor the reader moves (table cursors). */
  cursor: string;
  logger: Logger;
  /** Starts the reader with this holder's fencing token. */
  start(fence: number): LedReader<T>;
  /** Give up when another process still holds the lease after this long (one-shot runs); default: stand by for ever. */
  maxStandbyMs?: number;
  ttlMs?: number;
}

export interface Leadership<T> {
  /** The reader's result; undefined when stopped while standing by, or given up after maxStandbyMs. */
  done: Promise<T | undefined>;
  stop(): void;
}

export function lead<T>(opts: LeadOptions<T>): Leadership<T> {
  const { logger } = opts;
  const ttlMs = opts.ttlMs ?? LEASE_TTL_MS;
  const me = processName();
  let stopping = false;
  let reader: LedReader<T> | undefined;
  const { sleep, wake } = wakeableSleep();

  const done = (async (): Promise<T | undefined> => {
    const standbySince = Date.now();
    let lastHolder: string | undefined;
    while (!stopping) {
      let attempt: Awaited<ReturnType<typeof acquireFencedLease>>;
      try {
        attempt = await acquireFencedLease(opts.lease, ttlMs, await readCursorFence(opts.cursor));
      } catch (err) {
        logger.error({ err: (err as Error).message }, "could not ask for the lease (Redis or Postgres unreachable); trying again");
        await sleep(STANDBY_POLL_MS * 5);
        continue;
      }
      if (!attempt.lease) {
        const [holder, fence] = attempt.heldBy.split(" ");
        // Said once per holder: a standby asks every second.
        if (holder !== lastHolder)
          logger.info({ process: me, active: holder, fence: Number(fence) }, "standing by: another process is the active listener");
        lastHolder = holder;
        if (opts.maxStandbyMs !== undefined && Date.now() - standbySince >= opts.maxStandbyMs) {
          logger.warn({ active: holder }, "another process still holds the lease: giving up");
          return undefined;
        }
        await sleep(STANDBY_POLL_MS);
        continue;
      }
      const { lease } = attempt;
      lastHolder = undefined;
      try {
        // From here on, a cursor write with an older token (a previous holder paused past its TTL) is refused.
        await claimCursor(opts.cursor, lease.fence);
      } catch (err) {
        await lease.release();
        if (!(err instanceof FencedOutError)) logger.error({ err: (err as Error).message }, "could not claim the cursor; trying again");
        await sleep(STANDBY_POLL_MS);
        continue;
      }
      logger.info({ process: me, fence: lease.fence }, "this process is the active listener");
      reader = opts.start(lease.fence);
      const onLost = () => {
        logger.error({ process: me, reason: (lease.lost.reason as Error).message }, "lost the lease: stopping the reader");
        reader?.stop();
      };
      lease.lost.addEventListener("abort", onLost);
      const result = await reader.done;
      lease.lost.removeEventListener("abort", onLost);
      await lease.release();
      const lost = lease.lost.aborted || reader.fencedOut();
      reader = undefined;
      if (!lost || stopping) return result;
      logger.warn({ process: me }, "no longer the active listener: standing by");
    }
    return undefined;
  })();

  return {
    done,
    stop() {
      stopping = true;
      reader?.stop();
      wake();
    },
  };
}
