// `backfill:schedule`: creates or updates (idempotently) the job scheduler that re-values flagged kills
// every few minutes: it enqueues a `values-run` job on the backfill queue, which plans a flagged run (or
// resumes the unfinished one) and enqueues its ranges. `--remove` deletes it. (`bun queue backfill`
// also creates it, every 10 min, when it is missing: the backfill queue's schedulers in the registry.)
import type { Command } from "commander";
import { FLAGGED_VALUES_SCHEDULER_ID as FLAGGED_SCHEDULER_ID } from "../server/queues/registry.ts";
import { integer } from "./_args.ts";
import { print, printJson } from "./_output.ts";
import { runCommand } from "./_run.ts";

interface Options {
  every: number;
  remove?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("backfill:schedule")
    .summary("Register the scheduler that re-values flagged kills periodically")
    .description(
      `Create or update the job scheduler '${FLAGGED_SCHEDULER_ID}' on the backfill queue: every N minutes it plans a\n` +
        "flagged value backfill (kills marked for revaluation by new prices), resuming an unfinished one.",
    )
    .option("--every <minutes>", "interval in minutes", integer(1), 10)
    .option("--remove", "remove the scheduler instead")
    .option("--json", "print JSON for scripts")
    .addHelpText(
      "after",
      "\nSafe to run again (it updates the one scheduler). `bun queue backfill` creates it (every 10 min) when it is\nmissing and leaves an existing one as it is; a backfill worker does the work.\n\nExamples:\n  bun cli backfill:schedule\n  bun cli backfill:schedule --every 30\n  bun cli backfill:schedule --remove",
    )
    .action(
      runCommand(async (opts: Options) => {
        const { removeScheduler, upsertScheduler } = await import("../server/queues/schedulers.ts");
        if (opts.remove) {
          const removed = await removeScheduler(FLAGGED_SCHEDULER_ID);
          if (opts.json) return printJson({ id: FLAGGED_SCHEDULER_ID, removed });
          return print(removed ? `removed scheduler ${FLAGGED_SCHEDULER_ID}` : `no scheduler ${FLAGGED_SCHEDULER_ID}`);
        }
        await upsertScheduler(FLAGGED_SCHEDULER_ID, { every: opts.every * 60_000 });
        if (opts.json) return printJson({ id: FLAGGED_SCHEDULER_ID, everyMinutes: opts.every });
        print(`scheduler ${FLAGGED_SCHEDULER_ID}: flagged value backfill every ${opts.every} min (backfill queue)`);
      }),
    );
}
