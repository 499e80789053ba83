// `bun queue [names…]`: discovers the processors in queue/ and runs a BullMQ Worker for each (all of
// them, or the ones named), with their concurrency and limiter, until SIGINT/SIGTERM or --limit.
import { Command, InvalidArgumentError } from "commander";
import { config, describeConfig, describeRedis, exitOnConfigError } from "./server/helpers/config.ts";
import { log } from "./server/helpers/logger.ts";
import { closeRedis, evictionPolicy, redis } from "./server/helpers/redis.ts";
import { withTimeout } from "./server/helpers/timeout.ts";
import { serveMetrics } from "./server/metrics/serve.ts";
import { closeQueues } from "./server/queues/queue.ts";
import { DEFAULT_PROCESSOR_DIR, discoverProcessors, selectProcessors } from "./server/runner/discover.ts";
import { runWorkers } from "./server/runner/run.ts";
import { defaultServices } from "./server/runner/services.ts";

const positive = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("must be a non-negative integer");
  return n;
};

const program = new Command("queue")
  .description("Run the queue workers: all processors in queue/, or only the named ones")
  .argument("[names...]", "processors to run (default: all)")
  .option("--limit <n>", "process n jobs in all, then exit; sooner when nothing is runnable now (only delayed jobs left)", positive)
  .option("--dir <path>", "folder to discover processors in", DEFAULT_PROCESSOR_DIR)
  .option("--summary-interval <seconds>", "seconds between summary log lines (0 = none)", positive, 30)
  .option("--shutdown-timeout <seconds>", "seconds to wait for active jobs on shutdown", positive, 30)
  .option("--no-services", "run only the workers (no outbox relay, reconcile or partition upkeep)")
  .option("--no-schedulers", "do not register the processors' default job schedulers")
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
  .action(async (names: string[], opts) => {
    try {
      config();
    } catch (err) {
      exitOnConfigError(err);
    }
    const logger = log("queue");
    const { modules, ignored } = await discoverProcessors(opts.dir);
    const { selected, unknown } = selectProcessors(modules, names);
    if (unknown.length > 0) {
      process.stderr.write(
        `unknown processor${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")}\nknown: ${[...modules.keys()].join(", ") || "(none)"}\n`,
      );
      process.exit(2);
    }
    if (selected.length === 0) {
      process.stderr.write(`no processors found in ${opts.dir}\n`);
      process.exit(2);
    }
    if (ignored.length) logger.debug({ ignored }, "files without a processor export ignored");
    logger.info({ config: describeConfig() }, "starting");

    try {
      // Redis must answer at start (the shared client would wait for it forever): a supervisor restarts us.
      const policy = await withTimeout(evictionPolicy(redis()), 10_000, "Redis");
      if (policy !== "noeviction") {
        logger.warn({ policy }, "Redis maxmemory-policy is not 'noeviction': Redis may evict jobs under memory pressure");
      }
    } catch (err) {
      process.stderr.write(`cannot reach Redis at ${describeRedis()}: ${(err as Error).message}\n`);
      process.exit(1);
    }

    // Prometheus scrapes this process's job counters, ESI answers and process metrics here (METRICS_PORT).
    const metrics = serveMetrics("queue");
    const running = await runWorkers({
      modules: selected,
      limit: opts.limit,
      summaryIntervalMs: opts.summaryInterval * 1000,
      shutdownTimeoutMs: opts.shutdownTimeout * 1000,
      // The services serve the project's processors; a folder of other processors (tests) runs without them.
      services: opts.services && opts.dir === DEFAULT_PROCESSOR_DIR ? await defaultServices() : [],
      handleSignals: true,
      registerSchedulers: opts.schedulers && config().defaultSchedulers,
    });
    await running.done;
    await metrics?.stop();
    await closeQueues();
    await closeRedis();
    process.exit(0);
  });

await program.parseAsync(process.argv);
