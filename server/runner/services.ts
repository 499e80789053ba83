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

/** How often kill partitions are checked: a worker that runs for months keeps creating the next ones. */
const PARTITIONS_EVERY_MS = 60 * 60_000;

function partitionsService(): RunnerService {
  let timer: ReturnType<typeof setInterval> | undefined;
  const once = async () => {
    try {
      const created = await ensureKillPartitions();
      if (created > 0) log("db").info({ created }, "created kill partitions ahead of the newest kill");
    } catch (err) {
      log("db").error({ err: (err as Error).message }, "kill partition upkeep failed; trying again later");
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
