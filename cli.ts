// `bun cli <command>`: operator commands. Each command is one file in cli/ (see cli/_program.ts);
// `bun cli --help` lists them, `bun cli <command> --help` explains one.
import { createProgram, loadCommands } from "./cli/_program.ts";

// A reader that went away (`bun cli queue:failed killmail | head -1`) ends the command quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    throw err;
  });
}

const program = createProgram();
await loadCommands(program);
await program.parseAsync(process.argv);
