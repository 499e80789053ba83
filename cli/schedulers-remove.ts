// `schedulers:remove <id>`: removes a job scheduler, running or paused. A default one (declared in the
// registry) comes back at its declared timing on the next `bun queue` start: pause it to stop it for good.
import type { Command } from "commander";
import { print, printJson } from "./_output.ts";
import { EXIT_FAILURE, runCommand } from "./_run.ts";

export function register(program: Command): void {
  program
    .command("schedulers:remove")
    .summary("Remove a job scheduler")
    .description("Remove a job scheduler, running or paused (a default one returns at the next `bun queue` start)")
    .argument("<id>", "the scheduler id (see schedulers:list)")
    .option("--json", "print JSON for scripts")
    .addHelpText(
      "after",
      "\nTo stop a default scheduler for good, use schedulers:pause.\n\nExamples:\n  bun cli schedulers:remove alliance-snapshot-hourly",
    )
    .action(
      runCommand(async (id: string, opts: { json?: boolean }) => {
        const { removeScheduler } = await import("../server/queues/schedulers.ts");
        const removed = await removeScheduler(id);
        if (opts.json) printJson({ id, removed });
        else if (removed) print(`removed scheduler ${id}`);
        else process.stderr.write(`error: no job scheduler '${id}' (see schedulers:list)\n`);
        return removed ? 0 : EXIT_FAILURE;
      }),
    );
}
