// `queue:pause <queue>|--all`: workers stop taking the queue's jobs until `queue:resume`.
import type { Command } from "commander";
import { registerPauseCommand } from "./_pause.ts";

export function register(program: Command): void {
  registerPauseCommand(program, "pause");
}
