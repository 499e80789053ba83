// zKillboard sync of one character, corporation or alliance: API pages (newest first, with ESI bodies
// since 2026-06; the legacy form gives id/hash only) handed to the intake at the backfill tier, page after
// page until an empty page or maxPages. The client paces requests at ~1/s across processes; waits it
// cannot do inline (a 429, a block) and transient errors are waited out here, a bounded number of
// times. Resumable: the cursor `sync:zkb:<modifier>:<id>` holds the next page; a finished sync starts
// again at page 1 next time (new kills come first). Pages only shift towards higher numbers as kills
// arrive, so resuming at a saved page can re-read kills but never skips one.

import { EsiBlockedError, RetryableError } from "../esi/errors.ts";
import { readCursor, writeCursor } from "../feeds/cursor.ts";
import { log } from "../helpers/logger.ts";
import { getZkbKills, type ZkbKill, type ZkbModifier } from "../zkb/api.ts";
import { resumingThroughOutages } from "./outage.ts";
import { createSink, type ImportCounts, type SinkOptions } from "./sink.ts";

export type SyncKind = "character" | "corporation" | "alliance";

export const MODIFIERS: Record<SyncKind, ZkbModifier> = {
  character: "characterID",
  corporation: "corporationID",
  alliance: "allianceID",
};

/** The API serves pages 1–100. */
export const MAX_PAGES = 100;

export interface SyncCursor {
  /** The next page to read (the ones before it are in the intake). */
  nextPage: number;
  /** The last run reached an empty page or maxPages. */
  done: boolean;
  /** Why it stopped: "empty-page" | "max-pages". */
  stoppedBy?: string;
}

export interface SyncOptions extends Omit<SinkOptions, "source"> {
  /** Last page to read (1–100, default 100). */
  maxPages?: number;
  /** Start at page 1 even if an unfinished run saved a later page. */
  force?: boolean;
  /** Transient failures (5xx, timeouts, malformed pages) tolerated per page before giving up (default 5). */
  attempts?: number;
  onPage?: (page: number, kills: number, counts: ImportCounts) => void;
}

export interface SyncResult {
  kind: SyncKind;
  id: number;
  /** First page read in this run (later than 1 when resumed). */
  firstPage: number;
  /** Pages read in this run (the empty last one included). */
  pages: number;
  stoppedBy: "empty-page" | "max-pages";
  counts: ImportCounts;
  pauses: number;
  pausedMs: number;
  intakeMs: number;
  ms: number;
}

export const syncCursorName = (kind: SyncKind, id: number) => `sync:zkb:${MODIFIERS[kind]}:${id}`;

export async function syncZkb(kind: SyncKind, id: number, opts: SyncOptions = {}): Promise<SyncResult> {
  const started = Date.now();
  const maxPages = Math.min(opts.maxPages ?? MAX_PAGES, MAX_PAGES);
  const name = syncCursorName(kind, id);
  const saved = opts.force ? undefined : await readCursor<SyncCursor>(name);
  const firstPage = saved && !saved.done && saved.nextPage <= maxPages ? saved.nextPage : 1;
  if (firstPage > 1) log("import").info({ kind, id, page: firstPage }, "resuming the zKillboard sync");
  const sink = createSink({ ...opts, source: "zkb" });
  let page = firstPage;
  let stoppedBy: SyncResult["stoppedBy"] = "max-pages";
  for (; page <= maxPages; page++) {
    const kills = await fetchPage(MODIFIERS[kind], id, page, opts.attempts ?? 5);
    if (kills.length === 0) {
      stoppedBy = "empty-page";
      break;
    }
    sink.counts.read += kills.length;
    sink.counts.bodyless += kills.filter((k) => !k.esi).length;
    const items = kills.map((k) =>
      k.esi ? { killmailId: k.killmailId, hash: k.hash, esi: k.esi, zkb: k.zkb } : { killmailId: k.killmailId, hash: k.hash, zkb: k.zkb },
    );
    // The page is in hand: an outage of Postgres or Redis is waited out, then the page goes in.
    await resumingThroughOutages(`${name} page ${page}`, async () => {
      await sink.submit(items);
      await writeCursor(name, { nextPage: page + 1, done: false } satisfies SyncCursor);
    });
    opts.onPage?.(page, kills.length, sink.counts);
  }
  await writeCursor(name, { nextPage: 1, done: true, stoppedBy } satisfies SyncCursor);
  const pages = Math.min(page, maxPages) - firstPage + 1;
  return {
    kind,
    id,
    firstPage,
    pages,
    stoppedBy,
    counts: sink.counts,
    ...sink.backpressure.stats,
    intakeMs: Math.round(sink.intakeMs),
    ms: Date.now() - started,
  };
}

/** One page; waits out blocks (429, zKillboard's error block) and retries transient failures. */
async function fetchPage(modifier: ZkbModifier, id: number, page: number, attempts: number): Promise<ZkbKill[]> {
  const logger = log("import");
  for (let attempt = 1; ; attempt++) {
    try {
      return await getZkbKills(modifier, id, page, { maxWaitMs: 60_000 });
    } catch (err) {
      if (err instanceof EsiBlockedError) {
        const waitMs = Math.max(1_000, err.until - Date.now());
        logger.warn({ page, reason: err.reason, waitMs }, "zKillboard asks us to wait");
        await new Promise((r) => setTimeout(r, waitMs));
        attempt--; // a wait is not a failure
        continue;
      }
      if (!(err instanceof RetryableError) || attempt >= attempts) throw err;
      const waitMs = Math.min(60_000, 2_000 * 2 ** (attempt - 1));
      logger.warn({ page, attempt, err: err.message, retryInMs: waitMs }, "zKillboard page failed; retrying");
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }
}
