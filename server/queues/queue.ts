// BullMQ Queue access under the configured prefix: one cached Queue per name (its default job options
// from the registry's retry policy and retention), counts of every state, and which work keys Redis
// still holds a pending job for (reconcile's question).
import { type JobsOptions, type JobType, Queue } from "bullmq";
import { config } from "../helpers/config.ts";
import { redis } from "../helpers/redis.ts";
import { backoffOption } from "./backoff.ts";
import { DEFAULT_RETENTION, QUEUE_NAMES, type QueueName, queueDeclaration, type Retention } from "./registry.ts";

/** Completed jobs are kept an hour at most, failed ones a week (and by count, see Retention). */
export function retentionOptions(keep: Retention): Pick<JobsOptions, "removeOnComplete" | "removeOnFail"> {
  return { removeOnComplete: { age: 3_600, count: keep.completed }, removeOnFail: { age: 7 * 86_400, count: keep.failed } };
}

/** The options every job of a queue starts from: its retry policy and the default retention. */
export function defaultJobOptions(queue: QueueName): JobsOptions {
  const { retry } = queueDeclaration(queue);
  return { attempts: retry.attempts, backoff: backoffOption(retry), ...retentionOptions(DEFAULT_RETENTION) };
}

const queues = new Map<string, Queue>();

/** The BullMQ Queue for a name under the configured prefix (cached; closed by closeQueues()). */
export function getQueue(name: QueueName): Queue {
  const prefix = config().queuePrefix;
  const cacheKey = `${prefix}\u0000${name}`;
  let queue = queues.get(cacheKey);
  if (!queue) {
    queue = new Queue(name, { connection: redis(), prefix, defaultJobOptions: defaultJobOptions(name) });
    queue.on("error", () => {}); // connection errors surface on the command that failed
    queues.set(cacheKey, queue);
  }
  return queue;
}

export async function closeQueues(): Promise<void> {
  const all = [...queues.values()];
  queues.clear();
  await Promise.all(all.map((q) => q.close()));
}

export const JOB_STATES = [
  "waiting",
  "prioritized",
  "active",
  "delayed",
  "completed",
  "failed",
  "waiting-children",
] as const satisfies readonly JobType[];
export type JobStateName = (typeof JOB_STATES)[number];

export type QueueStats = Record<JobStateName, number> & { queue: QueueName; paused: boolean };

async function statsOf(name: QueueName): Promise<QueueStats> {
  const queue = getQueue(name);
  // BullMQ 6 pauses with a flag: a paused queue's jobs stay in their states.
  const [counts, paused] = await Promise.all([queue.getJobCounts(...JOB_STATES), queue.isPaused()]);
  const stats = { queue: name, paused } as QueueStats;
  for (const state of JOB_STATES) stats[state] = counts[state] ?? 0;
  return stats;
}

/** Counts of every state for one queue, or for all of them. */
export async function getQueueStats(name: QueueName): Promise<QueueStats>;
export async function getQueueStats(): Promise<QueueStats[]>;
export async function getQueueStats(name?: QueueName): Promise<QueueStats | QueueStats[]> {
  if (name) return statsOf(name);
  return Promise.all(QUEUE_NAMES.map(statsOf));
}

/** Which of these work keys have no pending job in the queue (one pipelined round trip). */
export async function missingWorkKeys(name: QueueName, keys: string[]): Promise<Set<string>> {
  const missing = new Set<string>();
  if (keys.length === 0) return missing;
  const prefix = getQueue(name).keys.de;
  const pipeline = redis().pipeline();
  for (const key of keys) pipeline.exists(`${prefix}:${key}`);
  const replies = (await pipeline.exec()) ?? [];
  replies.forEach(([err, exists], i) => {
    if (err) throw err;
    if (exists === 0) missing.add(keys[i]!);
  });
  return missing;
}
