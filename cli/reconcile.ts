// `reconcile`: re-enqueues every piece of work Postgres says is outstanding (pending intake rows,
// relayed outbox rows) and Redis no longer holds — after a FLUSHALL, a Redis restart without
// persistence, or a crash between commit and enqueue. Also runs at `bun queue` start-up.
import type { Command } from "commander";
import { integer } from "./_args.ts";
import { print, printJson } from "./_output.ts";
import { onCleanup, runCommand } from "./_run.ts";

export function register(program: Command): void {
  program
    .command("reconcile")
    .summary("Re-enqueue outstanding work that Redis lost")
    .description("Compare Postgres' outstanding work (intake ledger, outbox) with Redis and re-enqueue what is missing")
    .option("--min-age <seconds>", "leave intake rows received (outbox rows relayed) less than this long ago alone", integer(0), 0)
    .option("--json", "print JSON for scripts")
    .addHelpText(
      "after",
      "\nKills come back with the ESI bodies the intake ledger kept, so no ESI fetch is needed.\n" +
        "Failed kills and failed outbox rows are left alone (see queue:failed / queue:retry).\n" +
        "`bun queue` reconciles by itself (RECONCILE_INTERVAL_MS) and leaves rows younger than 60 s alone there:\n" +
        "a producer may still be enqueuing them. Run by hand (after a FLUSHALL), everything pending is taken.\n\n" +
        "Example:\n  bun cli reconcile",
    )
    .action(
      runCommand(async (opts: { json?: boolean; minAge: number }) => {
        const [{ reconcile }, { closeDb }] = await Promise.all([import("../server/outbox/reconcile.ts"), import("../server/db/client.ts")]);
        onCleanup(closeDb);
        const result = await reconcile({ minAgeMs: opts.minAge * 1000 });
        if (opts.json) return printJson(result);
        print(`intake: ${result.intakeChecked} pending kills checked, ${result.intakeRequeued} re-enqueued`);
        print(`outbox: ${result.outboxChecked} relayed jobs checked, ${result.outboxRequeued} handed back to the relay`);
        print(`value backfills: ${result.valueRunsChecked} running runs checked, ${result.rangesRequeued} range jobs re-enqueued`);
        print(`batch bodies: ${result.batchBodiesDropped} no longer needed, dropped`);
        print(`member syncs: ${result.syncsChecked} active syncs checked, ${result.syncsRequeued} re-created`);
      }),
    );
}
