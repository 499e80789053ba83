// How every CLI command runs: validates the configuration (exit 2), checks Redis answers (exit 1, one
// line), runs the action, then closes queues, Redis and anything registered with onCleanup(), flushes
// stdout and exits with the command's code. Errors map to exit codes: usage 2, runtime 1, success 0.
// Heavy modules (BullMQ, ioredis) are imported lazily so `bun cli --help` stays fast.
import { ConfigError, config } from "../server/helpers/config.ts";
import { onStopSignals } from "../server/helpers/signals.ts";
import { QUEUE_NAMES } from "../server/queues/registry.ts";

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A mistake in the command line (unknown queue, bad JSON, missing flag, invalid payload): exit 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The line that ends every usage error: what a queue argument may be. */
export function queueListLine(): string {
  return `queues: ${QUEUE_NAMES.join(", ")}`;
}

/**
 * A graceful stop on SIGINT/SIGTERM for long-running commands: the first signal calls `stop` and gives
 * it `graceMs` (a Redis or Postgres that is gone can hang the wait), then exits 1; a second exits 130.
 */
export function stopOnSignals(stop: () => void, graceMs = 20_000): void {
  onStopSignals(
    () => {
      stop();
      setTimeout(() => {
        process.stderr.write("did not stop in time: exiting\n");
        process.exit(1);
      }, graceMs).unref();
    },
    () => process.exit(130),
  );
}

type Cleanup = () => Promise<unknown> | unknown;
const cleanups: Cleanup[] = [];

/** Registers something to close when the command ends (a Postgres pool, a file, …); run last-in first-out. */
export function onCleanup(fn: Cleanup): void {
  cleanups.push(fn);
}

export interface RunOptions {
  /** Check Redis is reachable before the action (default true). */
  redis?: boolean;
}

/**
 * Wraps a commander action. The action returns an exit code (default 0) or throws: UsageError and
 * InvalidPayloadError → 2 with the message and queue list; ConfigError → 2; anything else → 1 with
 * one line (the stack only when LOG_LEVEL is debug or trace).
 */
export function runCommand<A extends unknown[]>(
  // biome-ignore lint/suspicious/noConfusingVoidType: an action returns its exit code, or nothing for 0
  action: (...args: A) => Promise<number | void>,
  opts: RunOptions = {},
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    let code: number;
    try {
      config();
      if (opts.redis !== false) await checkRedis();
      code = (await action(...args)) ?? EXIT_OK;
    } catch (err) {
      code = report(err);
    }
    await cleanup();
    await flush();
    process.exit(code);
  };
}

function report(err: unknown): number {
  if (err instanceof ConfigError) {
    process.stderr.write(`configuration error: ${err.message}\n`);
    return EXIT_USAGE;
  }
  if (err instanceof UsageError || (err instanceof Error && err.name === "InvalidPayloadError")) {
    process.stderr.write(`error: ${err.message}\n${queueListLine()}\n`);
    return EXIT_USAGE;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`error: ${message.split("\n")[0]}\n`);
  if (err instanceof Error && err.stack && verbose()) {
    process.stderr.write(`${err.stack}\n`);
  }
  return EXIT_FAILURE;
}

/** Whether LOG_LEVEL asks for stacks (debug or trace); false when the configuration itself is bad. */
function verbose(): boolean {
  try {
    return ["debug", "trace"].includes(config().logLevel);
  } catch {
    return false;
  }
}

/** Fails with one clear line when Redis does not answer (the shared client would retry forever). */
async function checkRedis(): Promise<void> {
  const [{ describeRedis }, { createRedis, roundTrip }] = await Promise.all([
    import("../server/helpers/config.ts"),
    import("../server/helpers/redis.ts"),
  ]);
  const client = createRedis({
    lazyConnect: true,
    connectTimeout: 3_000,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  let cause: Error | undefined; // the socket error says more than "Connection is closed"
  client.on("error", (err: Error) => (cause ??= err));
  try {
    await client.connect();
    await roundTrip(client, 5_000);
  } catch (err) {
    throw new Error(`cannot reach Redis at ${describeRedis()}: ${(cause ?? (err as Error)).message}`);
  } finally {
    client.disconnect();
  }
}

/** Closes everything; gives up after a few seconds (a lost connection must not hang the exit). */
async function cleanup(): Promise<void> {
  const closing = (async () => {
    const [{ closeQueues }, { closeRedis }] = await Promise.all([
      import("../server/queues/queue.ts"),
      import("../server/helpers/redis.ts"),
    ]);
    for (const fn of cleanups.splice(0).reverse()) {
      await Promise.resolve()
        .then(fn)
        .catch(() => {});
    }
    await closeQueues().catch(() => {});
    await closeRedis().catch(() => {});
  })();
  await Promise.race([closing, new Promise((r) => setTimeout(r, 5_000).unref())]);
}

/** Resolves once everything written to stdout and stderr so far has been handed to the OS. */
function flush(): Promise<void> {
  const drained = (stream: NodeJS.WriteStream) => new Promise<void>((r) => stream.write("", () => r()));
  return Promise.all([drained(process.stdout), drained(process.stderr)]).then(() => undefined);
}
