// Job schedulers in Redis: `bun queue` creates the registry's missing ones (an operator's change to one —
// another cron, another interval, a pause — survives restarts), and operator commands (CLI schedulers:*,
// admin API) list, create or retime, pause, resume and remove them.
//
// BullMQ has no paused scheduler, so pausing removes the BullMQ scheduler (and its next delayed job) and
// keeps its spec — queue, timing, job template — in a Redis hash (`<prefix>:schedulers:paused`); resuming
// re-creates it from there. `bun queue` does not re-create a paused default scheduler, while a removed one
// comes back at its declared timing on the next start (pause is the way to stop a default for good).
// Each scheduled job that starts notes its time (`<prefix>:schedulers:last-run`) for "last run".
import { CronExpressionParser } from "cron-parser";
import { z } from "zod";
import { config } from "../helpers/config.ts";
import { log } from "../helpers/logger.ts";
import { redis } from "../helpers/redis.ts";
import { scheduleJob } from "./enqueue.ts";
import { getQueue } from "./queue.ts";
import { QUEUE_NAMES, QUEUES, type QueueDeclaration, type QueueName, type SchedulerDeclaration, schedulerDeclaration } from "./registry.ts";

/** When a scheduler fires: a cron pattern (UTC) or an interval in ms. */
export type SchedulerTiming = { cron: string } | { every: number };

/** Shortest and longest interval a scheduler takes. */
const MIN_EVERY_MS = 1_000;
const MAX_EVERY_MS = 366 * 86_400_000;

/** A cron pattern cron-parser (BullMQ's) accepts: 5 fields, or 6 with seconds first. */
export const cronPattern = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .refine((pattern) => {
    try {
      CronExpressionParser.parse(pattern, { tz: "UTC" });
      return pattern.split(/\s+/).length >= 5;
    } catch {
      return false;
    }
  }, "not a valid cron pattern (5 fields: minute hour day-of-month month day-of-week, UTC)");

/** A scheduler's timing as given by an operator: one of cron or every (ms); neither: a default's declared timing. */
export const schedulerTiming = z
  .object({
    cron: cronPattern.optional(),
    every: z.number().int().min(MIN_EVERY_MS).max(MAX_EVERY_MS).optional(),
  })
  .strict()
  .refine((t) => t.cron === undefined || t.every === undefined, { message: "give one of cron or every, not both" })
  .transform((t): SchedulerTiming | undefined =>
    t.cron !== undefined ? { cron: t.cron } : t.every !== undefined ? { every: t.every } : undefined,
  );

/** A scheduler as operators see it. */
export interface SchedulerInfo {
  id: string;
  queue: QueueName;
  pattern: string | null;
  every: number | null;
  tz: string | null;
  paused: boolean;
  /** Epoch ms of the next run (null while paused) and of the last job it started (null if none seen). */
  next: number | null;
  lastRun: number | null;
  /** Declared in the registry (`bun queue` creates it when missing). */
  declared: boolean;
  description: string | null;
  data: unknown;
}

/** What a paused scheduler keeps, to be re-created as it was. */
const pausedSpec = z.object({
  queue: z.enum(QUEUE_NAMES as unknown as [QueueName, ...QueueName[]]),
  pattern: z.string().nullable(),
  every: z.number().nullable(),
  tz: z.string().nullable(),
  template: z.object({ name: z.string(), data: z.unknown(), opts: z.record(z.string(), z.unknown()).optional() }),
});
type PausedSpec = z.infer<typeof pausedSpec>;

const pausedKey = () => `${config().queuePrefix}:schedulers:paused`;
const lastRunKey = () => `${config().queuePrefix}:schedulers:last-run`;

function declaredSchedulerOf(id: string): { queue: QueueName; scheduler: SchedulerDeclaration<unknown> } | null {
  try {
    return schedulerDeclaration(id);
  } catch {
    return null;
  }
}

