// History import from zKillboard's R2Z2 daily files: per UTC day the raw file ({killID: ESI body}) gives
// the bodies and the id/hash list ({killID: hash}) the hashes; a kill the raw file lacks (or whose body
// is invalid) goes in with id/hash only, and the killmail worker fetches it from ESI, paced by the
// budget. Each day is checked against history/totals.json (expected, with body, id/hash only, missing).
// Resumable: a cursor per day in Postgres (`import:history:YYYYMMDD`) holds the last killmail id handed
// to the intake (ids go in ascending order) and, once the day is through, its report; a finished day is
// skipped on later runs unless totals.json now counts a different number of kills for it.

import { checkEsiKillmail } from "../esi/killmail-schema.ts";
import { readCursor, writeCursor } from "../feeds/cursor.ts";
import { log } from "../helpers/logger.ts";
import type { IntakeItem } from "../killmails/intake.ts";
import { getHistoryDay, getHistoryRawIndex, getHistoryTotals } from "../zkb/r2z2.ts";
import { MalformedBody } from "../zkb/raw-day.ts";
import { compactDay, dayRange, totalsByDay } from "./days.ts";
import { resumingThroughOutages } from "./outage.ts";
import { createSink, DEFAULT_BATCH_SIZE, type ImportCounts, type ImportSink, type SinkOptions } from "./sink.ts";

export interface DayReport {
  day: string;
  /** Kills the totals file counts for the day (null: the day is not in it). */
  expected: number | null;
  /** Kills listed with a valid body. */
  withBody: number;
  /** Kills listed with id/hash only (no body, or an invalid one): fetched from ESI. */
  idHashOnly: number;
  /** expected − listed, when positive. */
  missing: number;
  /** Bodies that failed validation (included in idHashOnly when the kill has a hash). */
  invalid: number;
  /** imported (this run), done-earlier (skipped: finished before and totals unchanged), absent
   * (no file for the day), failed (see error; the next run retries it). */
  status: "imported" | "done-earlier" | "absent" | "failed";
  error?: string;
}

export interface HistoryCursor {
  /** The day went through to the end; `report` is its result. */
  done: boolean;
  /** Highest killmail id handed to the intake so far (ids go in ascending order). */
  afterId?: number;
  report?: DayReport;
}

export interface ImportOptions extends Omit<SinkOptions, "source"> {
  /** Kills per intake batch (default 1,000). */
  batchSize?: number;
  /** Ignore finished days and saved positions: read everything again (the intake still skips stored kills). */
  force?: boolean;
  /** Called after every batch with the kills read so far in this run. */
  onProgress?: (read: number) => void;
  /** Called when the expected total becomes known. */
  onTotal?: (total: number) => void;
  /** Called with each day's report. */
  onDay?: (report: DayReport) => void;
}

export interface ImportResult {
  days: DayReport[];
  counts: ImportCounts;
  /** Times the import paused for backpressure, and for how long. */
  pauses: number;
  pausedMs: number;
  /** Time spent handing kills to the intake (ledger with bodies + enqueue), ms. */
  intakeMs: number;
  /** Whole run, ms. */
  ms: number;
}

/** A day report in its fixed field order (cursors come back from jsonb with keys reordered). */
export function dayReport(r: DayReport, status: DayReport["status"] = r.status): DayReport {
  const out: DayReport = {
    day: r.day,
    expected: r.expected,
    withBody: r.withBody,
    idHashOnly: r.idHashOnly,
    missing: r.missing,
    invalid: r.invalid,
    status,
  };
  if (r.error) out.error = r.error;
  return out;
}

/** The result of an import run from its sink. */
export function importResult(days: DayReport[], sink: ImportSink, started: number): ImportResult {
  return { days, counts: sink.counts, ...sink.backpressure.stats, intakeMs: Math.round(sink.intakeMs), ms: Date.now() - started };
}

export const historyCursorName = (day: string) => `import:history:${compactDay(day)}`;

