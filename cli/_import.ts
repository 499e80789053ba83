// Shared by the import and sync commands (import:history, import:everef, sync:*): their common options
// (--max-pending, --batch, --force, --json), progress on stderr, backpressure notices, and the final
// summary (a per-day table for day imports, one line of counts) on stdout.
import { type Command, InvalidArgumentError } from "commander";
import { isDay } from "../server/imports/days.ts";
import type { DayReport, ImportResult } from "../server/imports/history.ts";
import type { ImportCounts } from "../server/imports/sink.ts";
import { integer } from "./_args.ts";
import { duration, print, table } from "./_output.ts";
import { createProgress, type Progress } from "./_progress.ts";

export interface CommonOptions {
  maxPending: number;
  batch?: number;
  force?: boolean;
  json?: boolean;
}

/** Parser for a `YYYY-MM-DD` option or argument (a real calendar date). */
export function dayArgument(value: string): string {
  if (!isDay(value)) throw new InvalidArgumentError("expected a date YYYY-MM-DD (e.g. 2026-07-26)");
  return value;
}

/** Adds --max-pending, --batch, --force and --json. */
export function commonOptions(cmd: Command): Command {
  return cmd
    .option("--max-pending <n>", "pause while more kills than this wait to be stored (pending in the intake ledger)", integer(1), 50_000)
    .option("--batch <n>", "kills per intake batch (default 1000)", integer(1))
    .option("--force", "ignore saved progress: read everything again (stored kills are still skipped)")
    .option("--json", "print the summary as JSON");
}

/** What the import functions take from the command line. */
export function importSettings(opts: CommonOptions) {
  return {
    maxPending: opts.maxPending,
    ...(opts.batch !== undefined ? { batchSize: opts.batch } : {}),
    ...(opts.force ? { force: true } : {}),
    onPause: (pending: number, max: number) =>
      process.stderr.write(`killmail queue holds ${pending} pending jobs (more than ${max}): waiting for the workers to drain it\n`),
    onResume: (pending: number, ms: number) =>
      process.stderr.write(`killmail queue down to ${pending} pending jobs after ${duration(ms)}: resuming\n`),
  };
}

/** Progress callbacks for day imports (total known once totals.json is read). */
export async function dayProgress(label: string): Promise<{ progress: Progress; onTotal(t: number): void; onProgress(n: number): void }> {
  const progress = await createProgress({ label, total: 0 });
  let value = 0;
  return {
    progress,
    onTotal: (t) => progress.update(value, t),
    onProgress: (n) => {
      value = n;
      progress.update(n);
    },
  };
}

export function countsLine(c: ImportCounts): string {
  return (
    `${c.read} read, ${c.alreadyStored} already stored, ${c.enqueued} enqueued, ${c.alreadyQueued} already queued, ` +
    `${c.bodyless} body-less (fetched from ESI), ${c.invalid} invalid`
  );
}

function rate(n: number, ms: number): number {
  return Math.round(n / Math.max(ms / 1000, 0.001));
}

interface Timing {
  counts: ImportCounts;
  ms: number;
  intakeMs: number;
  pauses: number;
  pausedMs: number;
}

/** Kills read per second overall, and per second spent in the intake (recording with bodies + enqueueing). */
export function rates(r: Timing): { killsPerSecond: number; intakeKillsPerSecond: number } {
  return { killsPerSecond: rate(r.counts.read, r.ms), intakeKillsPerSecond: rate(r.counts.read, r.intakeMs) };
}

/** "12s (417 kills/s; 5200/s in the intake); paused 2x for 40s …". */
export function timingLine(r: Timing): string {
  const { killsPerSecond, intakeKillsPerSecond } = rates(r);
  return (
    `${duration(r.ms)} (${killsPerSecond} kills/s; ${intakeKillsPerSecond}/s in the intake)` +
    (r.pauses > 0 ? `; paused ${r.pauses}x for ${duration(r.pausedMs)} while the killmail queue was full` : "")
  );
}

/** Prints a day import's summary; returns the exit code (1 when a day failed). */
export function printDayImport(title: string, result: ImportResult, json: boolean | undefined): number {
  const failed = result.days.filter((d) => d.status === "failed");
  if (json) {
    print(JSON.stringify({ ...result, ...rates(result) }, null, 2));
  } else {
    const rows = result.days.map((d: DayReport) => ({
      day: d.day,
      expected: d.expected,
      "with body": d.withBody,
      "id/hash only": d.idHashOnly,
      missing: d.missing,
      invalid: d.invalid,
      status: d.status,
    }));
    print(
      table(["day", "expected", "with body", "id/hash only", "missing", "invalid", "status"], rows, {
        alignRight: ["expected", "with body", "id/hash only", "missing", "invalid"],
      }),
    );
    print(`${title}: ${countsLine(result.counts)}`);
    print(timingLine(result));
    for (const d of failed) print(`failed ${d.day}: ${d.error} (run the command again to resume)`);
  }
  return failed.length > 0 ? 1 : 0;
}
