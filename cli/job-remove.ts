// `job:remove <queue> <id>`: removes one job (waiting, delayed, finished); an active one is left to its worker.
import type { Command } from "commander";
import { notFound, registerJobAction } from "./_job-action.ts";

export function register(program: Command): void {
  registerJobAction(program, {
    command: "job:remove",
    summary: "Remove one job (not an active one)",
    help: "Examples:\n  bun cli job:remove character character-93000001",
    run: async (queue, id) => (await import("../server/queues/jobs.ts")).removeJob(queue, id),
    outcomes: {
      removed: { ok: true, line: (queue, id) => `${queue} ${id}: removed` },
      active: { ok: false, line: (queue, id) => `job '${id}' in ${queue} is active: remove it once it ends` },
      "not-found": notFound,
    },
  });
}
