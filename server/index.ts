// `bun server`: serves the HTTP API on PORT until SIGINT/SIGTERM.

import { createApp } from "./app.ts";
import { closeDb } from "./db/client.ts";
import { serverDeps } from "./deps.ts";
import { config, describeConfig, exitOnConfigError } from "./helpers/config.ts";
import { log } from "./helpers/logger.ts";
import { closeRedis } from "./helpers/redis.ts";
import { onStopSignals } from "./helpers/signals.ts";
import { closeQueues } from "./queues/queue.ts";

try {
  config();
} catch (err) {
  exitOnConfigError(err);
}
const logger = log("http");
const app = createApp(serverDeps());
const server = Bun.serve({ port: config().port, hostname: config().host, fetch: app.fetch });
logger.info({ url: `http://${server.hostname}:${server.port}`, config: describeConfig() }, "server listening");
process.stdout.write(`server listening on http://127.0.0.1:${server.port}\n`);

async function shutdown(signal: string) {
  logger.info({ signal }, "stopping server");
  // Closing a connection to a Redis or Postgres that is gone can hang: the first signal still ends the process.
  setTimeout(() => process.exit(1), 10_000).unref();
  await server.stop();
  await Promise.allSettled([closeQueues(), closeRedis(), closeDb()]);
  process.exit(0);
}
onStopSignals(
  (signal) => void shutdown(signal),
  () => process.exit(130),
);
