// `queue:retry <queue> --failed` (or `--all-queues`): moves failed jobs back to their queue with a
// fresh set of attempts and their original priority. The de-duplication rule holds: a failed job
// whose work is already pending again (a newer job with the same work key) is skipped, not doubled.
import type { Command } from "commander";
import { QUEUE_NAMES, type QueueName } from "../server/queues/registry.ts";
import { parseQueueName, QUEUE_ARGUMENT_HELP } from "./_args.ts";
import { plural, print, printJson } from "./_output.ts";
import { runCommand, UsageError } from "./_run.ts";

interface Options {
  failed: boolean;
  allQueues?: boolean;
  json?: boolean;
}

export interface RetryResult {
  queue: QueueName;
  /** Moved back to waiting/prioritized. */
  retried: number;
  /** Left failed: the same work is pending in a newer job. */
  skipped: number;
  /** Gone meanwhile (removed by retention, or retried by someone else). */
  gone: number;
}

export function register(program: Command): void {
  program
    .command("queue:retry")
    .summary("Retry the failed jobs of a queue or of every queue")
    .description("Retry the failed jobs of a queue (or of every queue with --all-queues)")
    .argument("[queue]", QUEUE_ARGUMENT_HELP, parseQueueName)
    .requiredOption("--failed", "retry the failed jobs (required: the only state retry takes)")
    .option("--all-queues", "retry the failed jobs of every queue")
    .option("--json", "print JSON for scripts")
    .addHelpText(
      "after",
      "\nJobs get a fresh set of attempts and keep their priority. A job whose work is pending again\n" +
        "(a newer job with the same work key) is skipped, so retrying never doubles work.\n\n" +
        "Examples:\n  bun cli queue:retry killmail --failed\n  bun cli queue:retry --failed --all-queues --json",
    )
    .action(
      runCommand(async (queue: QueueName | undefined, opts: Options) => {
        if (queue && opts.allQueues) throw new UsageError("give a queue or --all-queues, not both");
        if (!queue && !opts.allQueues) throw new UsageError("missing queue: give a queue name or --all-queues");
        const results: RetryResult[] = [];
        for (const name of queue ? [queue] : QUEUE_NAMES) results.push(await retryFailed(name));
        const total = results.reduce((sum, r) => sum + r.retried, 0);

        if (opts.json) return printJson({ retried: total, queues: results });
        for (const r of results) {
          if (!queue && r.retried + r.skipped + r.gone === 0) continue;
          const notes = [
            r.skipped ? `${r.skipped} skipped (same work already pending)` : "",
            r.gone ? `${r.gone} gone meanwhile` : "",
          ].filter(Boolean);
          print(`${r.queue}: retried ${plural(r.retried, "failed job")}${notes.length ? `, ${notes.join(", ")}` : ""}`);
        }
        if (!queue) print(`retried ${plural(total, "failed job")} in all`);
      }),
    );
}

/** Retries the jobs that were failed when it started, in chunks. */
async function retryFailed(queue: QueueName): Promise<RetryResult> {
  const [{ getQueue }, { redis }] = await Promise.all([import("../server/queues/queue.ts"), import("../server/helpers/redis.ts")]);
  const q = getQueue(queue);
  const client = redis();
  const result: RetryResult = { queue, retried: 0, skipped: 0, gone: 0 };
  // The failed set is scored by time of failure; later failures are left for the next run.
  const ids = await client.zrangebyscore(q.keys.failed!, "-inf", Date.now());

  const retryOne = async (id: string) => {
    const job = await q.getJob(id);
    if (!job) return void result.gone++;
    // The work key was released when the job failed; take it again before the job is pending.
    const dedupKey = job.deduplicationId ? `${q.keys.de!}:${job.deduplicationId}` : undefined;
    if (dedupKey && (await client.set(dedupKey, id, "NX")) === null && (await client.get(dedupKey)) !== id) {
      return void result.skipped++;
    }
    try {
      await job.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
      result.retried++;
    } catch {
      // No longer failed: give the work key back unless it now names another job.
      if (dedupKey && (await client.get(dedupKey)) === id) await client.del(dedupKey);
      result.gone++;
    }
  };

  for (let start = 0; start < ids.length; start += 100) {
    await Promise.all(ids.slice(start, start + 100).map(retryOne));
  }
  return result;
}
