// `job:promote <queue> <id>`: a delayed job runs now (moved to waiting, keeping its priority).
import type { Command } from "commander";
import { notFound, registerJobAction } from "./_job-action.ts";

export function register(program: Command): void {
  registerJobAction(program, {
    command: "job:promote",
    summary: "Run a delayed job now",
    help: "Examples:\n  bun cli job:promote sync sync-character-2112000001",
    run: async (queue, id) => (await import("../server/queues/jobs.ts")).promoteJob(queue, id),
    outcomes: {
      promoted: { ok: true, line: (queue, id) => `${queue} ${id}: promoted` },
      "not-delayed": { ok: false, line: (queue, id) => `job '${id}' in ${queue} is not delayed` },
      "not-found": notFound,
    },
  });
}
