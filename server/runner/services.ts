// Background services started by `bun queue` beside the workers (when it runs the project's own
// processors; `--no-services` turns them off): the Postgres pool watchdog, kill partitions ahead of the
// newest kill, the outbox relay (fan-out → BullMQ), and reconcile at start-up and every few minutes
// (Postgres' outstanding work that Redis lost is enqueued again). Any number of worker processes, on any
// number of hosts, may run them: reconcile and partition upkeep run in one process per round (a lease
// in Redis, server/runner/rounds.ts; the others log that they skip it); the relay's claims are row locks.
import { ensureKillPartitions } from "../db/partitions.ts";
import { databaseWatchdog } from "../db/watchdog.ts";
import { config } from "../helpers/config.ts";
import { log } from "../helpers/logger.ts";
import { reconcileService } from "../outbox/reconcile.ts";
import { outboxRelayService } from "../outbox/relay.ts";
import { runRound } from "./rounds.ts";
import type { RunnerService } from "./run.ts";

/** How often kill partitions are checked: a worker that runs for months keeps creating the next ones. */
const PARTITIONS_EVERY_MS = 60 * 60_000;

function partitionsService(): RunnerService {
  const logger = log("db");
  let timer: ReturnType<typeof setInterval> | undefined;
  const once = async () => {
    try {
      // One process per round (the SQL function is safe under concurrency anyway: it takes an advisory lock).
      await runRound("partitions", { maxRunMs: 5 * 60_000, holdMs: PARTITIONS_EVERY_MS * 0.9, logger }, async () => {
        const created = await ensureKillPartitions();
        if (created > 0) logger.info({ created }, "created kill partitions ahead of the newest kill");
      });
    } catch (err) {
      logger.error({ err: (err as Error).message }, "kill partition upkeep failed; trying again later");
    }
  };
  return {
    name: "partitions",
    async start() {
      await once();
      timer = setInterval(() => void once(), PARTITIONS_EVERY_MS);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}

export async function defaultServices(): Promise<RunnerService[]> {
  return [databaseWatchdog(), partitionsService(), outboxRelayService(), reconcileService(config().reconcileIntervalMs)];
}
