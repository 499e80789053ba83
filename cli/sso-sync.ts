// `sso:sync <id>`: polls now the syncs of a character (its own and, for a director, its corporation's)
// or of a corporation, instead of waiting for the next poll.
import type { Command } from "commander";
import { integer } from "./_args.ts";
import { print, printJson } from "./_output.ts";
import { EXIT_FAILURE, onCleanup, runCommand } from "./_run.ts";

export function register(program: Command): void {
  program
    .command("sso:sync")
    .summary("Poll a member's (or a corporation's) recent kills now")
    .description(
      "Run now the active syncs of a character id (its own recent kills, and its corporation's when it is the\n" +
        "director whose token drives that sync) or of a corporation id. New kills go to the intake; kills\n" +
        "already stored or queued are not fetched again.",
    )
    .argument("<id>", "character or corporation id", integer(1))
    .option("--json", "print JSON for scripts")
    .addHelpText("after", "\nExample:\n  bun cli sso:sync 90000001")
    .action(
      runCommand(async (id: number, opts: { json?: boolean }) => {
        const [{ closeDb }, { syncSsoNow }] = await Promise.all([import("../server/db/client.ts"), import("../server/sso/manage.ts")]);
        onCleanup(closeDb);
        const started = await syncSsoNow(id);
        if (opts.json) printJson({ id, started });
        if (started.length === 0) {
          if (!opts.json) process.stderr.write(`error: no active sync of character or corporation ${id} (see sso:list)\n`);
          return EXIT_FAILURE;
        }
        if (!opts.json) for (const s of started) print(`${s.kind} ${s.id}: polling now (job ${s.jobId})`);
      }),
    );
}
