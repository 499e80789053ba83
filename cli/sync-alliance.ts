// `sync:alliance <id> [maxPages]`: a alliance's kills and losses from the zKillboard API (see _sync.ts).
import type { Command } from "commander";
import { registerSyncCommand } from "./_sync.ts";

export function register(program: Command): void {
  registerSyncCommand(program, "alliance");
}
