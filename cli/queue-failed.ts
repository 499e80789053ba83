// `queue:failed <queue>`: the failed jobs of a queue, newest first: id, time of failure, attempts
// made and the reason (the last error), as a table or JSON.
import type { Command } from "commander";
import type { QueueName } from "../server/queues/registry.ts";
import { integer, parseQueueName, QUEUE_ARGUMENT_HELP } from "./_args.ts";
import { isoTime, plural, print, printJson, table, when } from "./_output.ts";
import { runCommand } from "./_run.ts";

interface Options {
  limit: number;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("queue:failed")
    .summary("List the failed jobs of a queue, newest first")
    .description("List the failed jobs of a queue, newest first: id, reason, attempts made, time of failure")
    .argument("<queue>", QUEUE_ARGUMENT_HELP, parseQueueName)
    .option("--limit <n>", "show at most n jobs", integer(1), 20)
    .option("--json", "print JSON for scripts (includes each job's payload)")
    .addHelpText("after", "\nExamples:\n  bun cli queue:failed killmail\n  bun cli queue:failed character --limit 100 --json")
    .action(
      runCommand(async (queue: QueueName, opts: Options) => {
        const { getQueue } = await import("../server/queues/queue.ts");
        const q = getQueue(queue);
        const [jobs, total] = await Promise.all([q.getFailed(0, opts.limit - 1), q.getFailedCount()]);
        const rows = jobs
          .filter((job) => job !== undefined && job !== null)
          .map((job) => ({
            id: String(job.id),
            reason: job.failedReason ?? "",
            attemptsMade: job.attemptsMade,
            attempts: job.opts.attempts ?? 1,
            failedAt: job.finishedOn ?? job.processedOn ?? job.timestamp,
            data: job.data as unknown,
          }))
          .sort((a, b) => b.failedAt - a.failedAt);

        if (opts.json) {
          return printJson({ queue, total, jobs: rows.map((r) => ({ ...r, failedAt: isoTime(r.failedAt) })) });
        }
        if (rows.length === 0) return print(`no failed jobs in ${queue}`);
        print(`${rows.length < total ? `${rows.length} of ` : ""}${plural(total, "failed job")} in ${queue}, newest first`);
        const now = Date.now();
        print(
          table(
            ["id", "failed at", "attempts", "reason"],
            rows.map((r) => ({
              id: r.id,
              "failed at": when(r.failedAt, now),
              attempts: `${r.attemptsMade}/${r.attempts}`,
              reason: r.reason,
            })),
            { alignRight: ["attempts"] },
          ),
        );
      }),
    );
}
