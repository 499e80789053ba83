// Every variable the README's Configuration table documents is read through the validated config, and
// a garbage value of any of them makes `bun queue`, `bun server` and `bun cli` exit 2 with a message
// naming it (and never showing a secret). The table and the schema must list the same variables.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { CONFIG_VARIABLES, ConfigError, parseConfig } from "../server/helpers/config.ts";
import { QUEUE_NAMES } from "../server/queues/registry.ts";
import { ROOT, run } from "./support/spawn.ts";

/** The variable names of the README's Configuration table, in order. */
function documentedVariables(): string[] {
  const readme = readFileSync(resolve(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("\n## ", readme.indexOf("## Configuration") + 1));
  return [...section.matchAll(/^\|\s*`([A-Z0-9_<>]+)`\s*\|/gm)].map((m) => m[1]!);
}

const PER_QUEUE = /^QUEUE_<NAME>_([A-Z_]+)$/;
const documented = documentedVariables();
/** A concrete variable for each documented one (QUEUE_<NAME>_X for a real queue). */
const variables = documented.map((v) => v.replace("<NAME>", "KILLMAIL"));

/** A value each variable must refuse. */
const GARBAGE: Record<string, string> = {
  // Any printable text may name an app: a control character may not (it goes into an HTTP header).
  ESI_USER_AGENT: "my board\nadmin@example.com",
};
const garbage = (variable: string) => GARBAGE[variable] ?? "%%garbage%%";

const ENTRIES: { name: string; entry: string; args: string[] }[] = [
  { name: "bun queue", entry: "queue.ts", args: [] },
  { name: "bun server", entry: "server/index.ts", args: [] },
  { name: "bun cli", entry: "cli.ts", args: ["health"] },
];

/** Runs `count` at a time. */
async function inBatches<T, R>(items: T[], count: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += count) out.push(...(await Promise.all(items.slice(i, i + count).map((x, j) => fn(x, i + j)))));
  return out;
}

describe("the documented configuration", () => {
  it("is exactly what the configuration schema reads", () => {
    expect(documented.length).toBeGreaterThan(30);
    const plain = documented.filter((v) => !PER_QUEUE.test(v));
    expect([...plain].sort()).toEqual([...CONFIG_VARIABLES].sort());
    expect(documented.filter((v) => PER_QUEUE.test(v))).toEqual([
      "QUEUE_<NAME>_CONCURRENCY",
      "QUEUE_<NAME>_RATE",
      "QUEUE_<NAME>_LOCK_SECONDS",
    ]);
  });

  it("refuses a garbage value of every variable, naming it", () => {
    for (const variable of variables) {
      let error: unknown;
      try {
        parseConfig({ [variable]: garbage(variable) });
      } catch (err) {
        error = err;
      }
      expect(error, variable).toBeInstanceOf(ConfigError);
      expect((error as Error).message, variable).toMatch(new RegExp(`^invalid ${variable}=`));
    }
    for (const queue of QUEUE_NAMES) {
      expect(() => parseConfig({ [`QUEUE_${queue.toUpperCase()}_CONCURRENCY`]: "0" })).toThrow(ConfigError);
    }
  });

  it("makes every entry exit 2 naming the variable, for every documented variable", async () => {
    const results = await inBatches(variables, 4, async (variable, i) => {
      const { name, entry, args } = ENTRIES[i % ENTRIES.length]!;
      const result = await run(entry, args, { LOG_LEVEL: "warn", [variable]: garbage(variable) });
      return { variable, name, code: result.code, stderr: result.stderr };
    });
    for (const r of results) {
      expect(r.code, `${r.variable} under ${r.name}: ${r.stderr}`).toBe(2);
      expect(r.stderr, `${r.variable} under ${r.name}`).toContain(`configuration error: invalid ${r.variable}=`);
    }
    // Each entry was tried with about a third of the table.
    expect(new Set(results.map((r) => r.name)).size).toBe(3);
  }, 120_000);

  it.each([
    ["bun queue", "queue.ts", [], { KILLMAIL_BATCH_SIZE: "abc" }, "KILLMAIL_BATCH_SIZE"],
    ["bun queue", "queue.ts", [], { KILLMAIL_BATCH_SIZE: "500" }, "KILLMAIL_BATCH_SIZE"],
    ["bun queue", "queue.ts", [], { RECONCILE_INTERVAL_MS: "5m" }, "RECONCILE_INTERVAL_MS"],
    ["bun server", "server/index.ts", [], { PORT: "99999" }, "PORT"],
    ["bun queue", "queue.ts", [], { METRICS_PORT: "9464x" }, "METRICS_PORT"],
    ["bun cli listen:r2z2", "cli.ts", ["listen:r2z2", "--once"], { METRICS_PORT: "-1" }, "METRICS_PORT"],
    ["bun queue", "queue.ts", [], { QUEUE_KILLMAIL_CONCURRENCY: "-1" }, "QUEUE_KILLMAIL_CONCURRENCY"],
    ["bun cli", "cli.ts", ["health"], { QUEUE_NOPE_RATE: "3" }, "QUEUE_NOPE_RATE"],
  ] as const)("%s with %o exits 2 naming %s", async (_, entry, args, env, variable) => {
    const result = await run(entry, [...args], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`invalid ${variable}=`);
  });

  it("never shows a password, even in a URL that does not parse", async () => {
    for (const url of ["postgres://user:secret@host:99999/db", "postgres://user:secret@ho st/db", "mysql://user:secret@host/db"]) {
      const result = await run("cli.ts", ["health"], { DATABASE_URL: url });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("DATABASE_URL");
      expect(result.stderr).not.toContain("secret");
    }
    const token = await run("server/index.ts", [], { ADMIN_TOKEN: "short-secret" });
    expect(token.code).toBe(2);
    expect(token.stderr).toContain("ADMIN_TOKEN");
    expect(token.stderr).not.toContain("short-secret");
  });
});
