// `schedulers:list`: the job schedulers of every queue (cron patterns and intervals that enqueue jobs by
// themselves), running and paused: id, queue, pattern or interval, next run, last run.
import type { Command } from "commander";
import { isoTime, print, printJson, table, when } from "./_output.ts";
import { runCommand } from "./_run.ts";
import { scheduleText } from "./_schedulers.ts";

interface Options {
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("schedulers:list")
    .summary("List the job schedulers of every queue, with next and last run")
    .description("List the job schedulers of every queue, running and paused: id, queue, pattern or interval, next and last run")
    .option("--json", "print JSON for scripts")
    .addHelpText(
      "after",
      "\nA paused scheduler has no next run; `last run` is when a job of it last started.\n\nExamples:\n  bun cli schedulers:list\n  bun cli schedulers:list --json",
    )
    .action(
      runCommand(async (opts: Options) => {
        const { listSchedulers } = await import("../server/queues/schedulers.ts");
        const rows = await listSchedulers();
        if (opts.json) return printJson(rows.map((r) => ({ ...r, next: isoTime(r.next), lastRun: isoTime(r.lastRun) })));
        if (rows.length === 0) return print("no schedulers");
        const now = Date.now();
        print(
          table(
            ["id", "queue", "schedule", "state", "next run", "last run"],
            rows.map((r) => ({
              id: r.id,
              queue: r.queue,
              schedule: scheduleText(r),
              state: r.paused ? "paused" : "running",
              "next run": when(r.next, now),
              "last run": when(r.lastRun, now),
            })),
          ),
        );
      }),
    );
}
