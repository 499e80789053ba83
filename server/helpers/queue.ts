// Queue helpers shared by routes, the CLI and processors: queue names and priorities, typed and
// validated enqueue (single, bulk, scheduled), de-duplication by work key, and stats of every state.
import { type JobsOptions, type JobType, Queue } from "bullmq";
import { config, QUEUE_NAMES, type QueueName } from "./config.ts";
import { type PayloadOf, parsePayload, workKey } from "./job-payloads.ts";
import { redis } from "./redis.ts";

export { QUEUE_NAMES, type QueueName } from "./config.ts";
export { InvalidPayloadError, type PayloadOf, parsePayload, workKey } from "./job-payloads.ts";

/** Queue names as constants (`QueueType.killmail`). */
export const QueueType = Object.fromEntries(QUEUE_NAMES.map((q) => [q, q])) as { readonly [Q in QueueName]: Q };
export type QueueType = QueueName;

/** Lower runs first. BullMQ runs priority-0 jobs before all prioritized ones, so every job gets one of these. */
export const JobPriority = { HIGH: 1, NORMAL: 5, LOW: 10 } as const;
export type JobPriority = (typeof JobPriority)[keyof typeof JobPriority];

/** Defaults of every job; see README "Retries and de-duplication". */
export const DEFAULT_JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: "exponential", delay: 1_000, jitter: 0.5 },
  removeOnComplete: { age: 3_600, count: 1_000 },
  removeOnFail: { age: 7 * 86_400, count: 5_000 },
} as const satisfies JobsOptions;

export function isQueueName(name: string): name is QueueName {
  return (QUEUE_NAMES as readonly string[]).includes(name);
}

const queues = new Map<string, Queue>();

