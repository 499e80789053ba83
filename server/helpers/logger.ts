// Structured logging (pino) to stderr, so stdout stays clean for CLI output and --json: JSON lines for
// machines (containers, files, pipes), pretty lines for a person at a terminal (LOG_FORMAT=auto, the
// default, picks by whether stderr is a terminal). Every line names its process: host and pid.
// Secrets never reach the log: URLs are redacted by describeConfig(), known secret fields by pino.
import { hostname } from "node:os";
import pino, { type DestinationStream, type Logger } from "pino";
import pretty from "pino-pretty";
import { config } from "./config.ts";

/** Field names whose values never reach a log line. */
export const SECRET_FIELDS = [
  "password",
  "token",
  "adminToken",
  "secret",
  "accessToken",
  "refreshToken",
  "access_token",
  "refresh_token",
  "code",
  "codeVerifier",
  "code_verifier",
  "authorization",
];

let root: Logger | undefined;

/** Where the lines go: pretty when asked for, or at a terminal with LOG_FORMAT=auto. */
function destination(): DestinationStream {
  const format = config().logFormat;
  if (format === "pretty" || (format === "auto" && process.stderr.isTTY)) {
    return pretty({
      destination: 2,
      sync: true,
      colorize: process.stderr.isTTY === true,
      translateTime: "SYS:HH:MM:ss.l",
      ignore: "pid,hostname",
    });
  }
  return pino.destination({ dest: 2, sync: true });
}

export function logger(): Logger {
  root ??= pino(
    {
      level: config().logLevel,
      base: { pid: process.pid, hostname: hostname() },
      // Secrets by name, at the top or one level down: passwords, the admin token, SSO tokens and codes.
      redact: { paths: SECRET_FIELDS.flatMap((f) => [f, `*.${f}`]).concat("headers.authorization", "headers.cookie"), censor: "***" },
    },
    destination(),
  );
  return root;
}

/** A child logger for one component (e.g. `queue`, `esi`, `cli`). */
export function log(component: string): Logger {
  return logger().child({ component });
}