async function pausedSpecs(): Promise<Map<string, PausedSpec>> {
  const raw = await redis().hgetall(pausedKey());
  const specs = new Map<string, PausedSpec>();
  for (const [id, json] of Object.entries(raw)) {
    const spec = pausedSpec.safeParse(JSON.parse(json));
    if (spec.success) specs.set(id, spec.data);
  }
  return specs;
}

/** Notes that a job of a scheduler started (the runner's processors call it). */
export async function noteSchedulerRun(schedulerId: string, at = Date.now()): Promise<void> {
  await redis().hset(lastRunKey(), schedulerId, String(at));
}

/** Every scheduler of every queue, running and paused, ordered by queue and id. */
export async function listSchedulers(): Promise<SchedulerInfo[]> {
  const [paused, lastRuns] = await Promise.all([pausedSpecs(), redis().hgetall(lastRunKey())]);
  const info = (
    id: string,
    queue: QueueName,
    fields: Omit<SchedulerInfo, "id" | "queue" | "lastRun" | "declared" | "description">,
  ): SchedulerInfo => {
    const declared = declaredSchedulerOf(id);
    return {
      id,
      queue,
      ...fields,
      lastRun: lastRuns[id] ? Number(lastRuns[id]) : null,
      declared: declared !== null,
      description: declared?.scheduler.description ?? null,
    };
  };
  const rows: SchedulerInfo[] = [];
  for (const queue of QUEUE_NAMES) {
    for (const s of await getQueue(queue).getJobSchedulers(0, -1, true)) {
      const id = s.id ?? s.key;
      rows.push(
        info(id, queue, {
          pattern: s.pattern ?? null,
          every: s.every ? Number(s.every) : null,
          tz: s.tz ?? null,
          paused: false,
          next: s.next ?? null,
          data: s.template?.data as unknown,
        }),
      );
    }
  }
  for (const [id, spec] of paused) {
    if (rows.some((r) => r.id === id)) continue; // re-created meanwhile by hand: it runs
    rows.push(
      info(id, spec.queue, { pattern: spec.pattern, every: spec.every, tz: spec.tz, paused: true, next: null, data: spec.template.data }),
    );
  }
  return rows.sort((a, b) => a.queue.localeCompare(b.queue) || a.id.localeCompare(b.id));
}

/** The running scheduler with this id, in whichever queue holds it. */
async function findRunning(id: string): Promise<{ queue: QueueName; spec: PausedSpec } | null> {
  const declared = declaredSchedulerOf(id);
  const queues = declared ? [declared.queue, ...QUEUE_NAMES.filter((q) => q !== declared.queue)] : QUEUE_NAMES;
  for (const queue of queues) {
    const s = await getQueue(queue).getJobScheduler(id);
    if (!s) continue;
    const template = {
      name: s.name || queue,
      data: s.template?.data as unknown,
      opts: (s.template?.opts ?? {}) as Record<string, unknown>,
    };
    return { queue, spec: { queue, pattern: s.pattern ?? null, every: s.every ? Number(s.every) : null, tz: s.tz ?? null, template } };
  }
  return null;
}

async function createFrom(id: string, spec: PausedSpec): Promise<void> {
  const repeat = spec.pattern ? { pattern: spec.pattern, ...(spec.tz ? { tz: spec.tz } : {}) } : { every: spec.every! };
  await getQueue(spec.queue).upsertJobScheduler(id, repeat, spec.template);
}

export type SchedulerChange = { outcome: "done"; scheduler: SchedulerInfo } | { outcome: "not-found" | "already" };

async function infoOf(id: string): Promise<SchedulerInfo> {
  const found = (await listSchedulers()).find((s) => s.id === id);
  if (!found) throw new Error(`scheduler '${id}' vanished`);
  return found;
}

/** Stops a scheduler, keeping its spec for resume; `already` when it is paused. */
export async function pauseScheduler(id: string): Promise<SchedulerChange> {
  const running = await findRunning(id);
  if (!running) return (await redis().hexists(pausedKey(), id)) ? { outcome: "already" } : { outcome: "not-found" };
  // Spec first: a crash in between leaves it both kept and running, which resume or pause settles.
  await redis().hset(pausedKey(), id, JSON.stringify(running.spec));
  await getQueue(running.queue).removeJobScheduler(id);
  return { outcome: "done", scheduler: await infoOf(id) };
}

