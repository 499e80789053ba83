// `listen:r2z2`: follows zKillboard's live R2Z2 feed into the pipeline (kills with their ESI bodies,
// the live tier), resuming from the cursor saved in Postgres; CTRL+C stops after the current batch.
// Any number of them may run (hosts, replicas): one is active, under a fenced lease, the others stand by
// and take over within seconds when it dies (server/feeds/leadership.ts).
import type { Command } from "commander";
import { integer } from "./_args.ts";
import { print, printJson } from "./_output.ts";
import { EXIT_FAILURE, onCleanup, runCommand, stopOnSignals } from "./_run.ts";

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
        "Run as many as you like: one is active (a lease in Redis with a fencing token the cursor checks), the\n" +
        "others stand by and take over within seconds when it dies. With --once, a run that finds another\n" +
        "listener active for longer than the lease's lifetime exits with code 1.\n\n" +
        "Examples:\n  bun cli listen:r2z2\n  bun cli listen:r2z2 --from 100000000 --once",
    )
    .action(
      runCommand(async (opts: Options) => {
        const [{ listenR2z2, R2Z2_CURSOR }, { lead, LEASE_TTL_MS }, { closeDb }, { requireEsiUserAgent }, { log }, { serveMetrics }] =
          await Promise.all([
            import("../server/feeds/r2z2-listener.ts"),
            import("../server/feeds/leadership.ts"),
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
        let started = 0;
        const leadership = lead({
          lease: "r2z2-listener",
          cursor: R2Z2_CURSOR,
          logger,
          // A one-shot run waits out a previous holder that died (its lease expiring), not a live listener.
          maxStandbyMs: opts.once ? LEASE_TTL_MS + 2_000 : undefined,
          start: (fence) =>
            listenR2z2({
              // A replay starts once: after a lost lease is taken back, the listener goes on from the cursor.
              from: started++ === 0 ? opts.from : undefined,
              once: opts.once,
              fence,
              onBatch: (s) => {
                if (Date.now() - lastLog < 10_000 && !s.caughtUp) return;
                lastLog = Date.now();
                logger.info(s, "feed position");
              },
            }),
        });
        let signalled = false;
        stopOnSignals(() => {
          signalled = true;
          leadership.stop();
        });
        const stats = await leadership.done;
        if (!stats) {
          // Stopped while standing by: a clean stop; a one-shot run that never got the lease: a failure.
          if (signalled) return;
          process.stderr.write("error: another listener is active (see the log); nothing read\n");
          return EXIT_FAILURE;
        }
        if (opts.json) return printJson(stats);
        print(
          `r2z2: at sequence ${stats.sequence}; ${stats.kills} kills read, ${stats.enqueued} enqueued; gaps: ${stats.gaps} open, ${stats.gapsRecovered} answered later, ${stats.gapsFilled} filled from history`,
        );
      }),
    );
}
