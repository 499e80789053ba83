// `import:everef <day|file.tar.bz2>` or `import:everef --from D --to D`: EVE Ref killmail day archives
// into the pipeline, streamed (never loaded whole) from EVEREF_URL or a local file, each entry validated,
// backfill tier, checked against EVE Ref's totals.json, resumable, paused while the killmail queue is full.
import { existsSync } from "node:fs";
import type { Command } from "commander";
import { isDay } from "../server/imports/days.ts";
import { type CommonOptions, commonOptions, dayArgument, dayProgress, importSettings, printDayImport } from "./_import.ts";
import { onCleanup, runCommand, UsageError } from "./_run.ts";

interface Options extends CommonOptions {
  from?: string;
  to?: string;
  decompressor: "auto" | "bzip2" | "js";
}

export function register(program: Command): void {
  commonOptions(
    program
      .command("import:everef")
      .summary("Import EVE Ref killmail archives (a day, a day range or a local .tar.bz2)")
      .description(
        "Import EVE Ref killmail day archives (killmails/YYYY/killmails-YYYY-MM-DD.tar.bz2): one day or a range from " +
          "EVEREF_URL, or a local archive file. The archive is streamed; every entry is validated (its killmail_hash " +
          "taken, EVE Ref's extra fields dropped). Kills already stored are skipped; jobs go in at the backfill tier.",
      )
      .argument("[source]", "a day (YYYY-MM-DD) or the path of a .tar.bz2 archive")
      .option("--from <date>", "first day of a range (YYYY-MM-DD)", dayArgument)
      .option("--to <date>", "last day of a range (YYYY-MM-DD, inclusive)", dayArgument)
      .option("--decompressor <kind>", "bzip2 (the system's bzip2 -dc, faster), js (unbzip2-stream) or auto", "auto"),
  )
    .addHelpText(
      "after",
      "\nDays from EVEREF_URL are checked against killmails/totals.json; a local file is not.\n" +
        "Progress is saved per archive in Postgres (cursors 'import:everef:YYYYMMDD'): a rerun skips the entries\n" +
        "already imported from the same archive; finished days are skipped while totals.json counts the same.\n" +
        "Exit 1 when an archive failed (the next run resumes it).\n\n" +
        "Examples:\n  bun cli import:everef 2026-07-26\n  bun cli import:everef --from 2026-07-01 --to 2026-07-31\n" +
        "  bun cli import:everef ./killmails-2026-07-26.tar.bz2 --json",
    )
    .action(
      runCommand(async (source: string | undefined, opts: Options) => {
        if (!["auto", "bzip2", "js"].includes(opts.decompressor))
          throw new UsageError(`--decompressor must be auto, bzip2 or js, not '${opts.decompressor}'`);
        const range = opts.from !== undefined || opts.to !== undefined;
        if (range && source !== undefined) throw new UsageError("give a day or file, or --from/--to, not both");
        if (range && (opts.from === undefined || opts.to === undefined)) throw new UsageError("a range needs both --from and --to");
        if (!range && source === undefined)
          throw new UsageError("missing source: give a day (YYYY-MM-DD), an archive file, or --from/--to");
        if (range && opts.to! < opts.from!) throw new UsageError(`--to ${opts.to} is before --from ${opts.from}`);
        const isFile = source !== undefined && !isDay(source);
        if (isFile && !existsSync(source)) {
          throw new UsageError(`'${source}' is neither a date (YYYY-MM-DD) nor an existing archive file`);
        }
        const [everef, { closeDb }, { requireEsiUserAgent }] = await Promise.all([
          import("../server/imports/everef.ts"),
          import("../server/db/client.ts"),
          import("../server/helpers/config.ts"),
        ]);
        if (!isFile) requireEsiUserAgent();
        onCleanup(closeDb);
        const { progress, onTotal, onProgress } = await dayProgress("import:everef kills");
        const settings = { ...importSettings(opts), decompressor: opts.decompressor, onTotal, onProgress };
        const result = isFile
          ? await everef.importEverefFile(source!, settings)
          : await everef.importEverefDays(opts.from ?? source!, opts.to ?? source!, settings);
        progress.stop();
        const title = isFile ? `import:everef ${source}` : range ? `import:everef ${opts.from} → ${opts.to}` : `import:everef ${source}`;
        return printDayImport(title, result, opts.json);
      }),
    );
}
