// `backfill:values`: (re)computes killmail values by mode (null: never valued, zero: valued at 0,
// all: everything, flagged: marked for revaluation by new prices). Plans a run of id ranges, enqueues
// one `backfill` job per range (the `bun queue backfill` workers do the work, set-based), then follows
// the run with a progress bar until it ends and prints a summary. Rerunning the same command resumes
// an unfinished run: ranges already done are skipped.
import { type Command, Option } from "commander";
import { VALUE_MODES, type ValueMode } from "../server/killmails/value-modes.ts";
import { integer, isoDate } from "./_args.ts";
import { duration, plural, print, printJson } from "./_output.ts";
import { createProgress } from "./_progress.ts";
import { EXIT_FAILURE, onCleanup, runCommand, UsageError } from "./_run.ts";

interface Options {
  mode: ValueMode;
  limit?: number;
  fromDate?: string;
  toDate?: string;
  fromId?: number;
  toId?: number;
  rangeSize?: number;
  resume?: string;
  new?: boolean;
  wait: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("backfill:values")
    .summary("Recompute killmail values (null, zero, all or flagged kills) through the backfill queue")
    .description(
      "Recompute killmail values through the backfill queue: plan id ranges of matching kills, enqueue one job\n" +
        "per range, follow the run to its end and print a summary. Each job re-checks the mode when it runs.",
    )
    .addOption(
      new Option("--mode <mode>", "null: never valued; zero: valued at 0; all: every kill; flagged: marked for revaluation")
        .choices(VALUE_MODES)
        .makeOptionMandatory(),
    )
    .option("--limit <n>", "at most n matching kills (lowest ids first)", integer(1))
    .option("--from-date <date>", "only kills on or after this UTC day (YYYY-MM-DD)", isoDate)
    .option("--to-date <date>", "only kills on or before this UTC day (YYYY-MM-DD)", isoDate)
    .option("--from-id <id>", "only kills with this id or higher", integer(0))
    .option("--to-id <id>", "only kills with this id or lower", integer(0))
    .option("--range-size <n>", "matching kills per job (default 10000)", integer(1))
    .option("--resume <runId>", "resume this run (its own parameters are used)")
    .option("--new", "plan a new run even if an unfinished one has the same parameters")
    .option("--no-wait", "enqueue and exit (follow later by rerunning the same command)")
    .option("--json", "print the summary as JSON")
    .addHelpText(
      "after",
      "\nThe jobs are done by `bun queue backfill` workers (start at least one). A crash or Ctrl-C loses\n" +
        "nothing: run the same command again and the run resumes where it stopped; failed ranges are retried.\n" +
        "Exit code 1 when ranges failed for good (listed in the summary).\n\n" +
        "Examples:\n  bun cli backfill:values --mode=null\n  bun cli backfill:values --mode=all --from-date 2026-01-01 --to-date 2026-01-31\n" +
        "  bun cli backfill:values --mode=flagged --no-wait",
    )
    .action(
      runCommand(async (opts: Options) => {
        if (opts.fromDate && opts.toDate && opts.fromDate > opts.toDate) throw new UsageError("--from-date is after --to-date");
        if (opts.fromId !== undefined && opts.toId !== undefined && opts.fromId > opts.toId)
          throw new UsageError("--from-id is above --to-id");
        if (opts.resume && opts.new) throw new UsageError("--resume and --new exclude each other");
        const [{ sql, closeDb }, run, { getQueue }] = await Promise.all([
          import("../server/db/client.ts"),
          import("../server/backfill/values-run.ts"),
          import("../server/queues/queue.ts"),
        ]);
        onCleanup(closeDb);
        const say = (s: string) => process.stderr.write(`${s}\n`);

        say(opts.resume ? `resuming run ${opts.resume}…` : `planning ${opts.mode} value backfill…`);
        const params = {
          mode: opts.mode,
          ...(opts.fromDate ? { fromDate: opts.fromDate } : {}),
          ...(opts.toDate ? { toDate: opts.toDate } : {}),
          ...(opts.fromId !== undefined ? { fromId: opts.fromId } : {}),
          ...(opts.toId !== undefined ? { toId: opts.toId } : {}),
          ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
        };
        const started = await run.startValuesRun(sql(), params, {
          ...(opts.rangeSize ? { rangeSize: opts.rangeSize } : {}),
          ...(opts.resume ? { resume: opts.resume } : {}),
          fresh: opts.new ?? false,
          source: "cli",
        });
        const r0 = started.run;
        say(
          `${started.created ? "run" : "resumed run"} ${r0.runId}: ${r0.total} kills in ${plural(started.ranges, "range")}` +
            (started.created ? "" : `, ${r0.done} kills already done, ${started.pendingRanges} ranges to do`) +
            (started.retried ? ` (${plural(started.retried, "failed range")} retried)` : "") +
            `; ${plural(started.enqueued, "job")} enqueued`,
        );
        if (!opts.wait) {
          if (opts.json)
            printJson({ runId: r0.runId, created: started.created, total: r0.total, ranges: started.ranges, enqueued: started.enqueued });
          else print(`run ${r0.runId} enqueued; rerun the same command to follow it`);
          return;
        }
        if (r0.status === "running" && (await getQueue("backfill").getWorkersCount()) === 0) {
          say("no `bun queue backfill` worker is connected: the jobs wait until one starts");
        }

        const t0 = Date.now();
        const settled0 = r0.done + r0.errors;
        const progress = await createProgress({ label: "kills", total: r0.total });
        const followed = await run.followValuesRun(sql(), r0.runId, {
          onProgress: (r) => progress.update(r.done + r.errors, r.total),
        });
        progress.stop();
        const r = followed.run;
        const seconds = (Date.now() - t0) / 1000;
        const perSecond = Math.round((r.done + r.errors - settled0) / Math.max(seconds, 0.001));
        const failed = await run.failedRanges(sql(), r.runId, 1000);
        const failedCount = failed.length;
        const summary = {
          runId: r.runId,
          mode: r.params.mode,
          status: followed.orphans.length > 0 ? "stalled" : r.status,
          total: r.total,
          done: r.done,
          updated: r.updated,
          skipped: r.skipped,
          errors: r.errors,
          failedRanges: failed,
          orphanedRanges: followed.orphans,
          seconds: Math.round(seconds * 10) / 10,
          killmailsPerSecond: perSecond,
        };
        if (opts.json) printJson(summary);
        else {
          print(`run ${r.runId} (${r.params.mode}): ${summary.status}`);
          print(`updated ${r.updated}, skipped ${r.skipped}, errors ${r.errors} (${plural(failedCount, "failed range")})`);
          print(`${r.done + r.errors - settled0} kills in ${duration(seconds * 1000)}: ${perSecond} kills/s`);
          for (const f of failed.slice(0, 20))
            print(`  failed range ${f.fromId}–${f.toId} (${f.kills} kills): ${f.error ?? "unknown error"}`);
          if (followed.orphans.length > 0) {
            print(
              `${plural(followed.orphans.length, "range")} left with no job (lost or failed by stalling): rerun the same command to resume`,
            );
          }
        }
        return r.status === "done" && followed.orphans.length === 0 ? 0 : EXIT_FAILURE;
      }),
    );
}
