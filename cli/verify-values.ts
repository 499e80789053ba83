// `verify:values`: how complete and plausible the stored values are: kills, valued, not valued, valued at
// zero, flagged for revaluation, with unpriced rows, and a histogram of total values by decade of ISK.
import type { Command } from "commander";
import { isoDate } from "./_args.ts";
import { print, printJson, table } from "./_output.ts";
import { onCleanup, runCommand } from "./_run.ts";

interface Options {
  fromDate?: string;
  toDate?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("verify:values")
    .summary("Report value coverage (valued, not valued, zero, flagged) and a value histogram")
    .description(
      "Count kills valued, not valued, valued at 0, flagged for revaluation and with unpriced rows, and show a histogram of total values by decade of ISK",
    )
    .option("--from-date <date>", "only kills on or after this UTC day (YYYY-MM-DD)", isoDate)
    .option("--to-date <date>", "only kills on or before this UTC day (YYYY-MM-DD)", isoDate)
    .option("--json", "print JSON for scripts")
    .addHelpText(
      "after",
      "\nNot valued kills: `bun cli backfill:values --mode=null`; flagged ones: `--mode=flagged`.\n\n" +
        "Examples:\n  bun cli verify:values\n  bun cli verify:values --from-date 2026-01-01 --json",
    )
    .action(
      runCommand(
        async (opts: Options) => {
          const [{ sql, closeDb }, { valueReport }] = await Promise.all([
            import("../server/db/client.ts"),
            import("../server/backfill/verify.ts"),
          ]);
          onCleanup(closeDb);
          const report = await valueReport(sql(), {
            ...(opts.fromDate ? { fromDate: opts.fromDate } : {}),
            ...(opts.toDate ? { toDate: opts.toDate } : {}),
          });
          if (opts.json) return printJson(report);
          const t = report.totals;
          const pct = (n: number) => (t.kills > 0 ? `${((n / t.kills) * 100).toFixed(1)}%` : "-");
          print(
            table(
              ["kills", "count", "share"],
              [
                { kills: "all", count: t.kills, share: pct(t.kills) },
                { kills: "valued", count: t.valued, share: pct(t.valued) },
                { kills: "not valued", count: t.notValued, share: pct(t.notValued) },
                { kills: "valued at 0", count: t.zero, share: pct(t.zero) },
                { kills: "flagged (revalue)", count: t.flagged, share: pct(t.flagged) },
                { kills: "with unpriced rows", count: t.unpriced, share: pct(t.unpriced) },
              ],
              { alignRight: ["count", "share"] },
            ),
          );
          print(`total value of valued kills: ${t.totalIsk} ISK\n`);
          const widest = Math.max(1, ...report.histogram.map((b) => b.kills));
          print(
            table(
              ["total value", "kills", ""],
              report.histogram.map((b) => ({
                "total value": b.label,
                kills: b.kills,
                "": "#".repeat(Math.round((b.kills / widest) * 40)),
              })),
              { alignRight: ["kills"] },
            ),
          );
        },
        { redis: false },
      ),
    );
}
