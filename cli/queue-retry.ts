// `queue:retry <queue> --failed` (or `--all-queues`): moves failed jobs back to their queue with a
// fresh set of attempts and their original priority. The de-duplication rule holds: a failed job
// whose work is already pending again (a newer job with the same work key) is skipped, not doubled
// (server/queues/jobs.ts, shared with the admin API). --transient-only leaves permanent failures alone.
import type { Command } from "commander";
import type { RetryFailedResult } from "../server/queues/jobs.ts";
import { QUEUE_NAMES, type QueueName } from "../server/queues/registry.ts";
import { parseQueueName, QUEUE_ARGUMENT_HELP } from "./_args.ts";
import { plural, print, printJson } from "./_output.ts";
import { runCommand, UsageError } from "./_run.ts";

interface Options {
  failed: boolean;
  allQueues?: boolean;
  transientOnly?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("queue:retry")
    .summary("Retry the failed jobs of a queue or of every queue")
    .description("Retry the failed jobs of a queue (or of every queue with --all-queues)")
    .argument("[queue]", QUEUE_ARGUMENT_HELP, parseQueueName)
    .requiredOption("--failed", "retry the failed jobs (required: the only state retry takes)")
    .option("--all-queues", "retry the failed jobs of every queue")
    .option("--transient-only", "only jobs whose failure was transient (an outage, a timeout, an upstream 5xx)")
    .option("--json", "print JSON for scripts")
    .addHelpText(
      "after",
      "\nJobs get a fresh set of attempts and keep their priority. A job whose work is pending again\n" +
        "(a newer job with the same work key) is skipped, so retrying never doubles work.\n\n" +
        "Examples:\n  bun cli queue:retry killmail --failed\n  bun cli queue:retry --failed --all-queues --json\n  bun cli queue:retry character --failed --transient-only",
    )
    .action(
      runCommand(async (queue: QueueName | undefined, opts: Options) => {
        if (queue && opts.allQueues) throw new UsageError("give a queue or --all-queues, not both");
        if (!queue && !opts.allQueues) throw new UsageError("missing queue: give a queue name or --all-queues");
        const { retryFailed } = await import("../server/queues/jobs.ts");
        const results: RetryFailedResult[] = [];
        for (const name of queue ? [queue] : QUEUE_NAMES) results.push(await retryFailed(name, { transientOnly: opts.transientOnly }));
        const total = results.reduce((sum, r) => sum + r.retried, 0);

        if (opts.json) return printJson({ retried: total, queues: results });
        for (const r of results) {
          if (!queue && r.retried + r.skipped + r.notTransient + r.gone === 0) continue;
          const notes = [
            r.skipped ? `${r.skipped} skipped (same work already pending)` : "",
            r.notTransient ? `${r.notTransient} left (not transient)` : "",
            r.gone ? `${r.gone} gone meanwhile` : "",
          ].filter(Boolean);
          print(`${r.queue}: retried ${plural(r.retried, "failed job")}${notes.length ? `, ${notes.join(", ")}` : ""}`);
        }
        if (!queue) print(`retried ${plural(total, "failed job")} in all`);
      }),
    );
}