/** Re-creates a paused scheduler as it was; `already` when it runs. */
export async function resumeScheduler(id: string): Promise<SchedulerChange> {
  const spec = (await pausedSpecs()).get(id);
  if (!spec) return (await findRunning(id)) ? { outcome: "already" } : { outcome: "not-found" };
  await createFrom(id, spec);
  await redis().hdel(pausedKey(), id);
  return { outcome: "done", scheduler: await infoOf(id) };
}

/** Removes a scheduler, running or paused; false when there was none. A default one returns at the next `bun queue` start. */
export async function removeScheduler(id: string): Promise<boolean> {
  const running = await findRunning(id);
  const removed = running ? await getQueue(running.queue).removeJobScheduler(id) : false;
  const wasPaused = (await redis().hdel(pausedKey(), id)) > 0;
  return removed || wasPaused;
}

/**
 * Creates or retimes a scheduler: a declared one (with its declared timing when none is given), or an
 * existing one of any queue (keeping its job). A paused one stays paused with the new timing. Throws
 * for an id that is neither declared nor existing (see schedulerExists).
 */
export async function upsertScheduler(
  id: string,
  timing?: SchedulerTiming,
): Promise<{ queue: QueueName; paused: boolean } & SchedulerTiming> {
  const declared = declaredSchedulerOf(id);
  const paused = (await pausedSpecs()).get(id);
  if (paused) {
    const when = timing ?? (declared ? timingOf(declared.scheduler) : paused.pattern ? { cron: paused.pattern } : { every: paused.every! });
    const spec: PausedSpec =
      "cron" in when
        ? { ...paused, pattern: when.cron, every: null, tz: "UTC" }
        : { ...paused, pattern: null, every: when.every, tz: null };
    await redis().hset(pausedKey(), id, JSON.stringify(spec));
    return { queue: paused.queue, paused: true, ...when };
  }
  if (declared) {
    const when = timing ?? timingOf(declared.scheduler);
    await scheduleJob(declared.queue, id, declared.scheduler.payload as never, { ...when, priority: declared.scheduler.priority });
    return { queue: declared.queue, paused: false, ...when };
  }
  const running = await findRunning(id);
  if (!running || !timing) throw new Error(`no job scheduler '${id}'`);
  await createFrom(
    id,
    "cron" in timing
      ? { ...running.spec, pattern: timing.cron, every: null, tz: "UTC" }
      : { ...running.spec, pattern: null, every: timing.every, tz: null },
  );
  return { queue: running.queue, paused: false, ...timing };
}

/** Whether the id is a default scheduler (declared in the registry), which an upsert may give its declared timing. */
export function isDeclaredScheduler(id: string): boolean {
  return declaredSchedulerOf(id) !== null;
}

/** Whether upsertScheduler knows this id: declared in the registry, running or paused. */
export async function schedulerExists(id: string): Promise<boolean> {
  return declaredSchedulerOf(id) !== null || (await redis().hexists(pausedKey(), id)) === 1 || (await findRunning(id)) !== null;
}

function timingOf(scheduler: SchedulerDeclaration<unknown>): SchedulerTiming {
  return scheduler.cron ? { cron: scheduler.cron } : { every: scheduler.every! };
}

/** Creates the default schedulers of these queues that do not exist yet and are not paused; returns their ids. */
export async function registerDefaultSchedulers(queues: readonly QueueName[]): Promise<string[]> {
  const created: string[] = [];
  const paused = await pausedSpecs();
  for (const queue of queues) {
    for (const scheduler of (QUEUES[queue] as QueueDeclaration).schedulers ?? []) {
      if (paused.has(scheduler.id) || (await getQueue(queue).getJobScheduler(scheduler.id))) continue;
      const timing = await upsertScheduler(scheduler.id);
      created.push(scheduler.id);
      log("queue").info({ scheduler: scheduler.id, ...timing }, "job scheduler registered");
    }
  }
  return created;
}
