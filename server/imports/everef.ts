// EVE Ref killmail archives (`killmails/YYYY/killmails-YYYY-MM-DD.tar.bz2`, one verbatim ESI killmail per
// file plus EVE Ref's `killmail_hash` and `http_last_modified`): streamed from EVEREF_URL or a local file,
// each entry validated (hash taken, extras dropped, body checked with checkEsiKillmail) and handed to the
// intake in batches at the backfill tier. A URL day is checked against EVE Ref's killmails/totals.json.
// Resumable: a cursor per archive (`import:everef:YYYYMMDD`, or `import:everef:file:<name>` for a file
// whose name has no day) holds the archive's identity (Last-Modified + length, or size + mtime of a file)
// and how many entries went in; a rerun of the same archive skips those, a changed archive (EVE Ref
// updates days in place) starts over. A finished day is skipped while totals.json still counts the same.

import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { Readable } from "node:stream";
import { z } from "zod";
import { checkEsiKillmail, killmailHashSchema } from "../esi/killmail-schema.ts";
import { readCursor, writeCursor } from "../feeds/cursor.ts";
import { config, requireEsiUserAgent } from "../helpers/config.ts";
import { log } from "../helpers/logger.ts";
import type { IntakeItem } from "../killmails/intake.ts";
import { type Decompressor, readArchive } from "./archive.ts";
import { compactDay, dayRange, totalsByDay } from "./days.ts";
import { type DayReport, dayReport, type ImportOptions, type ImportResult, importResult } from "./history.ts";
import { resumingThroughOutages } from "./outage.ts";
import { createSink, DEFAULT_BATCH_SIZE, type ImportSink } from "./sink.ts";

export interface EverefOptions extends ImportOptions {
  decompressor?: Decompressor;
  /** Attempts per archive download (a broken connection resumes after the entries already in). Default 3. */
  attempts?: number;
}

export interface EverefCursor {
  done: boolean;
  /** Which archive the position belongs to. */
  identity: string;
  /** Archive entries (files) handed to the intake. */
  entries: number;
  report?: DayReport;
}

interface Opened {
  stream: Readable;
  identity: string;
}

/** Where an archive comes from: opened afresh for every attempt. */
interface ArchiveSource {
  label: string;
  cursorName: string;
  /** Read again after a failure (a download can break; a local file stays as it is). */
  retry: boolean;
  /** null: there is no such archive (404). */
  open(): Promise<Opened | null>;
}

const totalsSchema = z.record(z.string(), z.number().int().nonnegative());
const entrySchema = z.looseObject({ killmail_id: z.number().int().positive(), killmail_hash: killmailHashSchema });
const ENTRY_NAME = /(?:^|\/)(\d+)\.json$/;

export const everefCursorName = (day: string) => `import:everef:${compactDay(day)}`;

export function everefArchiveUrl(day: string): string {
  return `${config().everefUrl}/killmails/${day.slice(0, 4)}/killmails-${day}.tar.bz2`;
}

/** The day in an archive file name (`killmails-YYYY-MM-DD.tar.bz2`), if any. */
export function dayOfArchiveName(path: string): string | undefined {
  return /killmails-(\d{4}-\d{2}-\d{2})\.tar\.bz2$/.exec(basename(path))?.[1];
}

