// Enqueueing, typed by the registry: a payload is checked against its queue's type at compile time and
// its schema at run time (bad data never reaches Redis), gets its queue's work key as BullMQ's
// de-duplication id, a priority tier, and the queue's retry policy and retention. Single jobs, bulk
// adds and job schedulers. See README "Retries and de-duplication".
import type { JobsOptions } from "bullmq";
import { type PriorityTier, priorityOf } from "./priority.ts";
import { getQueue, retentionOptions } from "./queue.ts";
import { type PayloadOf, parsePayload, type QueueName, queueDeclaration, workKey } from "./registry.ts";

export interface EnqueueOptions {
  /** A tier, or a stored priority number (a ledger row's); default: the queue's declared tier. */
  priority?: PriorityTier | number;
  /** Milliseconds before the job may run. */
  delay?: number;
  /** Attempts instead of the queue's retry policy (tests). */
  attempts?: number;
  /** Exact BullMQ job id (debugging, `queue:add --job-id`); de-duplicates on the id itself. */
  jobId?: string;
  /** Job name shown in dashboards; defaults to the queue name. */
  name?: string;
}

export interface EnqueueResult {
  /** The id of the job that will do the work (an existing one when de-duplicated). */
  jobId: string;
  /** False when the same work was already pending, so nothing new was added. */
  added: boolean;
}

export function assertJobId(id: string): void {
  if (id.includes(":")) throw new Error(`job id '${id}' contains ':' (BullMQ rejects it)`);
}

/** The BullMQ options of one job: its priority, retention, and de-duplication by work key. */
function jobOptions<Q extends QueueName>(queue: Q, payload: PayloadOf<Q>, opts: EnqueueOptions, stamp: string): JobsOptions {
  const declaration = queueDeclaration(queue);
  const options: JobsOptions = { priority: priorityOf(opts.priority ?? declaration.priority) };
  if (declaration.retention) Object.assign(options, retentionOptions(declaration.retention(payload)));
  if (opts.delay) options.delay = opts.delay;
  if (opts.attempts) options.attempts = opts.attempts;
  if (opts.jobId) {
    assertJobId(opts.jobId);
    options.jobId = opts.jobId;
  } else {
    const key = workKey(queue, payload);
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
export async function enqueueJob<Q extends QueueName>(queue: Q, payload: PayloadOf<Q>, opts: EnqueueOptions = {}): Promise<EnqueueResult> {
  return enqueueInput(queue, payload, opts);
}

/** enqueueJob for a payload that comes from outside (CLI JSON, an HTTP body): only its schema checks it. */
export async function enqueueInput<Q extends QueueName>(queue: Q, input: unknown, opts: EnqueueOptions = {}): Promise<EnqueueResult> {
  const payload = parsePayload(queue, input);
  const options = jobOptions(queue, payload, opts, nextStamp());
  const bull = getQueue(queue);
  // An exact id the caller chose may already exist (BullMQ then returns it unchanged).
  const existed = opts.jobId !== undefined && (await bull.getJob(opts.jobId)) !== undefined;
  const job = await bull.add(opts.name ?? queue, payload, options);
  const jobId = String(job.id);
  return { jobId, added: !existed && jobId === options.jobId };
}

export interface EnqueueManyResult {
  added: number;
  deduplicated: number;
  /** Per job submitted (same-key repeats within the call left out): its id, and whether it is new. */
  jobIds: string[];
  isNew: boolean[];
}

/**
 * Validates every payload first (one bad payload: InvalidPayloadError naming its index, nothing added),
 * then adds them with addBulk in chunks. Payloads with the same work key in one call collapse to one job.
 */
export async function enqueueJobs<Q extends QueueName>(
  queue: Q,
  payloads: readonly PayloadOf<Q>[],
  opts: Omit<EnqueueOptions, "jobId"> & { chunkSize?: number } = {},
): Promise<EnqueueManyResult> {
  const valid = payloads.map((payload, index) => {
    try {
      return parsePayload(queue, payload);
    } catch (err) {
      if (err instanceof Error) err.message = `item ${index}: ${err.message}`;
      throw err;
    }
  });
  return enqueueValidated(queue, valid, opts);
}

/** enqueueJobs for payloads already validated at the caller's edge (hot paths: the intake, the outbox relay). */
export async function enqueueValidated<Q extends QueueName>(
  queue: Q,
  payloads: readonly PayloadOf<Q>[],
  opts: Omit<EnqueueOptions, "jobId"> & { chunkSize?: number } = {},
): Promise<EnqueueManyResult> {
  const chunkSize = opts.chunkSize ?? 500;
  const bull = getQueue(queue);
  const result: EnqueueManyResult = { added: 0, deduplicated: 0, jobIds: [], isNew: [] };
  const seen = new Set<string>();
  for (let start = 0; start < payloads.length; start += chunkSize) {
    const stamp = nextStamp();
    const batch: { name: string; data: PayloadOf<Q>; opts: JobsOptions }[] = [];
    for (const data of payloads.slice(start, start + chunkSize)) {
      const options = jobOptions(queue, data, opts, stamp);
      const key = options.deduplication!.id;
      if (seen.has(key)) {
        result.deduplicated++;
        continue;
      }
      seen.add(key);
      batch.push({ name: opts.name ?? queue, data, opts: options });
    }
    const jobs = await bull.addBulk(batch);
    jobs.forEach((job, i) => {
      const id = String(job.id);
      const isNew = batch[i]!.opts.jobId === id;
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
  priority?: PriorityTier;
}

/** Creates or updates a BullMQ job scheduler that enqueues `payload` on a cron pattern or interval. */
export async function scheduleJob<Q extends QueueName>(
  queue: Q,
  schedulerId: string,
  payload: PayloadOf<Q>,
  opts: ScheduleOptions,
): Promise<void> {
  if (!opts.cron === !opts.every) throw new Error("scheduleJob needs exactly one of cron or every");
  assertJobId(schedulerId);
  const valid = parsePayload(queue, payload);
  await getQueue(queue).upsertJobScheduler(schedulerId, opts.cron ? { pattern: opts.cron, tz: "UTC" } : { every: opts.every! }, {
    name: queue,
    data: valid,
    opts: { priority: priorityOf(opts.priority ?? queueDeclaration(queue).priority) },
  });
}
