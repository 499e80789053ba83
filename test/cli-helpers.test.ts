// The CLI's building blocks, in process: command discovery (a new file in the folder is a new
// command; `_` helpers are not loaded), the aligned table, and the progress reporter on a terminal
// and on a pipe.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { Command } from "commander";
import { afterAll, describe, expect, it } from "vitest";
import { table } from "../cli/_output.ts";
import { commandFiles, loadCommands } from "../cli/_program.ts";
import { createProgress } from "../cli/_progress.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function folder(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "cli-commands-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

describe("command discovery", () => {
  it("registers every command file; skips tests, declarations and _helpers", async () => {
    const dir = await folder({
      "greet.ts": `export function register(program) {
        program.command("greet").argument("<name>").action((name) => { globalThis.greeted = name; });
      }`,
      "zeta-report.ts": `export function register(program) { program.command("zeta:report"); }`,
      "_shared.ts": `throw new Error("helpers must not be loaded as commands");`,
      "greet.test.ts": `throw new Error("tests must not be loaded");`,
      "types.d.ts": `export {};`,
      "notes.md": "not code",
    });
    expect(await commandFiles(dir)).toEqual(["greet.ts", "zeta-report.ts"]);
    const program = new Command("cli").exitOverride();
    await loadCommands(program, dir);
    expect(program.commands.map((c) => c.name())).toEqual(["greet", "zeta:report"]);
    await program.parseAsync(["greet", "Oveur"], { from: "user" });
    expect((globalThis as { greeted?: string }).greeted).toBe("Oveur");
  });

  it("names a command file that does not export register()", async () => {
    const dir = await folder({ "oops.ts": "export const nothing = 1;" });
    await expect(loadCommands(new Command("cli"), dir)).rejects.toThrow(/oops\.ts does not export register\(program\)/);
  });

  it("finds the project's queue commands", async () => {
    expect(await commandFiles()).toEqual(
      expect.arrayContaining([
        "queue-add.ts",
        "queue-clear.ts",
        "queue-failed.ts",
        "queue-pause.ts",
        "queue-resume.ts",
        "queue-retry.ts",
        "schedulers-list.ts",
        "queue-stats.ts",
      ]),
    );
  });
});

describe("table", () => {
  it("aligns text left and numbers right, with a footer under a rule", () => {
    const out = table(
      ["queue", "failed", "paused"],
      [
        { queue: "killmail", failed: 12, paused: false },
        { queue: "type", failed: 3, paused: true },
      ],
      { footer: [{ queue: "total", failed: 15, paused: "1 paused" }] },
    );
    expect(out).toBe(
      [
        "queue     failed  paused",
        "killmail      12  no",
        "type           3  yes",
        "--------  ------  --------",
        "total         15  1 paused",
        "",
      ].join("\n"),
    );
  });

  it("keeps each row on one line", () => {
    expect(table(["id", "reason"], [{ id: "a", reason: "first line\n  at stack" }])).toBe("id  reason\na   first line at stack\n");
  });
});

describe("progress", () => {
  function capture(isTTY: boolean): PassThrough & { isTTY: boolean; columns: number; text(): string } {
    const stream = Object.assign(new PassThrough(), { isTTY, columns: 100 });
    let text = "";
    stream.on("data", (d: Buffer) => (text += d.toString()));
    return Object.assign(stream, { text: () => text });
  }

  it("writes periodic lines when the stream is not a terminal", async () => {
    const stream = capture(false);
    const every = await createProgress({ label: "killmails", total: 4, stream, intervalMs: 0 });
    every.increment();
    every.increment(2);
    every.update(4);
    every.stop();
    const lines = stream.text().trimEnd().split("\n");
    expect(lines.map((l) => l.replace(/, \d+\/s$/, ""))).toEqual([
      "killmails: 1/4 (25%)",
      "killmails: 3/4 (75%)",
      "killmails: 4/4 (100%)",
      "killmails: 4/4 (100%)",
    ]);

    const quiet = capture(false);
    const sparse = await createProgress({ label: "values", total: 0, stream: quiet, intervalMs: 3_600_000 });
    for (let i = 0; i < 1000; i++) sparse.increment();
    sparse.stop();
    sparse.stop();
    expect(quiet.text()).toMatch(/^values: 1000, \d+\/s\n$/);
  });

  it("draws a bar on a terminal", async () => {
    const stream = capture(true);
    const bar = await createProgress({ label: "import", total: 3, stream });
    bar.increment(3);
    bar.stop();
    expect(stream.text()).toMatch(/import \[[█░]+\] 100% \| 3\/3 \| \d+\/s/);
  });
});
