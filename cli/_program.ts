// The commander program behind `bun cli` and the discovery of its commands: every cli/*.ts file that
// is not a test and not `_`-prefixed exports `register(program)` and adds one command. Adding a
// command is adding a file. Usage errors (commander's own or ours) exit 2 with the list of queues.
import { readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Command, type CommanderError } from "commander";
import { EXIT_OK, EXIT_USAGE, queueListLine } from "./_run.ts";

export const COMMANDS_DIR = resolve(import.meta.dirname);

/** What a command file exports. */
export interface CommandModule {
  register(program: Command): void;
}

function isCommandModule(mod: unknown): mod is CommandModule {
  return typeof mod === "object" && mod !== null && typeof (mod as Record<string, unknown>).register === "function";
}

/** Help and version exit 0; every other commander error (already printed) exits 2. */
function onCommanderExit(err: CommanderError): never {
  if (err.exitCode === 0) process.exit(EXIT_OK);
  // `bun cli` alone prints the help as an error; other errors get the queue list as a hint.
  if (err.code !== "commander.help" && err.code !== "commander.unknownCommand") process.stderr.write(`${queueListLine()}\n`);
  process.exit(EXIT_USAGE);
}

export function createProgram(): Command {
  return new Command("cli")
    .description(
      "Operator commands of the killboard core (queues, imports, maintenance).\n" +
        "Exit codes: 0 success, 1 runtime failure (e.g. Redis unreachable), 2 usage or configuration error.",
    )
    .usage("<command> [options]")
    .configureHelp({ sortSubcommands: true, showGlobalOptions: false })
    .showSuggestionAfterError(true)
    .exitOverride(onCommanderExit);
}

/** The command files of a folder, sorted: *.ts, not tests, not declarations, not `_`-prefixed helpers. */
export async function commandFiles(dir: string = COMMANDS_DIR): Promise<string[]> {
  return (await readdir(dir))
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.endsWith(".d.ts") && !f.startsWith("_"))
    .sort();
}

/** Imports every command file of `dir` and lets it register its command; a file without register() is a bug. */
export async function loadCommands(program: Command, dir: string = COMMANDS_DIR): Promise<void> {
  for (const file of await commandFiles(dir)) {
    const mod: unknown = await import(join(dir, file));
    if (!isCommandModule(mod)) throw new Error(`${join(dir, file)} does not export register(program)`);
    mod.register(program);
  }
}
