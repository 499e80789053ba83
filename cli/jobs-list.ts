// `jobs:list <queue> [--state s]`: a page of a queue's jobs in one state (id, times, attempts, reason);
// without a queue, the failed (or active) jobs of every queue, newest first.
import type { Command } from "commander";
import type { JobSummary } from "../server/queues/jobs.ts";
import type { QueueName } from "../server/queues/registry.ts";
import { LIST_STATES, type ListState, MAX_PAGE } from "../server/queues/states.ts";
import { integer, parseQueueName, QUEUE_ARGUMENT_HELP } from "./_args.ts";
import { isoTime, print, printJson, table, when } from "./_output.ts";
import { runCommand, UsageError } from "./_run.ts";

const STATES = LIST_STATES;
type State = ListState;

interface Options {
  state: string;
  start: number;
  limit: number;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("jobs:list")
    .summary("List a queue's jobs in one state (paged), or the failed/active jobs of every queue")
    .description("List a queue's jobs in one state, a page at a time; without a queue, the failed or active jobs of every queue")
    .argument("[queue]", QUEUE_ARGUMENT_HELP, parseQueueName)
    .option("--state <state>", `${STATES.join(", ")} (without a queue: failed or active)`, "failed")
    .option("--start <n>", "skip the first n jobs", integer(0), 0)
    .option("--limit <n>", "list at most n jobs (≤ 1000; per queue without a queue)", integer(1), 20)
    .option("--json", "print JSON for scripts (includes each job's payload)")
    .addHelpText(
      "after",
      "\nFinished jobs (completed, failed) come newest first; the others in the order they will run.\n\n" +
        "Examples:\n  bun cli jobs:list character --state delayed\n  bun cli jobs:list killmail --state completed --start 20 --limit 20\n  bun cli jobs:list --state active --json",
    )
    .action(
      runCommand(async (queue: QueueName | undefined, opts: Options) => {
        if (!STATES.includes(opts.state as State)) throw new UsageError(`--state must be one of ${STATES.join(", ")}`);
        if (opts.limit > MAX_PAGE) throw new UsageError(`--limit must be at most ${MAX_PAGE}`);
        const state = opts.state as State;
        const { listJobs, jobsAcrossQueues } = await import("../server/queues/jobs.ts");
        let page: { total: number; jobs: (JobSummary & { queue?: string })[] };
        if (queue) page = await listJobs(queue, state, opts.start, opts.limit);
        else if (state === "failed" || state === "active") page = await jobsAcrossQueues(state, opts.limit);
        else throw new UsageError("without a queue, --state must be failed or active");

        if (opts.json) {
          return printJson({
            ...(queue ? { queue } : {}),
            state,
            total: page.total,
            start: queue ? opts.start : 0,
            jobs: page.jobs.map((j) => ({
              ...j,
              timestamp: isoTime(j.timestamp),
              processedOn: isoTime(j.processedOn),
              finishedOn: isoTime(j.finishedOn),
              dueAt: isoTime(j.dueAt),
            })),
          });
        }
        const where = queue ?? "any queue";
        if (page.jobs.length === 0) return print(`no ${state} jobs in ${where}${queue && opts.start ? ` from ${opts.start}` : ""}`);
        const first = queue ? opts.start + 1 : 1;
        print(`${state} jobs in ${where}: ${first}–${first + page.jobs.length - 1} of ${page.total}`);
        const now = Date.now();
        const columns = [...(queue ? [] : ["queue"]), "id", "added", state === "delayed" ? "due" : "finished", "attempts", "reason"];
        print(
          table(
            columns,
            page.jobs.map((j) => ({
              queue: j.queue,
              id: j.id,
              added: when(j.timestamp, now),
              due: when(j.dueAt, now),
              finished: when(j.finishedOn, now),
              attempts: `${j.attemptsMade}/${j.attempts}`,
              reason: j.failedReason ?? "",
            })),
            { alignRight: ["attempts"] },
          ),
        );
      }),
    );
}
