// Shared by the schedulers:* commands: a scheduler's timing in words, its one-line state, and the
// pause/resume/remove commands (one id, an action of server/queues/schedulers.ts, a line or JSON).
import type { Command } from "commander";
import type { SchedulerInfo } from "../server/queues/schedulers.ts";
import { duration, isoTime, print, printJson, when } from "./_output.ts";
import { EXIT_FAILURE, runCommand } from "./_run.ts";

/** "cron 15 11 * * * (UTC)" / "every 10m". */
export function scheduleText(s: Pick<SchedulerInfo, "pattern" | "every" | "tz">): string {
  return s.pattern ? `cron ${s.pattern}${s.tz ? ` (${s.tz})` : ""}` : `every ${duration(s.every ?? 0)}`;
}

/** "price-daily (price): cron 15 11 * * * (UTC), paused" / "…, next run 2026-… (in 3h)". */
export function schedulerLine(s: SchedulerInfo): string {
  return `${s.id} (${s.queue}): ${scheduleText(s)}, ${s.paused ? "paused" : `next run ${when(s.next)}`}`;
}

export function schedulerJson(s: SchedulerInfo): Record<string, unknown> {
  return { ...s, next: isoTime(s.next), lastRun: isoTime(s.lastRun) };
}

/** `schedulers:pause` / `schedulers:resume`: already in that state exits 0 (said so); an unknown id exits 1. */
export function registerSchedulerToggle(program: Command, action: "pause" | "resume"): void {
  const pausing = action === "pause";
  program
    .command(`schedulers:${action}`)
    .summary(pausing ? "Pause a job scheduler (kept off across restarts)" : "Resume a paused job scheduler")
    .description(
      pausing
        ? "Pause a job scheduler: no more runs until schedulers:resume; `bun queue` does not re-create a paused default"
        : "Resume a paused job scheduler with the timing and job it had",
    )
    .argument("<id>", "the scheduler id (see schedulers:list)")
    .option("--json", "print JSON for scripts")
    .addHelpText("after", `\nExamples:\n  bun cli schedulers:${action} price-daily`)
    .action(
      runCommand(async (id: string, opts: { json?: boolean }) => {
        const { listSchedulers, pauseScheduler, resumeScheduler } = await import("../server/queues/schedulers.ts");
        const change = await (pausing ? pauseScheduler(id) : resumeScheduler(id));
        if (change.outcome === "not-found") {
          process.stderr.write(`error: no job scheduler '${id}' (see schedulers:list)\n`);
          return EXIT_FAILURE;
        }
        const scheduler = change.outcome === "done" ? change.scheduler : (await listSchedulers()).find((s) => s.id === id)!;
        if (opts.json) return printJson({ ...schedulerJson(scheduler), changed: change.outcome === "done" });
        print(`${schedulerLine(scheduler)}${change.outcome === "already" ? ` (was already ${pausing ? "paused" : "running"})` : ""}`);
      }),
    );
}
