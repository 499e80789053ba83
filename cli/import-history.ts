// `import:history --from D --to D`: zKillboard's R2Z2 daily history into the pipeline — bodies from the
// raw files, id/hash only for what they lack (fetched from ESI by the killmail worker), backfill tier,
// checked against totals.json, resumable (a cursor per day in Postgres), paused while the killmail
// queue is full.
import type { Command } from "commander";
import { type CommonOptions, commonOptions, dayArgument, dayProgress, importSettings, printDayImport } from "./_import.ts";
import { onCleanup, runCommand, UsageError } from "./_run.ts";

interface Options extends CommonOptions {
  from: string;
  to: string;
}

export function register(program: Command): void {
  commonOptions(
    program
      .command("import:history")
      .summary("Import zKillboard's R2Z2 daily history (with bodies) for a range of days")
      .description(
        "Import zKillboard's R2Z2 history for every day from --from to --to (UTC, inclusive): ESI bodies from " +
          "history/raw/YYYYMMDD.json, id/hash pairs from history/YYYYMMDD.json only for kills the raw file lacks " +
          "(the killmail worker fetches those from ESI). Kills already stored are skipped; jobs go in at the backfill tier.",
      )
      .requiredOption("--from <date>", "first day (YYYY-MM-DD)", dayArgument)
      .requiredOption("--to <date>", "last day (YYYY-MM-DD, inclusive)", dayArgument),
  )
    .addHelpText(
      "after",
      "\nEach day is checked against history/totals.json (expected, with body, id/hash only, missing).\n" +
        "Progress is saved per day in Postgres (cursors 'import:history:YYYYMMDD'): after a crash or CTRL+C\n" +
        "the same command resumes; finished days are skipped unless totals.json changed (or --force).\n" +
        "Exit 1 when a day failed (the next run retries it).\n\n" +
        "Examples:\n  bun cli import:history --from 2026-07-01 --to 2026-07-31\n" +
        "  bun cli import:history --from 2026-07-26 --to 2026-07-26 --max-pending 20000 --json",
    )
    .action(
      runCommand(async (opts: Options) => {
        if (opts.to < opts.from) throw new UsageError(`--to ${opts.to} is before --from ${opts.from}`);
        const [{ importHistory }, { closeDb }, { requireEsiUserAgent }] = await Promise.all([
          import("../server/imports/history.ts"),
          import("../server/db/client.ts"),
          import("../server/helpers/config.ts"),
        ]);
        requireEsiUserAgent();
        onCleanup(closeDb);
        const { progress, onTotal, onProgress } = await dayProgress("import:history kills");
        const result = await importHistory(opts.from, opts.to, { ...importSettings(opts), onTotal, onProgress });
        progress.stop();
        return printDayImport(`import:history ${opts.from} → ${opts.to}`, result, opts.json);
      }),
    );
}
