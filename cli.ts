// `bun cli <command>`: operator commands. Each command is one file in cli/ (see cli/_program.ts);
// `bun cli --help` lists them, `bun cli <command> --help` explains one.
import { createProgram, loadCommands } from "./cli/_program.ts";

const program = createProgram();
await loadCommands(program);
await program.parseAsync(process.argv);
