// `health`: a health check for containers and scripts. Exit 0 when the configuration is valid, Redis
// answers (a SET/GET round trip on every master, each with maxmemory-policy noeviction) and, as asked, PostgreSQL answers and each named queue
// has at least one worker connected; exit 1 naming every problem otherwise.
import type { Command } from "commander";
import type { QueueName } from "../server/queues/registry.ts";
import { parseQueueName } from "./_args.ts";
import { print, printJson } from "./_output.ts";
import { EXIT_FAILURE, runCommand } from "./_run.ts";

interface Options {
  database?: boolean;
  workers?: QueueName[];
  json?: boolean;
}

interface Check {
  check: string;
  ok: boolean;
  detail: string;
}

export function register(program: Command): void {
  program
    .command("health")
    .summary("Check Redis, optionally PostgreSQL and connected workers (exit 0 healthy, 1 not)")
    .description(
      "Check that Redis answers with maxmemory-policy noeviction, and optionally that PostgreSQL answers\n" +
        "and that each named queue has at least one worker connected. Exit 0 when all pass, 1 otherwise.",
    )
    .option("--database", "also check PostgreSQL (DATABASE_URL)")
    .option("--workers <queues...>", "require at least one connected worker on each of these queues", collectQueues, [])
    .option("--json", "print JSON for scripts")
    .addHelpText(
      "after",
      "\nExamples (docker-compose health checks):\n  bun cli health --workers killmail\n  bun cli health --database --json",
    )
    .action(
      runCommand(
        async (opts: Options) => {
          const checks: Check[] = [await redisCheck()];
          if (opts.database) checks.push(await databaseCheck());
          for (const queue of opts.workers ?? []) checks.push(await workersCheck(queue));
          const ok = checks.every((c) => c.ok);
          if (opts.json) printJson({ ok, checks });
          else for (const c of checks) print(`${c.ok ? "ok  " : "FAIL"} ${c.check}: ${c.detail}`);
          return ok ? undefined : EXIT_FAILURE;
        },
        { redis: false },
      ),
    );
}

function collectQueues(value: string, previous: QueueName[]): QueueName[] {
  return [...previous, parseQueueName(value)];
}

async function redisCheck(): Promise<Check> {
  const [{ describeRedis }, { createRedis, evictionPolicy, roundTrip }, { withTimeout }] = await Promise.all([
    import("../server/helpers/config.ts"),
    import("../server/helpers/redis.ts"),
    import("../server/helpers/timeout.ts"),
  ]);
  const where = describeRedis();
  // A connection of its own that gives up (the shared one retries forever), and a bound of 3 s per step.
  const client = createRedis({ connectTimeout: 3_000, maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on("error", () => {}); // the check's answer says it
  try {
    // A real command on every master: a connection can answer PING while every other command fails.
    const masters = await roundTrip(client, 3_000);
    const policy = await withTimeout(evictionPolicy(client), 3_000, "Redis");
    const nodes = masters > 1 ? `${masters} masters answer, ` : "";
    return {
      check: "redis",
      ok: policy === "noeviction",
      detail: `${where}, ${nodes}maxmemory-policy ${policy}${policy === "noeviction" ? "" : " (BullMQ needs noeviction)"}`,
    };
  } catch (err) {
    return { check: "redis", ok: false, detail: `${where}: ${(err as Error).message}` };
  } finally {
    client.disconnect();
  }
}

async function databaseCheck(): Promise<Check> {
  const [{ config, redactUrl }, { default: postgres }] = await Promise.all([import("../server/helpers/config.ts"), import("postgres")]);
  const url = config().databaseUrl;
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    const [row] = await sql<{ version: string }[]>`select current_setting('server_version') as version`;
    return { check: "postgres", ok: true, detail: `${redactUrl(url)}, version ${row!.version}` };
  } catch (err) {
    return { check: "postgres", ok: false, detail: `${redactUrl(url)}: ${(err as Error).message}` };
  } finally {
    await sql.end({ timeout: 1 });
  }
}

async function workersCheck(queue: QueueName): Promise<Check> {
  const [{ getQueue }, { withTimeout }] = await Promise.all([import("../server/queues/queue.ts"), import("../server/helpers/timeout.ts")]);
  try {
    const count = await withTimeout(getQueue(queue).getWorkersCount(), 3_000, "Redis");
    return { check: `workers ${queue}`, ok: count > 0, detail: `${count} connected` };
  } catch (err) {
    return { check: `workers ${queue}`, ok: false, detail: (err as Error).message };
  }
}
