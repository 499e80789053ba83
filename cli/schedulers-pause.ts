// `schedulers:pause <id>`: stops a job scheduler until schedulers:resume (kept off across `bun queue` restarts).
import type { Command } from "commander";
import { registerSchedulerToggle } from "./_schedulers.ts";

export function register(program: Command): void {
  registerSchedulerToggle(program, "pause");
}