/** The BullMQ Queue for a type under the configured prefix (cached; closed by closeQueues()). */
export function getQueue(type: QueueName): Queue {
  const prefix = config().queuePrefix;
  const cacheKey = `${prefix}\u0000${type}`;
  let queue = queues.get(cacheKey);
  if (!queue) {
    queue = new Queue(type, { connection: redis(), prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS });
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

export interface EnqueueOptions {
  priority?: JobPriority | number;
  /** Milliseconds before the job may run. */
  delay?: number;
  attempts?: number;
  /** Work key override (de-duplication id); defaults to workKey(type, data). */
  key?: string;
  /** Exact BullMQ job id (debugging, `queue:add --job-id`); de-duplicates on the id itself. */
  jobId?: string;
  /** Job name shown in dashboards; defaults to the queue type. */
  name?: string;
  /** How many finished jobs of this kind to keep (default DEFAULT_JOB_OPTIONS'): fewer for big payloads. */
  keep?: { completed: number; failed: number };
}

export interface EnqueueResult {
  /** The id of the job that will do the work (an existing one when de-duplicated). */
  jobId: string;
  /** False when the same work was already pending, so nothing new was added. */
  added: boolean;
}

function assertJobId(id: string): void {
  if (id.includes(":")) throw new Error(`job id '${id}' contains ':' (BullMQ rejects it)`);
}

/** The BullMQ options for one job: defaults, explicit priority, and de-duplication by work key. */
function jobOptions(key: string | undefined, opts: EnqueueOptions, stamp: string): JobsOptions {
  const options: JobsOptions = { priority: opts.priority ?? JobPriority.NORMAL };
  if (opts.keep) {
    options.removeOnComplete = { ...DEFAULT_JOB_OPTIONS.removeOnComplete, count: opts.keep.completed };
    options.removeOnFail = { ...DEFAULT_JOB_OPTIONS.removeOnFail, count: opts.keep.failed };
  }
  if (opts.delay) options.delay = opts.delay;
  if (opts.attempts) options.attempts = opts.attempts;
  if (opts.jobId) {
    assertJobId(opts.jobId);
    options.jobId = opts.jobId;
  } else if (key) {
    assertJobId(key);
    // The key de-duplicates while the job is pending (waiting, prioritized, delayed, active, retrying);
    // BullMQ releases it when the job completes or fails, so later work with the same key is accepted.
    options.deduplication = { id: key };
    options.jobId = `${key}-${stamp}`;
  }
  return options;
}

let lastStamp = 0;
/** Millisecond stamp, strictly increasing within this process, base 36: makes job ids unique per enqueue. */
function nextStamp(): string {
  lastStamp = Math.max(Date.now(), lastStamp + 1);
  return lastStamp.toString(36);
}

/** Validates and adds one job. Throws InvalidPayloadError (nothing added) on a bad payload. */
export async function enqueueJob<Q extends QueueName>(
  type: Q,
  data: PayloadOf<Q> | unknown,
  opts: EnqueueOptions = {},
): Promise<EnqueueResult> {
  const payload = parsePayload(type, data);
  const key = opts.key ?? workKey(type, payload);
  const options = jobOptions(key, opts, nextStamp());
  const queue = getQueue(type);
  // An exact id the caller chose may already exist (BullMQ then returns it unchanged).
  const existed = opts.jobId !== undefined && (await queue.getJob(opts.jobId)) !== undefined;
  const job = await queue.add(opts.name ?? type, payload, options);
  const jobId = String(job.id);
  return { jobId, added: !existed && (options.jobId === undefined || jobId === options.jobId) };
}

export interface EnqueueManyResult {
  added: number;
  deduplicated: number;
  /** Per job submitted (same-key repeats within the call left out): its id, and whether it is new. */
  jobIds: string[];
  isNew: boolean[];
}

/**
 * Validates every item first (one bad item: InvalidPayloadError naming its index, nothing added), then
 * adds them with addBulk in chunks. Items with the same work key in one call collapse to one job.
 */
export async function enqueueJobMany<Q extends QueueName>(
  type: Q,
  items: readonly (PayloadOf<Q> | unknown)[],
  opts: EnqueueOptions & { chunkSize?: number } = {},
): Promise<EnqueueManyResult> {
  const payloads = items.map((item, index) => {
    try {
      return parsePayload(type, item);
    } catch (err) {
      if (err instanceof Error) err.message = `item ${index}: ${err.message}`;
      throw err;
    }
  });
  return addValidated(type, payloads, opts);
}

/** addBulk of payloads already validated by the caller (hot paths that parsed them at their own edge). */
export async function addValidated<Q extends QueueName>(
  type: Q,
  payloads: readonly PayloadOf<Q>[],
  opts: EnqueueOptions & { chunkSize?: number } = {},
): Promise<EnqueueManyResult> {
  const chunkSize = opts.chunkSize ?? 500;
  const queue = getQueue(type);
  const result: EnqueueManyResult = { added: 0, deduplicated: 0, jobIds: [], isNew: [] };
  const seen = new Set<string>();
  for (let start = 0; start < payloads.length; start += chunkSize) {
    const stamp = nextStamp();
    const batch: { name: string; data: PayloadOf<Q>; opts: JobsOptions }[] = [];
    for (const data of payloads.slice(start, start + chunkSize)) {
      const key = workKey(type, data);
      if (key !== undefined) {
        if (seen.has(key)) {
          result.deduplicated++;
          continue;
        }
        seen.add(key);
      }
      const unique = key === undefined ? undefined : key;
      batch.push({ name: opts.name ?? type, data, opts: jobOptions(unique, { ...opts, key: undefined, jobId: undefined }, stamp) });
    }
    const jobs = await queue.addBulk(batch);
    jobs.forEach((job, i) => {
      const requested = batch[i]!.opts.jobId;
      const id = String(job.id);
      const isNew = requested === undefined || requested === id;
      result.jobIds.push(id);
      result.isNew.push(isNew);
      if (isNew) result.added++;
      else result.deduplicated++;
    });
  }
  return result;
}

export interface ScheduleOptions {
  /** Cron pattern (UTC), e.g. `15 11 * * *`. */
  cron?: string;
  /** Every N milliseconds. */
  every?: number;
  priority?: JobPriority | number;
}

/** Creates or updates a BullMQ job scheduler that enqueues `data` on a cron pattern or interval. */
export async function scheduleJob<Q extends QueueName>(
  type: Q,
  schedulerId: string,
  data: PayloadOf<Q> | unknown,
  opts: ScheduleOptions,
): Promise<void> {
  if (!opts.cron === !opts.every) throw new Error("scheduleJob needs exactly one of cron or every");
  assertJobId(schedulerId);
  const payload = parsePayload(type, data);
  await getQueue(type).upsertJobScheduler(schedulerId, opts.cron ? { pattern: opts.cron, tz: "UTC" } : { every: opts.every! }, {
    name: type,
    data: payload,
    opts: { priority: opts.priority ?? JobPriority.NORMAL },
  });
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

async function statsOf(type: QueueName): Promise<QueueStats> {
  const queue = getQueue(type);
  // BullMQ 6 pauses with a flag: a paused queue's jobs stay in their states.
  const [counts, paused] = await Promise.all([queue.getJobCounts(...JOB_STATES), queue.isPaused()]);
  const stats = { queue: type, paused } as QueueStats;
  for (const state of JOB_STATES) stats[state] = counts[state] ?? 0;
  return stats;
}

/** Counts of every state for one queue, or for all of them. */
export async function getQueueStats(type: QueueName): Promise<QueueStats>;
export async function getQueueStats(): Promise<QueueStats[]>;
export async function getQueueStats(type?: QueueName): Promise<QueueStats | QueueStats[]> {
  if (type) return statsOf(type);
  return Promise.all(QUEUE_NAMES.map(statsOf));
}

/** Which of these work keys have no pending job in `type`'s queue (one pipelined round trip). */
export async function missingWorkKeys(type: QueueName, keys: string[]): Promise<Set<string>> {
  const missing = new Set<string>();
  if (keys.length === 0) return missing;
  const prefix = getQueue(type).keys.de;
  const pipeline = redis().pipeline();
  for (const key of keys) pipeline.exists(`${prefix}:${key}`);
  const replies = (await pipeline.exec()) ?? [];
  replies.forEach(([err, exists], i) => {
    if (err) throw err;
    if (exists === 0) missing.add(keys[i]!);
  });
  return missing;
}
