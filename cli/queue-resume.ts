// `queue:resume <queue>|--all`: workers take the queue's jobs again after `queue:pause`.
import type { Command } from "commander";
import { registerPauseCommand } from "./_pause.ts";

export function register(program: Command): void {
  registerPauseCommand(program, "resume");
}
