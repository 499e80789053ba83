// `job:show <queue> <id>`: one job in full — state, payload, attempts, failure reason and the cut stack
// trace of its last failure, progress, times, and its log lines (what the job wrote with job.log).
import type { Command } from "commander";
import type { QueueName } from "../server/queues/registry.ts";
import { parseQueueName, QUEUE_ARGUMENT_HELP } from "./_args.ts";
import { isoTime, print, printJson, when } from "./_output.ts";
import { EXIT_FAILURE, runCommand } from "./_run.ts";

export function register(program: Command): void {
  program
    .command("job:show")
    .summary("Show one job: state, payload, attempts, failure, progress, log lines")
    .description("Show one job: state, payload, attempts, failure reason and stack trace, progress, times, log lines")
    .argument("<queue>", QUEUE_ARGUMENT_HELP, parseQueueName)
    .argument("<id>", "the job id (see jobs:list)")
    .option("--json", "print JSON for scripts")
    .addHelpText("after", "\nExamples:\n  bun cli job:show character character-93000001\n  bun cli job:show backfill 17 --json")
    .action(
      runCommand(async (queue: QueueName, id: string, opts: { json?: boolean }) => {
        const { jobDetail } = await import("../server/queues/jobs.ts");
        const job = await jobDetail(queue, id);
        if (!job) {
          process.stderr.write(`error: no job '${id}' in ${queue}\n`);
          return EXIT_FAILURE;
        }
        if (opts.json) {
          return printJson({
            ...job,
            timestamp: isoTime(job.timestamp),
            processedOn: isoTime(job.processedOn),
            finishedOn: isoTime(job.finishedOn),
            dueAt: isoTime(job.dueAt),
          });
        }
        const now = Date.now();
        const lines = [
          `job ${job.id} in ${queue}: ${job.state}`,
          `  name        ${job.name}`,
          `  work key    ${job.workKey ?? "-"}`,
          `  priority    ${job.priority}`,
          `  attempts    ${job.attemptsMade}/${job.attempts}`,
          `  added       ${when(job.timestamp, now)}`,
          `  started     ${when(job.processedOn, now)}`,
          `  finished    ${when(job.finishedOn, now)}`,
          ...(job.dueAt ? [`  due         ${when(job.dueAt, now)}`] : []),
          ...(job.scheduler ? [`  scheduler   ${job.scheduler}`] : []),
          `  progress    ${job.progress === 0 ? "-" : JSON.stringify(job.progress)}`,
          `  data        ${JSON.stringify(job.data)}`,
        ];
        if (job.failedReason) lines.push(`  reason      ${job.failedReason}`);
        if (job.returnValue !== null) lines.push(`  returned    ${JSON.stringify(job.returnValue)}`);
        if (job.stacktrace) lines.push("", "stack trace (last failure):", ...job.stacktrace.split("\n").map((l) => `  ${l}`));
        lines.push(
          "",
          job.logs.total
            ? `log (${job.logs.total} lines${job.logs.total > job.logs.lines.length ? `, last ${job.logs.lines.length}` : ""}):`
            : "log: none",
        );
        for (const line of job.logs.lines) lines.push(`  ${line}`);
        print(lines.join("\n"));
      }),
    );
}
