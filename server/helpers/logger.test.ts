// Log lines as the processes write them: JSON with host and pid for machines, readable lines for a
// person (LOG_FORMAT=pretty, or auto at a terminal), secrets redacted in both.
import { hostname } from "node:os";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const SCRIPT = `import { log } from "./server/helpers/logger.ts"; log("demo").warn({ token: "s3cret-token", queue: "killmail" }, "a job failed");`;

function logLine(format: string): string {
  const result = Bun.spawnSync([process.execPath, "-e", SCRIPT], {
    cwd: ROOT,
    env: { ...process.env, LOG_FORMAT: format, LOG_LEVEL: "info" },
  });
  expect(result.exitCode).toBe(0);
  return result.stderr.toString();
}

describe("logger", () => {
  it("writes one JSON object a line, naming host, pid and component, with secrets redacted", () => {
    const line = JSON.parse(logLine("json").trim()) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 40,
      hostname: hostname(),
      component: "demo",
      queue: "killmail",
      msg: "a job failed",
      token: "***",
    });
    expect(typeof line.pid).toBe("number");
  });

  it("writes readable lines for a person when asked", () => {
    const text = logLine("pretty");
    expect(() => JSON.parse(text)).toThrow();
    expect(text).toContain("WARN");
    expect(text).toContain("a job failed");
    expect(text).not.toContain("s3cret-token");
  });
});
