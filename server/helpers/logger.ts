// Structured logging (pino) to stderr, so stdout stays clean for CLI output and --json.
// Secrets never reach the log: URLs are redacted by describeConfig(), known secret fields by pino.
import pino, { type Logger } from "pino";
import { config } from "./config.ts";

let root: Logger | undefined;

export function logger(): Logger {
  root ??= pino(
    {
      level: config().logLevel,
      base: { pid: process.pid },
      redact: { paths: ["password", "token", "adminToken", "*.password", "*.token", "headers.authorization"], censor: "***" },
    },
    pino.destination({ dest: 2, sync: true }),
  );
  return root;
}

/** A child logger for one component (e.g. `queue`, `esi`, `cli`). */
export function log(component: string): Logger {
  return logger().child({ component });
}
