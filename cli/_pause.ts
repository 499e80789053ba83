// Shared by `queue:pause` and `queue:resume`: one queue or --all, report each queue's new state.
// BullMQ pauses with a flag on the queue: workers everywhere stop taking its jobs (active ones
// finish); the jobs stay in their states until the queue is resumed.
import type { Command } from "commander";
import { QUEUE_NAMES, type QueueName } from "../server/queues/registry.ts";
import { parseQueueName, QUEUE_ARGUMENT_HELP } from "./_args.ts";
import { print, printJson } from "./_output.ts";
import { runCommand, UsageError } from "./_run.ts";

interface Options {
  all?: boolean;
  json?: boolean;
}

export function registerPauseCommand(program: Command, action: "pause" | "resume"): void {
  const pausing = action === "pause";
  program
    .command(`queue:${action}`)
    .summary(pausing ? "Pause a queue or every queue" : "Resume a paused queue or every queue")
    .description(
      pausing
        ? "Pause a queue (or every queue): workers stop taking its jobs; active jobs finish, the rest wait"
        : "Resume a paused queue (or every queue): workers take its jobs again",
    )
    .argument("[queue]", QUEUE_ARGUMENT_HELP, parseQueueName)
    .option("--all", `${action} every queue`)
    .option("--json", "print JSON for scripts")
    .addHelpText("after", `\nExamples:\n  bun cli queue:${action} killmail\n  bun cli queue:${action} --all`)
    .action(
      runCommand(async (queue: QueueName | undefined, opts: Options) => {
        if (queue && opts.all) throw new UsageError("give a queue or --all, not both");
        if (!queue && !opts.all) throw new UsageError("missing queue: give a queue name or --all");
        const { getQueue } = await import("../server/queues/queue.ts");
        const results: { queue: QueueName; paused: boolean; changed: boolean }[] = [];
        for (const name of queue ? [queue] : QUEUE_NAMES) {
          const q = getQueue(name);
          const before = await q.isPaused();
          if (pausing) await q.pause();
          else await q.resume();
          results.push({ queue: name, paused: await q.isPaused(), changed: before !== pausing });
        }
        if (opts.json) return printJson(results);
        for (const r of results) {
          const state = r.paused ? "paused" : "running";
          print(`${r.queue}: ${state}${r.changed ? "" : ` (was already ${state})`}`);
        }
      }),
    );
}
