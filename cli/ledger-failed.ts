// `ledger:failed`: the failed rows of the intake ledger (kills that can never be stored as they are) and
// of the outbox (entity work that failed for good), newest first, each with its reason.
import type { Command } from "commander";
import { integer } from "./_args.ts";
import { isoTime, print, printJson, table } from "./_output.ts";
import { onCleanup, runCommand } from "./_run.ts";

interface Options {
  limit: number;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("ledger:failed")
    .summary("List the failed rows of the intake and outbox ledgers, with their reasons")
    .description(
      "List the kills the intake closed as failed (an invalid body, a wrong hash, data Postgres refuses) and the\n" +
        "outbox rows whose job failed for good, newest first, with the reason. Transient failures are not here:\n" +
        "their rows stay pending and reconcile redoes them. `ledger:retry` re-drives failed rows.",
    )
    .option("--limit <n>", "show at most n rows of each ledger", integer(1), 20)
    .option("--json", "print JSON for scripts")
    .addHelpText("after", "\nExamples:\n  bun cli ledger:failed\n  bun cli ledger:failed --limit 200 --json")
    .action(
      runCommand(
        async (opts: Options) => {
          const [{ closeDb }, { listLedgerFailures }] = await Promise.all([
            import("../server/db/client.ts"),
            import("../server/outbox/failures.ts"),
          ]);
          onCleanup(closeDb);
          const failures = await listLedgerFailures(opts.limit);
          if (opts.json) {
            return printJson({
              intake: {
                total: failures.intake.total,
                rows: failures.intake.rows.map((r) => ({ ...r, receivedAt: isoTime(r.receivedAt.getTime()) })),
              },
              outbox: {
                total: failures.outbox.total,
                rows: failures.outbox.rows.map((r) => ({ ...r, failedAt: isoTime(r.failedAt.getTime()) })),
              },
            });
          }
          print(`intake: ${failures.intake.total} failed kill${failures.intake.total === 1 ? "" : "s"}`);
          if (failures.intake.rows.length > 0) {
            print(
              table(
                ["killmail", "source", "reason"],
                failures.intake.rows.map((r) => ({ killmail: String(r.killmailId), source: r.source, reason: r.error ?? "" })),
              ),
            );
          }
          print(`outbox: ${failures.outbox.total} failed row${failures.outbox.total === 1 ? "" : "s"}`);
          if (failures.outbox.rows.length > 0) {
            print(
              table(
                ["id", "work", "reason"],
                failures.outbox.rows.map((r) => ({ id: String(r.id), work: r.jobKey, reason: r.error ?? "" })),
              ),
            );
          }
        },
        { redis: false },
      ),
    );
}
