// `refresh:affiliations`: the stored characters seen in kills of the last N days (or all stored
// characters) → bulk affiliation jobs on the character queue, 1,000 ids per job (one ESI call each).
import type { Command } from "commander";
import { integer } from "./_args.ts";
import { print, printJson } from "./_output.ts";
import { createProgress } from "./_progress.ts";
import { onCleanup, runCommand, UsageError } from "./_run.ts";

interface Options {
  days: number;
  all?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("refresh:affiliations")
    .summary("Enqueue bulk affiliation refreshes of recently seen characters (1,000 per job)")
    .description(
      "Select the stored characters (players, not deleted) that appear in kills of the last N days — or every\n" +
        "stored character with --all — and enqueue affiliation jobs of up to 1,000 ids each on the character\n" +
        "queue (backfill tier): corporation, alliance and faction refreshed in one ESI call per job.",
    )
    .option("--days <n>", "kills of the last n days count as recent", integer(1), 7)
    .option("--all", "every stored character, not only recent ones")
    .option("--json", "print the summary as JSON")
    .addHelpText(
      "after",
      "\nCharacters not stored yet are left to the kill fan-out and scan:entities. `bun queue character` does\n" +
        "the work.\n\n" +
        "Examples:\n  bun cli refresh:affiliations\n  bun cli refresh:affiliations --days 30 --json\n  bun cli refresh:affiliations --all",
    )
    .action(
      runCommand(async (opts: Options, cmd: Command) => {
        if (opts.all && cmd.getOptionValueSource("days") === "cli") throw new UsageError("--days and --all exclude each other");
        const [{ queueAffiliations }, { closeDb }] = await Promise.all([
          import("../server/enrichment/affiliations.ts"),
          import("../server/db/client.ts"),
        ]);
        onCleanup(closeDb);
        const progress = await createProgress({ label: "characters", total: 0 });
        const r = await queueAffiliations({
          ...(opts.all ? { all: true } : { since: new Date(Date.now() - opts.days * 86_400_000) }),
          onProgress: (characters) => progress.update(characters),
        });
        progress.stop();
        const summary = { ...r, days: opts.all ? null : opts.days };
        if (opts.json) return printJson(summary);
        print(`${r.characters} characters (${opts.all ? "all stored" : `seen in kills since ${r.since}`}) → ${r.jobs} affiliation jobs`);
      }),
    );
}
