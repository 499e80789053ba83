// The SSO's jobs in BullMQ: a `token` job per character (refresh, at the credentials tier) and one
// `sync` job per sync that lives as long as the sync does — after each poll it moves itself to the
// delayed set until the next one (see sync.ts for why). Here: run one now (promoting a delayed one),
// remove them, and find the syncs whose job Redis lost (reconcile).
import type { Job } from "bullmq";
import { enqueueJob } from "../queues/enqueue.ts";
import type { PriorityTier } from "../queues/priority.ts";
import { getQueue, missingWorkKeys } from "../queues/queue.ts";
import { type PayloadOf, workKey } from "../queues/registry.ts";
import { activeSyncs, type SyncKind } from "./store.ts";

/** The pending job of a work key, if any. */
async function pendingJob(queue: "token" | "sync", key: string): Promise<Job | undefined> {
  const id = await getQueue(queue).getDeduplicationJobId(key);
  return id ? ((await getQueue(queue).getJob(id)) ?? undefined) : undefined;
}

/**
 * Adds the job, or makes the pending one run now when it waits in the delayed set for its time (not
 * when it waits out a retry's backoff: that one is left alone). `retrying`: the pending job has failed
 * before and waits to be retried.
 */
async function runNow<Q extends "token" | "sync">(
  queue: Q,
  payload: PayloadOf<Q>,
  priority: PriorityTier,
): Promise<{ jobId: string; retrying: boolean }> {
  const added = await enqueueJob(queue, payload, { priority });
  if (added.added) return { jobId: added.jobId, retrying: false };
  const job = await getQueue(queue).getJob(added.jobId);
  const retrying = (job?.attemptsMade ?? 0) > 0;
  if (job && !retrying && (await job.getState()) === "delayed") await job.promote().catch(() => {});
  return { jobId: added.jobId, retrying };
}

/** A refresh of this character's token as soon as possible (the token queue's first tier). */
export function refreshNow(characterId: number): Promise<{ jobId: string; retrying: boolean }> {
  return runNow("token", { characterId }, "credentials");
}

/** A refresh ahead of expiry: at `at` (epoch ms), unless one is pending already. */
export async function refreshAt(characterId: number, at: number): Promise<void> {
  await enqueueJob("token", { characterId }, { priority: "credentials", delay: Math.max(0, at - Date.now()) });
}

/** Polls this sync now. */
export async function syncNow(kind: SyncKind, id: number, priority: PriorityTier = "user"): Promise<string> {
  return (await runNow("sync", { kind, id }, priority)).jobId;
}

/** Removes a sync's pending job (a revoked token, a sync that ended); an active one ends by itself. */
export async function removeSyncJob(kind: SyncKind, id: number): Promise<void> {
  const job = await pendingJob("sync", workKey("sync", { kind, id }));
  if (job && (await job.getState()) !== "active") await job.remove().catch(() => {});
}

/** Active syncs whose job Redis does not hold (a FLUSHALL, a job that failed for good) are queued again. */
export async function requeueLostSyncs(): Promise<[number, number]> {
  const syncs = await activeSyncs();
  const keys = syncs.map((s) => workKey("sync", { kind: s.kind, id: s.entity_id }));
  const missing = await missingWorkKeys("sync", keys);
  let requeued = 0;
  for (const s of syncs) {
    if (!missing.has(workKey("sync", { kind: s.kind, id: s.entity_id }))) continue;
    const delay = s.next_sync_at ? Math.max(0, s.next_sync_at.getTime() - Date.now()) : 0;
    if ((await enqueueJob("sync", { kind: s.kind, id: s.entity_id }, { delay })).added) requeued++;
  }
  return [syncs.length, requeued];
}
