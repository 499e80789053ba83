// `queue:schedulers`: the job schedulers of every queue (cron patterns and intervals that enqueue
// jobs by themselves): id, queue, pattern or interval, and the next run.
import type { Command } from "commander";
import { QUEUE_NAMES } from "../server/queues/registry.ts";
import { duration, isoTime, print, printJson, table, when } from "./_output.ts";
import { runCommand } from "./_run.ts";

interface Options {
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("queue:schedulers")
    .summary("List the job schedulers of every queue")
    .description("List the job schedulers of every queue: id, queue, pattern or interval, next run")
    .option("--json", "print JSON for scripts")
    .addHelpText("after", "\nExamples:\n  bun cli queue:schedulers\n  bun cli queue:schedulers --json")
    .action(
      runCommand(async (opts: Options) => {
        const { getQueue } = await import("../server/queues/queue.ts");
        const rows = [];
        for (const queue of QUEUE_NAMES) {
          for (const s of await getQueue(queue).getJobSchedulers(0, -1, true)) {
            rows.push({
              id: s.id ?? s.key,
              queue,
              pattern: s.pattern ?? null,
              every: s.every ? Number(s.every) : null,
              tz: s.tz ?? null,
              next: s.next ?? null,
              data: s.template?.data as unknown,
            });
          }
        }

        if (opts.json) return printJson(rows.map((r) => ({ ...r, next: isoTime(r.next) })));
        if (rows.length === 0) return print("no schedulers");
        const now = Date.now();
        print(
          table(
            ["id", "queue", "schedule", "next run"],
            rows.map((r) => ({
              id: r.id,
              queue: r.queue,
              schedule: r.pattern ? `cron ${r.pattern}${r.tz ? ` (${r.tz})` : ""}` : `every ${duration(r.every ?? 0)}`,
              "next run": when(r.next, now),
            })),
          ),
        );
      }),
    );
}
