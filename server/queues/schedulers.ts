// The registry's default job schedulers in Redis: `bun queue` creates the missing ones (an operator's
// change to one — another cron, another interval — survives restarts), and operator commands create,
// retime or remove one by id.
import { log } from "../helpers/logger.ts";
import { scheduleJob } from "./enqueue.ts";
import { getQueue } from "./queue.ts";
import { QUEUES, type QueueDeclaration, type QueueName, type SchedulerDeclaration, schedulerDeclaration } from "./registry.ts";

/** When a scheduler fires: a cron pattern (UTC) or an interval in ms. */
export type SchedulerTiming = { cron: string } | { every: number };

function timingOf(scheduler: SchedulerDeclaration<unknown>): SchedulerTiming {
  return scheduler.cron ? { cron: scheduler.cron } : { every: scheduler.every! };
}

/** Creates or updates a declared scheduler, with its declared timing or the one given. */
export async function upsertScheduler(id: string, timing?: SchedulerTiming): Promise<{ queue: QueueName } & SchedulerTiming> {
  const { queue, scheduler } = schedulerDeclaration(id);
  const when = timing ?? timingOf(scheduler);
  await scheduleJob(queue, id, scheduler.payload as never, { ...when, priority: scheduler.priority });
  return { queue, ...when };
}

/** Removes a declared scheduler; false when it did not exist. */
export async function removeScheduler(id: string): Promise<boolean> {
  return getQueue(schedulerDeclaration(id).queue).removeJobScheduler(id);
}

/** Creates the default schedulers of these queues that do not exist yet; returns their ids. */
export async function registerDefaultSchedulers(queues: readonly QueueName[]): Promise<string[]> {
  const created: string[] = [];
  for (const queue of queues) {
    for (const scheduler of (QUEUES[queue] as QueueDeclaration).schedulers ?? []) {
      if (await getQueue(queue).getJobScheduler(scheduler.id)) continue;
      const timing = await upsertScheduler(scheduler.id);
      created.push(scheduler.id);
      log("queue").info({ scheduler: scheduler.id, ...timing }, "job scheduler registered");
    }
  }
  return created;
}
