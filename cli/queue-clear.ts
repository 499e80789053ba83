// `queue:clear <queue> --failed|--completed|--delayed|--waiting|--all`: removes the jobs of the
// chosen states and reports how many. Waiting includes prioritized jobs. Jobs a scheduler made for
// its next run are kept (they belong to the scheduler). `--all` obliterates the queue's jobs; it
// refuses while workers have active jobs unless --force, and keeps schedulers and the paused flag.
import { type Command, Option } from "commander";
import type { QueueName } from "../server/queues/registry.ts";
import { parseQueueName, QUEUE_ARGUMENT_HELP } from "./_args.ts";
import { plural, print, printJson } from "./_output.ts";
import { EXIT_FAILURE, runCommand, UsageError } from "./_run.ts";

const STATES = ["failed", "completed", "delayed", "waiting"] as const;
type ClearState = (typeof STATES)[number];

interface Options extends Partial<Record<ClearState, boolean>> {
  all?: boolean;
  force?: boolean;
  json?: boolean;
}

/** BullMQ's clean() types behind each state we offer. */
const CLEAN_TYPES = {
  failed: ["failed"],
  completed: ["completed"],
  delayed: ["delayed"],
  waiting: ["wait", "prioritized"],
} as const satisfies Record<ClearState, readonly string[]>;

export function register(program: Command): void {
  program
    .command("queue:clear")
    .summary("Remove the jobs of a queue in the chosen states")
    .description("Remove the jobs of a queue in the chosen states and report how many were removed")
    .argument("<queue>", QUEUE_ARGUMENT_HELP, parseQueueName)
    .option("--failed", "remove failed jobs")
    .option("--completed", "remove completed jobs")
    .option("--delayed", "remove delayed jobs (not the next run of a scheduler)")
    .option("--waiting", "remove waiting jobs, prioritized ones included")
    .addOption(
      new Option("--all", "remove every job of the queue (obliterate); refuses while jobs are active, see --force").conflicts([...STATES]),
    )
    .option("--force", "with --all: remove even while workers are processing jobs of the queue")
    .option("--json", "print JSON for scripts")
    .addHelpText(
      "after",
      "\nState flags can be combined. --all refuses while workers have active jobs in the queue: stop\n" +
        "them first, or pass --force (their jobs are removed under them and their results are lost).\n" +
        "--all keeps the queue's schedulers and its paused flag.\n\n" +
        "Examples:\n  bun cli queue:clear killmail --failed\n  bun cli queue:clear character --completed --failed\n  bun cli queue:clear price --all --force",
    )
    .action(
      runCommand(async (queue: QueueName, opts: Options) => {
        const states = STATES.filter((s) => opts[s]);
        if (!opts.all && states.length === 0) {
          throw new UsageError(`choose what to remove: ${STATES.map((s) => `--${s}`).join(", ")} or --all`);
        }
        if (opts.force && !opts.all) throw new UsageError("--force only applies to --all");

        if (opts.all) {
          const outcome = await obliterate(queue, Boolean(opts.force));
          if ("refused" in outcome) {
            process.stderr.write(`${outcome.refused}\n`);
            return EXIT_FAILURE;
          }
          const total = Object.values(outcome.removed).reduce((a, b) => a + b, 0);
          if (opts.json) return printJson({ queue, removed: outcome.removed, total, schedulersKept: outcome.schedulersKept });
          const detail = Object.entries(outcome.removed)
            .filter(([, n]) => n > 0)
            .map(([s, n]) => `${n} ${s}`)
            .join(", ");
          print(`removed ${plural(total, "job")} from ${queue}${detail ? ` (${detail})` : ""}`);
          if (outcome.schedulersKept) print(`kept ${plural(outcome.schedulersKept, "scheduler")}`);
          return;
        }

        const removed = await clean(queue, states);
        const total = Object.values(removed).reduce((a, b) => a + b, 0);
        if (opts.json) return printJson({ queue, removed, total });
        for (const s of states) print(`removed ${plural(removed[s] ?? 0, `${s} job`)} from ${queue}`);
      }),
    );
}

async function clean(queue: QueueName, states: ClearState[]): Promise<Partial<Record<ClearState, number>>> {
  const { getQueue } = await import("../server/queues/queue.ts");
  const q = getQueue(queue);
  const removed: Partial<Record<ClearState, number>> = {};
  for (const state of states) {
    removed[state] = 0;
    for (const type of CLEAN_TYPES[state]) {
      // In rounds, so one huge set does not block Redis; stops when a round removes nothing.
      let round: string[];
      do {
        round = await q.clean(0, 10_000, type);
        removed[state] += round.length;
      } while (round.length > 0);
    }
  }
  return removed;
}

type ObliterateOutcome = { refused: string } | { removed: Record<string, number>; schedulersKept: number };

async function obliterate(queue: QueueName, force: boolean): Promise<ObliterateOutcome> {
  const { getQueue, JOB_STATES } = await import("../server/queues/queue.ts");
  const q = getQueue(queue);
  const refusal = async (active: number) => {
    const workers = await q.getWorkersCount().catch(() => 0);
    return {
      refused:
        `refusing to clear all of ${queue}: ${plural(active, "job")} active ` +
        `(${plural(workers, "worker")} connected to the queue).\n` +
        `Stop its workers or wait for the jobs to finish, or pass --force to remove them anyway ` +
        `(their workers lose them and their results).`,
    };
  };

  const counts = await q.getJobCounts(...JOB_STATES);
  if (counts.active && !force) return refusal(counts.active);

  const [wasPaused, schedulers] = await Promise.all([q.isPaused(), q.getJobSchedulers(0, -1, true)]);
  try {
    await q.obliterate({ force });
  } catch (err) {
    // obliterate() pauses the queue before it checks for active jobs: undo that.
    if (!wasPaused) await q.resume();
    if (/active jobs/i.test((err as Error).message)) return refusal((await q.getActiveCount()) || 1);
    throw err;
  }
  // Obliterate removes the schedulers and the paused flag with the jobs; they are configuration, not jobs.
  for (const s of schedulers) {
    const repeat = {
      ...(s.pattern ? { pattern: s.pattern } : {}),
      ...(s.every ? { every: Number(s.every) } : {}),
      ...(s.tz ? { tz: s.tz } : {}),
      ...(s.endDate ? { endDate: s.endDate } : {}),
      ...(s.limit ? { limit: s.limit } : {}),
    };
    await q.upsertJobScheduler(s.id ?? s.key, repeat, { name: s.name, data: s.template?.data, opts: s.template?.opts });
  }
  if (wasPaused) await q.pause();
  const removed = Object.fromEntries(JOB_STATES.map((s) => [s, counts[s] ?? 0]));
  return { removed, schedulersKept: schedulers.length };
}
