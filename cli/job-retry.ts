// `job:retry <queue> <id>`: one failed job back to its queue with a fresh set of attempts, by the rule of
// queue:retry — skipped when the same work is pending again in a newer job.
import type { Command } from "commander";
import { notFound, registerJobAction } from "./_job-action.ts";

export function register(program: Command): void {
  registerJobAction(program, {
    command: "job:retry",
    summary: "Retry one failed job with a fresh set of attempts",
    help:
      "The job keeps its priority. When a newer job with the same work key is pending, the retry is skipped\n" +
      "(exit 0): retrying never doubles work.\n\nExamples:\n  bun cli job:retry character character-93000001\n  bun cli job:retry killmail 1234 --json",
    run: async (queue, id) => (await import("../server/queues/jobs.ts")).retryJob(queue, id),
    outcomes: {
      retried: { ok: true, line: (queue, id) => `${queue} ${id}: retried` },
      skipped: { ok: true, line: (queue, id) => `${queue} ${id}: skipped (the same work is pending in a newer job)` },
      "not-failed": { ok: false, line: (queue, id) => `job '${id}' in ${queue} is not failed` },
      "not-found": notFound,
    },
  });
}
