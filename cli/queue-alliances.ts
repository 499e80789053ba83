// `queue:alliances`: reads every active alliance id from ESI (`GET /alliances`, cached until ESI's
// Expires) and enqueues alliance jobs (backfill tier) for the ones missing from our table or expired;
// `--all` forces a (conditional) refresh of every listed alliance.
import type { Command } from "commander";
import { print, printJson } from "./_output.ts";
import { onCleanup, runCommand } from "./_run.ts";

interface Options {
  all?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("queue:alliances")
    .summary("Enqueue alliance jobs for every alliance ESI lists that is missing or expired")
    .description(
      "Read the ids of every active alliance from ESI (GET /alliances) and enqueue an alliance job (backfill tier)\n" +
        "for each one missing from the alliances table or past its expiry; with --all, for every one (forced).",
    )
    .option("--all", "enqueue every listed alliance, forcing a refresh")
    .option("--json", "print the summary as JSON")
    .addHelpText(
      "after",
      "\nNeeds ESI_USER_AGENT. Jobs already pending are not duplicated. The list is kept in Redis until ESI's\n" +
        "Expires, so a rerun within the hour does not ask ESI again. `bun queue alliance` does the work.\n\n" +
        "Examples:\n  bun cli queue:alliances\n  bun cli queue:alliances --all --json",
    )
    .action(
      runCommand(async (opts: Options) => {
        const [{ queueAlliances }, { closeDb }, { requireEsiUserAgent }] = await Promise.all([
          import("../server/enrichment/alliances.ts"),
          import("../server/db/client.ts"),
          import("../server/helpers/config.ts"),
        ]);
        requireEsiUserAgent();
        onCleanup(closeDb);
        const r = await queueAlliances({ all: opts.all ?? false });
        if (opts.json) return printJson(r);
        print(`alliances listed by ESI: ${r.listed}${r.cachedList ? " (cached list)" : ""}`);
        if (!opts.all) print(`missing: ${r.missing}, expired: ${r.expired}`);
        print(`alliance jobs: ${r.enqueued} enqueued, ${r.pending} already pending`);
      }),
    );
}
