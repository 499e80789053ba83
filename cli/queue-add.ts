// `queue:add <queue> '<json>'`: enqueues one job through enqueueInput (the payload is validated; an
// invalid one exits 2 with the validation message) and says whether it was added or de-duplicated
// against the same work already pending.
import type { Command } from "commander";
import { PRIORITY_TIERS } from "../server/queues/priority.ts";
import type { QueueName } from "../server/queues/registry.ts";
import { integer, json, parsePriority, parseQueueName, QUEUE_ARGUMENT_HELP } from "./_args.ts";
import { print, printJson } from "./_output.ts";
import { runCommand, UsageError } from "./_run.ts";

interface Options {
  priority?: string;
  delay?: number;
  jobId?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("queue:add")
    .summary("Add one validated job to a queue")
    .description("Add one job to a queue (validated like every enqueue); prints its id and whether it was added or de-duplicated")
    .argument("<queue>", QUEUE_ARGUMENT_HELP, parseQueueName)
    .argument("<payload>", "the job's payload as JSON", json)
    .option("--priority <priority>", `a tier (${PRIORITY_TIERS.join(", ")}) or a number (1 runs first); default: the queue's tier`)
    .option("--delay <ms>", "milliseconds before the job may run", integer(0))
    .option("--job-id <id>", "exact job id (no ':'); a job with this id already present is not added again")
    .option("--json", "print JSON for scripts")
    .addHelpText(
      "after",
      "\nThe same work (same work key, e.g. character-90000001) is added once while a job for it is\n" +
        "pending; the command then prints the pending job's id and 'de-duplicated'.\n\n" +
        "Examples:\n" +
        "  bun cli queue:add character '{\"id\":90000001}'\n" +
        '  bun cli queue:add killmail \'{"killmailId":128000000,"hash":"<40 hex>"}\' --priority user\n' +
        '  bun cli queue:add price \'{"task":"update"}\' --delay 60000 --json',
    )
    .action(
      runCommand(async (queue: QueueName, payload: unknown, opts: Options) => {
        if (opts.jobId !== undefined && (opts.jobId === "" || opts.jobId.includes(":"))) {
          throw new UsageError(`option '--job-id <id>' argument '${opts.jobId}' is invalid: must be non-empty and contain no ':'`);
        }
        const [{ enqueueInput }, { getQueue }] = await Promise.all([
          import("../server/queues/enqueue.ts"),
          import("../server/queues/queue.ts"),
        ]);
        // With --job-id BullMQ returns the existing job's id without adding: find out beforehand.
        const existed = opts.jobId !== undefined && Boolean(await getQueue(queue).getJob(opts.jobId));
        const result = await enqueueInput(queue, payload, {
          ...(opts.priority !== undefined ? { priority: parsePriority(opts.priority) } : {}),
          ...(opts.delay ? { delay: opts.delay } : {}),
          ...(opts.jobId !== undefined ? { jobId: opts.jobId } : {}),
        });
        const added = result.added && !existed;
        const state = added ? undefined : await getQueue(queue).getJobState(result.jobId);

        if (opts.json) return printJson({ queue, jobId: result.jobId, added, ...(state ? { existingState: state } : {}) });
        print(
          added
            ? `added ${queue} job ${result.jobId}`
            : `de-duplicated: ${queue} job ${result.jobId} already exists (${state}); nothing added`,
        );
      }),
    );
}
