// `listen:r2z2`: follows zKillboard's live R2Z2 feed into the pipeline (kills with their ESI bodies,
// the live tier), resuming from the cursor saved in Postgres; CTRL+C stops after the current batch.
import type { Command } from "commander";
import { integer } from "./_args.ts";
import { print, printJson } from "./_output.ts";
import { onCleanup, runCommand, stopOnSignals } from "./_run.ts";

interface Options {
  from?: number;
  once?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("listen:r2z2")
    .summary("Follow the zKillboard R2Z2 live feed")
    .description("Follow zKillboard's R2Z2 feed: every new kill (with its ESI body) goes to the killmail queue at the live tier")
    .option("--from <sequence>", "start after this sequence number instead of the saved cursor", integer(0))
    .option("--once", "catch up to the head, then exit")
    .option("--json", "print the final counts as JSON")
    .addHelpText(
      "after",
      "\nThe cursor lives in Postgres (table cursors, name 'r2z2'): restarts resume without gaps or\n" +
        "duplicates. With no cursor the listener starts at the current head. A number R2Z2 skips (404 behind\n" +
        "its head, or a file that does not decode) is asked again with backoff, and filled from the daily\n" +
        "history after R2Z2_GAP_RETRY_MINUTES. Outages of R2Z2, Postgres or Redis are waited out.\n\n" +
        "Examples:\n  bun cli listen:r2z2\n  bun cli listen:r2z2 --from 100000000 --once",
    )
    .action(
      runCommand(async (opts: Options) => {
        const [{ listenR2z2 }, { closeDb }, { requireEsiUserAgent }, { log }, { serveMetrics }] = await Promise.all([
          import("../server/feeds/r2z2-listener.ts"),
          import("../server/db/client.ts"),
          import("../server/helpers/config.ts"),
          import("../server/helpers/logger.ts"),
          import("../server/metrics/serve.ts"),
        ]);
        requireEsiUserAgent();
        onCleanup(closeDb);
        // cursor, lag, last success, process metrics for Prometheus (METRICS_PORT; 0: off)
        const metrics = serveMetrics("listener");
        if (metrics) onCleanup(() => metrics.stop());
        const logger = log("r2z2");
        let lastLog = 0;
        const listener = listenR2z2({
          from: opts.from,
          once: opts.once,
          onBatch: (s) => {
            if (Date.now() - lastLog < 10_000 && !s.caughtUp) return;
            lastLog = Date.now();
            logger.info(s, "feed position");
          },
        });
        stopOnSignals(() => listener.stop());
        const stats = await listener.done;
        if (opts.json) return printJson(stats);
        print(
          `r2z2: at sequence ${stats.sequence}; ${stats.kills} kills read, ${stats.enqueued} enqueued; gaps: ${stats.gaps} open, ${stats.gapsRecovered} answered later, ${stats.gapsFilled} filled from history`,
        );
      }),
    );
}
