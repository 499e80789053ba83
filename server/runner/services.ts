// Background services started by `bun queue` beside the workers (when it runs the project's own
// processors; `--no-services` turns them off): the Postgres pool watchdog, kill partitions ahead of the
// newest kill, the outbox relay (fan-out → BullMQ), and reconcile at start-up and every few minutes
// (Postgres' outstanding work that Redis lost is enqueued again). Several worker processes may run
// them at once safely.
import { ensureKillPartitions } from "../db/partitions.ts";
import { databaseWatchdog } from "../db/watchdog.ts";
import { config } from "../helpers/config.ts";
import { log } from "../helpers/logger.ts";
import { reconcileService } from "../outbox/reconcile.ts";
import { outboxRelayService } from "../outbox/relay.ts";
import type { RunnerService } from "./run.ts";

function partitionsService(): RunnerService {
  return {
    name: "partitions",
    async start() {
      const created = await ensureKillPartitions();
      if (created > 0) log("db").info({ created }, "created kill partitions ahead of the newest kill");
    },
    stop() {},
  };
}

export async function defaultServices(): Promise<RunnerService[]> {
  return [databaseWatchdog(), partitionsService(), outboxRelayService(), reconcileService(config().reconcileIntervalMs)];
}
