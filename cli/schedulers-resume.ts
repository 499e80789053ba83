// `schedulers:resume <id>`: re-creates a paused job scheduler with the timing and job it had.
import type { Command } from "commander";
import { registerSchedulerToggle } from "./_schedulers.ts";

export function register(program: Command): void {
  registerSchedulerToggle(program, "resume");
}
