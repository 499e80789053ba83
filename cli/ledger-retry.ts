// `ledger:retry`: re-drives failed ledger rows (after a fix, or a rule change): failed kills go back to
// the killmail queue, failed outbox rows back to the relay, now.
import type { Command } from "commander";
import { print, printJson } from "./_output.ts";
import { onCleanup, runCommand, UsageError } from "./_run.ts";

interface Options {
  intake?: string[] | true;
  outbox?: string[] | true;
  json?: boolean;
}

/** `--intake` alone means every failed row; with ids, only those. */
function target(value: string[] | true | undefined, name: string): number[] | "all" | undefined {
  if (value === undefined) return undefined;
  if (value === true) return "all";
  return value.map((v) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`option '--${name}' got '${v}': ids are positive whole numbers`);
    return n;
  });
}

export function register(program: Command): void {
  program
    .command("ledger:retry")
    .summary("Re-drive failed ledger rows: failed kills and outbox rows go back to their queues")
    .description(
      "Make failed ledger rows pending again and queue their work now: --intake for kills (all failed ones, or the\n" +
        "killmail ids given), --outbox for entity work (all, or the outbox row ids given; see ledger:failed).",
    )
    .option("--intake [killmailIds...]", "retry failed kills (all, or these)")
    .option("--outbox [rowIds...]", "retry failed outbox rows (all, or these)")
    .option("--json", "print JSON for scripts")
    .addHelpText(
      "after",
      "\nExamples:\n  bun cli ledger:retry --intake\n  bun cli ledger:retry --outbox 812 813\n  bun cli ledger:retry --intake --outbox --json",
    )
    .action(
      runCommand(async (opts: Options) => {
        const intake = target(opts.intake, "intake");
        const outbox = target(opts.outbox, "outbox");
        if (!intake && !outbox) throw new UsageError("say what to retry: --intake and/or --outbox");
        const [{ closeDb }, { retryLedgerFailures }] = await Promise.all([
          import("../server/db/client.ts"),
          import("../server/outbox/failures.ts"),
        ]);
        onCleanup(closeDb);
        const result = await retryLedgerFailures({ ...(intake ? { intake } : {}), ...(outbox ? { outbox } : {}) });
        if (opts.json) return printJson(result);
        print(
          `retried ${result.intake} failed kill${result.intake === 1 ? "" : "s"} and ${result.outbox} outbox row${result.outbox === 1 ? "" : "s"}`,
        );
      }),
    );
}
