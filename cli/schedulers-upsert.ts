// `schedulers:upsert <id> --cron <pattern> | --every <interval>`: creates a default scheduler (declared in
// the registry) or retimes an existing one; with neither option a default one gets its declared timing.
// The timing is validated by the admin API's schema (a parsable 5-field cron, 1 s to a year).
import type { Command } from "commander";
import { print, printJson } from "./_output.ts";
import { EXIT_FAILURE, runCommand, UsageError } from "./_run.ts";
import { schedulerJson, schedulerLine } from "./_schedulers.ts";

interface Options {
  cron?: string;
  every?: string;
  json?: boolean;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "600000", "600000ms", "30s", "10m", "1h", "1d" → ms. */
function interval(value: string): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(value.trim());
  if (!m) throw new UsageError(`--every '${value}': give whole milliseconds or a number with s, m, h or d (e.g. 10m)`);
  return Number(m[1]) * UNIT_MS[m[2] ?? "ms"]!;
}

export function register(program: Command): void {
  program
    .command("schedulers:upsert")
    .summary("Create or retime a job scheduler (cron pattern or interval)")
    .description("Create a default job scheduler or retime an existing one: a cron pattern (UTC) or an interval")
    .argument("<id>", "the scheduler id (see schedulers:list)")
    .option("--cron <pattern>", "cron pattern, UTC, 5 fields (e.g. '15 11 * * *')")
    .option("--every <interval>", "interval: milliseconds, or with a unit (30s, 10m, 1h, 1d)")
    .option("--json", "print JSON for scripts")
    .addHelpText(
      "after",
      "\nA paused scheduler stays paused with the new timing.\n\nExamples:\n  bun cli schedulers:upsert price-daily --cron '30 11 * * *'\n  bun cli schedulers:upsert backfill-values-flagged --every 30m\n  bun cli schedulers:upsert price-daily",
    )
    .action(
      runCommand(async (id: string, opts: Options) => {
        const { listSchedulers, schedulerExists, schedulerTiming, upsertScheduler } = await import("../server/queues/schedulers.ts");
        let timing: Parameters<typeof upsertScheduler>[1];
        if (opts.cron !== undefined || opts.every !== undefined) {
          const parsed = schedulerTiming.safeParse({ cron: opts.cron, every: opts.every === undefined ? undefined : interval(opts.every) });
          if (!parsed.success) {
            const issue = parsed.error.issues[0]!;
            throw new UsageError(`${issue.path.length ? `--${issue.path.join(".")}: ` : ""}${issue.message}`);
          }
          timing = parsed.data;
        }
        if (!(await schedulerExists(id))) {
          process.stderr.write(`error: no job scheduler '${id}' (declared in the registry or existing; see schedulers:list)\n`);
          return EXIT_FAILURE;
        }
        try {
          await upsertScheduler(id, timing);
        } catch (err) {
          throw new UsageError((err as Error).message); // an existing non-default scheduler needs a timing
        }
        const scheduler = (await listSchedulers()).find((s) => s.id === id)!;
        if (opts.json) return printJson(schedulerJson(scheduler));
        print(schedulerLine(scheduler));
      }),
    );
}
