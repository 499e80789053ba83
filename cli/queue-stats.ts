// `queue:stats`: every queue's job counts by state and its paused flag, as an aligned table with
// totals or as JSON; `--watch [seconds]` refreshes until CTRL+C.
import type { Command } from "commander";
import { seconds } from "./_args.ts";
import { print, printJson, table } from "./_output.ts";
import { runCommand } from "./_run.ts";

interface Options {
  json?: boolean;
  watch?: number | true;
}

export function register(program: Command): void {
  program
    .command("queue:stats")
    .summary("Job counts of every queue by state, and paused flags")
    .description(
      "Show the jobs of every queue by state (waiting, prioritized, active, delayed, completed, failed, waiting-children) and whether it is paused",
    )
    .option("--json", "print JSON for scripts")
    .option("--watch [seconds]", "refresh every few seconds (default 2) until CTRL+C", seconds)
    .addHelpText(
      "after",
      "\nExamples:\n  bun cli queue:stats\n  bun cli queue:stats --json | jq '.totals.failed'\n  bun cli queue:stats --watch 5",
    )
    .action(
      runCommand(async (opts: Options) => {
        const { getQueueStats, JOB_STATES } = await import("../server/queues/queue.ts");
        const render = async (compact: boolean) => {
          const queues = await getQueueStats();
          const totals = Object.fromEntries(JOB_STATES.map((s) => [s, queues.reduce((sum, q) => sum + q[s], 0)]));
          const at = new Date().toISOString();
          if (opts.json) return printJson({ at, queues, totals }, compact);
          const rows = queues.map((q) => ({ ...q, paused: q.paused ? "PAUSED" : "no" }));
          const body = table(["queue", ...JOB_STATES, "paused"], rows, {
            alignRight: JOB_STATES,
            footer: [{ queue: "total", ...totals, paused: `${queues.filter((q) => q.paused).length} paused` }],
          });
          print(opts.watch ? `${at}\n${body}` : body);
        };

        if (opts.watch === undefined) return render(false);
        await watch(opts.watch === true ? 2 : opts.watch, render, Boolean(opts.json));
      }),
    );
}

/**
 * Renders every `intervalSeconds` until SIGINT/SIGTERM (exit 0). A terminal is cleared between
 * refreshes; elsewhere tables are separated by a blank line and JSON is one document per line.
 */
async function watch(intervalSeconds: number, render: (compact: boolean) => Promise<void>, json: boolean): Promise<void> {
  let stopped = false;
  let wake = () => {};
  const stop = () => {
    if (stopped) process.exit(130); // a second CTRL+C while a refresh hangs
    stopped = true;
    wake();
    // A refresh stuck on a lost connection must not keep the process alive.
    setTimeout(() => process.exit(130), 3_000).unref();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  const clear = process.stdout.isTTY && !json;
  while (!stopped) {
    if (clear) process.stdout.write("\x1b[2J\x1b[H");
    await render(true);
    if (!clear && !json) process.stdout.write("\n");
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, intervalSeconds * 1000);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
