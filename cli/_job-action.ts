// Shared by `job:retry`, `job:remove` and `job:promote`: one job of a queue by id, an action from
// server/queues/jobs.ts (the admin API's too), and its outcome as a line or JSON. The outcome asked for
// (and a retry skipped because the same work is pending again: nothing to do) exits 0; a missing job
// or one in the wrong state exits 1 with the reason on stderr.
import type { Command } from "commander";
import type { QueueName } from "../server/queues/registry.ts";
import { parseQueueName, QUEUE_ARGUMENT_HELP } from "./_args.ts";
import { print, printJson } from "./_output.ts";
import { EXIT_FAILURE, runCommand } from "./_run.ts";

export interface JobActionSpec {
  command: string;
  summary: string;
  help: string;
  /** Runs the action; returns its outcome word. */
  run(queue: QueueName, id: string): Promise<string>;
  /** Outcome → the line printed; `ok` outcomes exit 0. */
  outcomes: Record<string, { ok: boolean; line: (queue: QueueName, id: string) => string }>;
}

export function registerJobAction(program: Command, spec: JobActionSpec): void {
  program
    .command(spec.command)
    .summary(spec.summary)
    .description(spec.summary)
    .argument("<queue>", QUEUE_ARGUMENT_HELP, parseQueueName)
    .argument("<id>", "the job id (see jobs:list)")
    .option("--json", "print JSON for scripts")
    .addHelpText("after", `\n${spec.help}`)
    .action(
      runCommand(async (queue: QueueName, id: string, opts: { json?: boolean }) => {
        const outcome = await spec.run(queue, id);
        const known = spec.outcomes[outcome] ?? { ok: false, line: () => `${outcome}` };
        if (opts.json) printJson({ queue, id, outcome });
        else if (known.ok) print(known.line(queue, id));
        else process.stderr.write(`error: ${known.line(queue, id)}\n`);
        return known.ok ? 0 : EXIT_FAILURE;
      }),
    );
}

export const notFound = { ok: false, line: (queue: QueueName, id: string) => `no job '${id}' in ${queue}` };