/** EVE Ref's kills per day (killmails/totals.json), keyed YYYY-MM-DD. */
export async function getEverefTotals(): Promise<Map<string, number>> {
  const url = `${config().everefUrl}/killmails/totals.json`;
  let body: unknown;
  try {
    const res = await fetch(url, { headers: { "user-agent": requireEsiUserAgent() }, signal: AbortSignal.timeout(30_000) });
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    body = await res.json();
  } catch (err) {
    throw new Error(`EVE Ref ${url}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = totalsSchema.safeParse(body);
  if (!parsed.success) throw new Error(`EVE Ref ${url}: unexpected body (${parsed.error.issues[0]?.message})`);
  return totalsByDay(parsed.data);
}

function urlSource(day: string): ArchiveSource {
  const url = everefArchiveUrl(day);
  return {
    label: url,
    cursorName: everefCursorName(day),
    retry: true,
    async open() {
      // The timeout covers the answer's headers only; the body is watched by readArchive's idle check.
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 30_000);
      let res: Response;
      try {
        res = await fetch(url, { headers: { "user-agent": requireEsiUserAgent() }, signal: controller.signal });
      } catch (err) {
        throw new Error(`EVE Ref ${url}: ${(err as Error).message}`, { cause: err });
      } finally {
        clearTimeout(timer);
      }
      if (res.status === 404) {
        await res.body?.cancel();
        return null;
      }
      if (res.status !== 200 || !res.body) {
        await res.body?.cancel();
        throw new Error(`EVE Ref ${url} → ${res.status}`);
      }
      const identity = `url:${res.headers.get("last-modified") ?? ""}:${res.headers.get("content-length") ?? ""}`;
      return { stream: Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>), identity };
    },
  };
}

function fileSource(path: string): ArchiveSource {
  const day = dayOfArchiveName(path);
  return {
    label: path,
    cursorName: day ? everefCursorName(day) : `import:everef:file:${basename(path)}`,
    retry: false,
    async open() {
      const info = await stat(path);
      return { stream: createReadStream(path, { highWaterMark: 256 * 1024 }), identity: `file:${info.size}:${Math.round(info.mtimeMs)}` };
    },
  };
}

/** Imports the archives of every day from `from` to `to` (one day: from = to) from EVEREF_URL, checked
 * against totals.json when it can be read. */
export async function importEverefDays(from: string, to: string, opts: EverefOptions = {}): Promise<ImportResult> {
  const days = dayRange(from, to);
  let totals = new Map<string, number>();
  try {
    totals = await getEverefTotals();
  } catch (err) {
    // The archives may still be there: import them, without the check (expected shows as unknown).
    log("import").warn({ err: (err as Error).message }, "EVE Ref totals.json unavailable: importing without the totals check");
  }
  opts.onTotal?.(days.reduce((sum, d) => sum + (totals.get(d) ?? 0), 0));
  return run(
    days.map((day) => ({ source: urlSource(day), day, expected: totals.get(day) ?? null })),
    opts,
  );
}

/** Imports a local archive file (no totals check: the file may come from anywhere). */
export async function importEverefFile(path: string, opts: EverefOptions = {}): Promise<ImportResult> {
  await stat(path); // a missing file fails before anything starts
  return run([{ source: fileSource(path), day: dayOfArchiveName(path) ?? basename(path), expected: null }], opts);
}

interface ArchiveJob {
  source: ArchiveSource;
  day: string;
  expected: number | null;
}

async function run(jobs: ArchiveJob[], opts: EverefOptions): Promise<ImportResult> {
  const started = Date.now();
  const logger = log("import");
  const sink = createSink({ ...opts, source: "everef" });
  const reports: DayReport[] = [];
  let readBefore = 0;
  for (const job of jobs) {
    const cursor = opts.force ? undefined : await readCursor<EverefCursor>(job.source.cursorName);
    let report: DayReport;
    if (cursor?.done && cursor.report && job.expected !== null && cursor.report.expected === job.expected) {
      report = dayReport(cursor.report, "done-earlier");
    } else {
      try {
        // After an outage the archive resumes from the position its cursor saved.
        report = await resumingThroughOutages(job.source.label, async () => {
          const saved = opts.force ? cursor : await readCursor<EverefCursor>(job.source.cursorName);
          return importArchive(job, saved, sink, opts, (n) => opts.onProgress?.(readBefore + n));
        });
      } catch (err) {
        const message = (err as Error).message;
        logger.error({ archive: job.source.label, err: message }, "EVE Ref archive failed; the next run resumes it");
        report = {
          day: job.day,
          expected: job.expected,
          withBody: 0,
          idHashOnly: 0,
          missing: job.expected ?? 0,
          invalid: 0,
          status: "failed",
          error: message,
        };
      }
    }
    readBefore += report.withBody + report.idHashOnly;
    opts.onProgress?.(readBefore);
    reports.push(report);
    opts.onDay?.(report);
  }
  return importResult(reports, sink, started);
}

/** One archive, with retries that resume after the entries already handed in. */
async function importArchive(
  job: ArchiveJob,
  cursor: EverefCursor | undefined,
  sink: ImportSink,
  opts: EverefOptions,
  progress: (n: number) => void,
): Promise<DayReport> {
  const logger = log("import");
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  const attempts = opts.attempts ?? 3;
  const report: DayReport = {
    day: job.day,
    expected: job.expected,
    withBody: 0,
    idHashOnly: 0,
    missing: 0,
    invalid: 0,
    status: "imported",
  };
  let position = cursor; // where the last attempt (or run) stopped
  for (let attempt = 1; ; attempt++) {
    try {
      return await readOnce();
    } catch (err) {
      if (!job.source.retry || attempt >= attempts) throw err;
      logger.warn({ archive: job.source.label, attempt, err: (err as Error).message }, "archive download failed; retrying");
      await new Promise((r) => setTimeout(r, 1_000 * attempt));
    }
  }

  /** Opens the archive and reads it through, after the entries `position` says are in already. */
  async function readOnce(): Promise<DayReport> {
    const opened = await job.source.open();
    if (!opened) {
      report.status = "absent";
      report.missing = job.expected ?? 0;
      // An archive totals.json counts but the server lacks is not finished: the next run asks again.
      if (!job.expected) await writeCursor(job.source.cursorName, { done: true, identity: "", entries: 0, report } satisfies EverefCursor);
      return report;
    }
    const same = position !== undefined && position.identity === opened.identity;
    if (same && position!.done && position!.report && job.expected === null) {
      // A file (or a day without totals) already imported whole: nothing changed.
      opened.stream.destroy();
      return dayReport(position!.report, "done-earlier");
    }
    const skip = same && !position!.done ? position!.entries : 0;
    if (skip > 0) logger.info({ archive: job.source.label, skip }, "resuming the archive after the entries already imported");
    report.withBody = report.idHashOnly = report.invalid = 0;
    let entries = 0;
    let batch: IntakeItem[] = [];
    const flush = async () => {
      const at: EverefCursor = { done: false, identity: opened.identity, entries };
      await sink.push(batch, async () => {
        await writeCursor(job.source.cursorName, at);
        position = at;
      });
      batch = [];
      progress(report.withBody + report.idHashOnly);
    };
    try {
      for await (const entry of readArchive(opened.stream, { decompressor: opts.decompressor ?? "auto" })) {
        entries++;
        if (!ENTRY_NAME.test(entry.name)) continue; // not a killmail file (EVE Ref has none today)
        const item = parseEntry(entry.name, entry.body, report, logger);
        if (entries <= skip) continue; // handed in before the restart
        sink.counts.read++;
        if (item) {
          if (!item.esi) sink.counts.bodyless++;
          batch.push(item);
          if (batch.length >= batchSize) await flush();
        }
      }
      await flush();
    } finally {
      await sink.drain(); // the batch in flight: its failure, if any, is the one to report
    }
    sink.counts.invalid += report.invalid;
    report.missing = Math.max(0, (job.expected ?? 0) - (report.withBody + report.idHashOnly));
    await writeCursor(job.source.cursorName, { done: true, identity: opened.identity, entries, report } satisfies EverefCursor);
    return report;
  }
}

/**
 * One archive file → an intake item: the ESI body without EVE Ref's extras, validated; a bad body with
 * a good id and hash goes in body-less (ESI has the real one); anything else is counted invalid.
 */
function parseEntry(name: string, body: Buffer, report: DayReport, logger: ReturnType<typeof log>): IntakeItem | undefined {
  const idInName = ENTRY_NAME.exec(name)![1];
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    return invalid(`${name}: not JSON`);
  }
  const head = entrySchema.safeParse(json);
  if (!head.success || head.data.killmail_id !== Number(idInName)) {
    return invalid(
      `${name}: ${head.success ? "killmail_id does not match the file name" : `${head.error.issues[0]?.path.join(".")}: ${head.error.issues[0]?.message}`}`,
    );
  }
  const { killmail_hash: hash, http_last_modified: _lastModified, ...esi } = head.data;
  const parsed = checkEsiKillmail(esi);
  if (parsed.success) {
    report.withBody++;
    return { killmailId: head.data.killmail_id, hash, esi: parsed.data };
  }
  invalid(`${name}: ${parsed.issue} (importing id/hash only)`);
  report.idHashOnly++;
  return { killmailId: head.data.killmail_id, hash };

  function invalid(why: string): undefined {
    report.invalid++;
    if (report.invalid <= 5) logger.warn({ archive: report.day, entry: why }, "invalid EVE Ref archive entry");
    return undefined;
  }
}
