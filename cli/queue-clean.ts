// `queue:clean <queue> --state s --grace <seconds> --limit n`: removes jobs of one state older than a grace
// period (by their finish time for finished jobs, their creation otherwise), at most n of them. Unlike
// queue:clear it keeps recent jobs; active jobs are never cleaned.
import type { Command } from "commander";
import type { QueueName } from "../server/queues/registry.ts";
import { CLEAN_STATES } from "../server/queues/states.ts";
import { integer, parseQueueName, QUEUE_ARGUMENT_HELP } from "./_args.ts";
import { plural, print, printJson } from "./_output.ts";
import { runCommand, UsageError } from "./_run.ts";

const STATES = CLEAN_STATES;

interface Options {
  state: string;
  grace: number;
  limit: number;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("queue:clean")
    .summary("Remove a queue's jobs of one state older than a grace period")
    .description("Remove jobs of one state older than a grace period, at most --limit of them")
    .argument("<queue>", QUEUE_ARGUMENT_HELP, parseQueueName)
    .option("--state <state>", STATES.join(", "), "completed")
    .option("--grace <seconds>", "keep jobs younger than this", integer(0), 0)
    .option("--limit <n>", "remove at most n jobs", integer(1), 10_000)
    .option("--json", "print JSON for scripts")
    .addHelpText(
      "after",
      "\nExamples:\n  bun cli queue:clean killmail\n  bun cli queue:clean character --state failed --grace 86400 --limit 1000",
    )
    .action(
      runCommand(async (queue: QueueName, opts: Options) => {
        const state = STATES.find((s) => s === opts.state);
        if (!state) throw new UsageError(`--state must be one of ${STATES.join(", ")}`);
        const { cleanQueue } = await import("../server/queues/jobs.ts");
        const removed = await cleanQueue(queue, state, opts.grace, opts.limit);
        if (opts.json) return printJson({ queue, state, grace: opts.grace, removed });
        print(`${queue}: removed ${plural(removed, `${state} job`)}${opts.grace ? ` older than ${opts.grace} s` : ""}`);
      }),
    );
}