/** Imports every day from `from` to `to` (YYYY-MM-DD, inclusive). A failed day does not stop the others. */
export async function importHistory(from: string, to: string, opts: ImportOptions = {}): Promise<ImportResult> {
  const started = Date.now();
  const logger = log("import");
  const days = dayRange(from, to);
  const sink = createSink({ ...opts, source: "history" });
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  const totals = totalsByDay(await getHistoryTotals());
  opts.onTotal?.(days.reduce((sum, d) => sum + (totals.get(d) ?? 0), 0));
  const reports: DayReport[] = [];
  let readBefore = 0; // kills of finished days (progress)

  for (const day of days) {
    const expected = totals.get(day) ?? null;
    const name = historyCursorName(day);
    const cursor = opts.force ? undefined : await readCursor<HistoryCursor>(name);
    let report: DayReport;
    if (cursor?.done && cursor.report && cursor.report.expected === expected) {
      report = dayReport(cursor.report, "done-earlier");
    } else {
      try {
        // After an outage the day resumes from the position its cursor saved.
        report = await resumingThroughOutages(day, async () => {
          const saved = opts.force ? cursor : await readCursor<HistoryCursor>(name);
          return importDay(day, expected, saved?.done ? undefined : saved?.afterId);
        });
      } catch (err) {
        const message = (err as Error).message;
        logger.error({ day, err: message }, "history day failed; the next run retries it");
        report = { day, expected, withBody: 0, idHashOnly: 0, missing: expected ?? 0, invalid: 0, status: "failed", error: message };
      }
    }
    readBefore += report.withBody + report.idHashOnly;
    opts.onProgress?.(readBefore);
    reports.push(report);
    opts.onDay?.(report);
  }
  return importResult(reports, sink, started);

  async function importDay(day: string, expected: number | null, afterId: number | undefined): Promise<DayReport> {
    const compact = compactDay(day);
    // The id/hash list first: it names every kill; the raw file only adds bodies.
    const list = await getHistoryDay(compact);
    const raw = list ? await getHistoryRawIndex(compact) : null;
    const report: DayReport = { day, expected, withBody: 0, idHashOnly: 0, missing: 0, invalid: 0, status: "imported" };
    if (!list) {
      report.status = "absent";
      report.missing = expected ?? 0;
      // A day the totals count but R2Z2 has no file for is not finished: the next run asks again.
      if (!expected) await writeCursor(historyCursorName(day), { done: true, report } satisfies HistoryCursor);
      return report;
    }
    const counts = sink.counts;
    const ids = [...list.keys()].sort((a, b) => a - b);
    let batch: IntakeItem[] = [];
    let last = afterId ?? 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const upTo = last;
      await sink.push(batch, () => writeCursor(historyCursorName(day), { done: false, afterId: upTo } satisfies HistoryCursor));
      batch = [];
      opts.onProgress?.(readBefore + report.withBody + report.idHashOnly);
    };
    for (const id of ids) {
      const hash = list.get(id)!;
      const body = raw?.get(id);
      raw?.delete(id); // let the day's bodies go as they are handed in
      let item: IntakeItem = { killmailId: id, hash };
      if (body instanceof MalformedBody) {
        report.invalid++;
        if (report.invalid <= 5)
          logger.warn({ day, killmailId: id, issue: body.message }, "malformed body in R2Z2 raw history: importing id/hash only");
      } else if (body !== undefined) {
        const parsed = checkEsiKillmail(body);
        if (parsed.success && parsed.data.killmail_id === id) item = { killmailId: id, hash, esi: parsed.data };
        else {
          report.invalid++;
          const issue = parsed.success ? "killmail_id does not match its key" : parsed.issue;
          if (report.invalid <= 5) logger.warn({ day, killmailId: id, issue }, "invalid body in R2Z2 raw history: importing id/hash only");
        }
      }
      if (item.esi) report.withBody++;
      else report.idHashOnly++;
      if (afterId !== undefined && id <= afterId) continue; // handed in before the restart
      counts.read++;
      if (!item.esi) counts.bodyless++;
      batch.push(item);
      last = id;
      if (batch.length >= batchSize) await flush();
    }
    await flush();
    await sink.drain();
    // Raw bodies left over are for kills the list does not name: without a hash they cannot go in.
    const unlisted = raw?.size ?? 0;
    if (unlisted > 0) {
      report.invalid += unlisted;
      logger.warn({ day, unlisted }, "kills in R2Z2 raw history without a hash in the day's list: skipped");
    }
    counts.invalid += report.invalid;
    report.missing = Math.max(0, (expected ?? 0) - ids.length);
    await writeCursor(historyCursorName(day), { done: true, afterId: last, report } satisfies HistoryCursor);
    return report;
  }
}
