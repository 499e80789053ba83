// `queue:alliance-corporations`: one backfill job (task `alliance-corporations`, backfill tier) per
// alliance in our table; each job lists the alliance's corporations from ESI and enqueues the ones
// missing from the corporations table.
import type { Command } from "commander";
import { print, printJson } from "./_output.ts";
import { createProgress } from "./_progress.ts";
import { onCleanup, runCommand } from "./_run.ts";

interface Options {
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("queue:alliance-corporations")
    .summary("Enqueue jobs that list each stored alliance's corporations and fetch the missing ones")
    .description(
      "For every alliance in the alliances table (not deleted), enqueue a backfill job (task alliance-corporations,\n" +
        "backfill tier) that reads GET /alliances/{id}/corporations and enqueues a corporation job for each\n" +
        "corporation missing from the corporations table.",
    )
    .option("--json", "print the summary as JSON")
    .addHelpText(
      "after",
      "\nJobs already pending for an alliance are not duplicated. `bun queue backfill` runs the listing jobs and\n" +
        "`bun queue corporation` the corporation jobs they enqueue.\n\n" +
        "Examples:\n  bun cli queue:alliance-corporations\n  bun cli queue:alliance-corporations --json",
    )
    .action(
      runCommand(async (opts: Options) => {
        const [{ queueAllianceCorporations }, { closeDb }] = await Promise.all([
          import("../server/enrichment/alliances.ts"),
          import("../server/db/client.ts"),
        ]);
        onCleanup(closeDb);
        let progress: Awaited<ReturnType<typeof createProgress>> | undefined;
        const r = await queueAllianceCorporations(async (done, total) => {
          progress ??= await createProgress({ label: "alliances", total });
          progress.update(done);
        });
        progress?.stop();
        if (opts.json) return printJson(r);
        print(`alliances: ${r.alliances}; listing jobs: ${r.enqueued} enqueued, ${r.pending} already pending`);
      }),
    );
}
