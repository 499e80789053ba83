// `verify:zkb`: our stored values against zKillboard's own, from the zkb blocks that came with the kills
// (R2Z2, the zKillboard API): share equal to the cent, the largest differences with the rule that
// explains each, and the kills whose build data is missing.
import type { Command } from "commander";
import { integer, isoDate } from "./_args.ts";
import { print, printJson, table } from "./_output.ts";
import { onCleanup, runCommand } from "./_run.ts";

interface Options {
  from?: string;
  to?: string;
  limit: number;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("verify:zkb")
    .summary("Compare our values with zKillboard's (the zkb blocks kept at intake): share equal, largest differences")
    .description(
      "For every kill that came with zKillboard's zkb block (R2Z2, the zKillboard API): are total, destroyed, dropped\n" +
        "and fitted equal to the cent? Lists the largest differences, each with the rule that explains it (an operator's\n" +
        "custom price, missing build data, a price not known yet, …), and the kills whose build data is missing.",
    )
    .option("--from <date>", "only kills on or after this UTC day (YYYY-MM-DD)", isoDate)
    .option("--to <date>", "only kills on or before this UTC day (YYYY-MM-DD)", isoDate)
    .option("--limit <n>", "differences and build-missing kills listed", integer(1), 10)
    .option("--json", "print JSON for scripts")
    .addHelpText("after", "\nExamples:\n  bun cli verify:zkb\n  bun cli verify:zkb --from 2026-11-01 --to 2026-11-30 --json")
    .action(
      runCommand(async (opts: Options) => {
        const [{ sql, closeDb }, { verifyZkb }] = await Promise.all([
          import("../server/db/client.ts"),
          import("../server/backfill/verify-zkb.ts"),
        ]);
        onCleanup(closeDb);
        const r = await verifyZkb(sql(), { fromDate: opts.from, toDate: opts.to, limit: opts.limit });
        if (opts.json) return printJson(r);
        print(`kills with zKillboard values: ${r.withZkb}, valued by us: ${r.compared}`);
        print(`equal to the cent (total, destroyed, dropped, fitted): ${r.equal} of ${r.compared} = ${r.equalPercent.toFixed(2)} %`);
        print(
          `differ: total ${r.differ.total}, destroyed ${r.differ.destroyed}, dropped ${r.differ.dropped}, fitted ${r.differ.fitted}; ` +
            `totalDroppableValue: ${r.droppable.differ} of ${r.droppable.carried} carried`,
        );
        if (r.largest.length > 0) {
          print("\nlargest differences:");
          print(
            table(
              ["killmail", "time", "ours (total)", "zKillboard (total)", "difference", "rule"],
              r.largest.map((d) => ({
                killmail: d.killmailId,
                time: d.time,
                "ours (total)": d.ours.total,
                "zKillboard (total)": d.zkb.total,
                difference: d.difference,
                rule: d.rules.join("; "),
              })),
              { alignRight: ["killmail", "ours (total)", "zKillboard (total)", "difference"] },
            ),
          );
        }
        print(
          `\nbuild data missing: ${r.buildMissing.kills} kills${r.buildMissing.kills > 0 ? ` (${r.buildMissing.killmailIds.join(", ")}${r.buildMissing.kills > r.buildMissing.killmailIds.length ? ", …" : ""})` : ""}`,
        );
      }),
    );
}
