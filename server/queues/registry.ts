// The queue registry: one declaration per queue — its payload schema, work key, default priority tier,
// worker options, retry policy, retention, outbox handling and default job schedulers. Producers
// (enqueue.ts, the intake, the outbox relay, reconcile, the CLI, the admin API) and the processors in
// queue/<name>.ts all derive from it: adding a queue is one entry here plus one processor file.
// This module imports no BullMQ, Redis or Postgres code, so anything may import it.
import { createHash } from "node:crypto";
import type { z } from "zod";
import {
  backfillPayload,
  characterPayload,
  detailPayload,
  entityPayload,
  type KillmailBatchPayload,
  killmailPayload,
  pricePayload,
  type SingleKillmailPayload,
  syncPayload,
  tokenPayload,
} from "./payloads.ts";
import type { PriorityTier } from "./priority.ts";

export interface WorkerDeclaration {
  /** Jobs in flight per worker process (QUEUE_<NAME>_CONCURRENCY overrides). */
  concurrency: number;
  /** At most `max` jobs started per `duration` ms across all workers of the queue (QUEUE_<NAME>_RATE overrides). */
  limiter?: { max: number; duration: number };
  /** Job lock in ms (BullMQ's default 30 s); a job whose worker died returns to its queue after about this long. */
  lockDuration?: number;
}

/**
 * How a job that failed on a transient fault is retried (permanent failures are not retried): `delay` ms
 * before the first retry, doubling after each, never more than `maxDelay`, with up to `jitter` of each
 * delay taken off at random (backoff.ts). When the attempts are used up the job fails in BullMQ; work the
 * ledgers record (kills, outbox rows) stays pending there, and reconcile queues it again.
 */
export interface RetryDeclaration {
  /** Attempts in all, the first included. */
  attempts: number;
  delay: number;
  maxDelay: number;
  jitter: number;
}

/** How many finished jobs Redis keeps (by count; completed ones for an hour, failed ones for a week). */
export interface Retention {
  completed: number;
  failed: number;
}

export interface SchedulerDeclaration<P> {
  /** The BullMQ job scheduler id (no ':'). */
  id: string;
  description: string;
  payload: P;
  /** A cron pattern (UTC) or an interval in ms: exactly one. */
  cron?: string;
  every?: number;
  priority: PriorityTier;
}

export interface QueueDeclaration<S extends z.ZodType = z.ZodType> {
  description: string;
  payload: S;
  /**
   * The work key of a payload: jobs with the same key are the same work, so at most one of them is
   * pending at a time (BullMQ de-duplication id). Never contains ':' (BullMQ rejects it in ids).
   */
  key(payload: z.infer<S>): string;
  /** The tier of a job whose producer names none. */
  priority: PriorityTier;
  worker: WorkerDeclaration;
  retry: RetryDeclaration;
  /** Finished jobs kept in Redis; the default keeps 1,000 completed and 5,000 failed. */
  retention?(payload: z.infer<S>): Retention;
  /**
   * Jobs of this queue are asked for by stored kills' outbox rows (fan-out): the processor deletes the
   * row when the work is done and marks it failed when the job fails for good.
   */
  outbox?: boolean;
  /** Job schedulers `bun queue` creates when missing (an operator's changes to them survive restarts). */
  schedulers?: SchedulerDeclaration<z.infer<S>>[];
}

function declare<S extends z.ZodType>(declaration: QueueDeclaration<S>): QueueDeclaration<S> {
  return declaration;
}

/** A short digest of a set of ids (order and repeats do not matter): the key of a bulk job. */
export function idsDigest(ids: readonly number[]): string {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  return createHash("sha1").update(sorted.join(",")).digest("hex").slice(0, 16);
}

/**
 * The work key of the killmail job that carries these kills: `killmail-<id>` for one kill,
 * `killmail-batch-<digest of the ids>` for a batch job (intake rows keep it, so reconcile can find the job).
 */
export function killmailJobKey(killmailIds: readonly number[]): string {
  return killmailIds.length === 1 ? `killmail-${killmailIds[0]}` : `killmail-batch-${idsDigest(killmailIds)}`;
}

/** The kills a killmail payload names, in order: one, or a batch job's. */
export function killsOf(payload: SingleKillmailPayload | KillmailBatchPayload): { killmailId: number; hash: string; esi?: unknown }[] {
  return "batch" in payload ? payload.batch : [payload];
}

/** About two minutes of retries (1 s, 2 s, … 60 s): a restarting database or Redis, a lost connection. */
const DEFAULT_RETRY: RetryDeclaration = { attempts: 8, delay: 1_000, maxDelay: 60_000, jitter: 0.5 };
/** ESI calls: about four minutes of retries, so a daily downtime or a 5xx storm is ridden out by retries. */
const ESI_RETRY: RetryDeclaration = { attempts: 8, delay: 2_000, maxDelay: 90_000, jitter: 0.5 };
/** Entity refreshes: ESI's public routes are bound by the error limit only; 30 a second per queue stays far inside it. */
const ENTITY_WORKER: WorkerDeclaration = { concurrency: 8, limiter: { max: 30, duration: 1_000 } };
/**
 * Names in bulk: many jobs wait together for one /universe/names call of up to 1,000 ids
 * (server/entities/names.ts), so many are in flight and none is limited per job.
 */
const NAMES_WORKER: WorkerDeclaration = { concurrency: 1_000 };
/** Kept finished jobs where a queue declares no retention of its own. */
export const DEFAULT_RETENTION: Retention = { completed: 1_000, failed: 5_000 };

/** Batch jobs: the ledger, not Redis, records each kill's fate, so few finished ones are kept. */
const BATCH_JOBS_KEPT: Retention = { completed: 20, failed: 200 };

export const FLAGGED_VALUES_SCHEDULER_ID = "backfill-values-flagged";
export const ALLIANCE_SNAPSHOT_SCHEDULER_ID = "alliance-snapshot-daily";
export const PRICE_DAILY_SCHEDULER_ID = "price-daily";

export const QUEUES = {
  killmail: declare({
    description: "stores killmails (one kill, or a batch job of kills with ledger bodies) with values and fan-out",
    payload: killmailPayload,
    key: (p) => killmailJobKey(killsOf(p).map((k) => k.killmailId)),
    priority: "user",
    // Enough jobs in flight for the store collector to fill a transaction from single-kill jobs, few
    // enough that batch jobs (up to 250 kills each) keep memory bounded; ESI fetches are paced by the
    // shared budget.
    worker: { concurrency: 64, lockDuration: 60_000 },
    retry: DEFAULT_RETRY,
    retention: (p) => ("batch" in p && p.batch.length > 1 ? BATCH_JOBS_KEPT : DEFAULT_RETENTION),
  }),
  character: declare({
    description: "names a character (in bulk, with its affiliation), or refreshes the affiliations of up to 1,000 characters",
    payload: characterPayload,
    key: (p) => ("id" in p ? `character-${p.id}` : `character-affiliation-${idsDigest(p.affiliation)}`),
    priority: "enrichment",
    worker: NAMES_WORKER,
    retry: ESI_RETRY,
    outbox: true,
  }),
  corporation: declare({
    description: "names a corporation (in bulk)",
    payload: entityPayload,
    key: (p) => `corporation-${p.id}`,
    priority: "enrichment",
    worker: NAMES_WORKER,
    retry: ESI_RETRY,
    outbox: true,
  }),
  alliance: declare({
    description: "names an alliance (in bulk)",
    payload: entityPayload,
    key: (p) => `alliance-${p.id}`,
    priority: "enrichment",
    worker: NAMES_WORKER,
    retry: ESI_RETRY,
    outbox: true,
  }),
  type: declare({
    description: "stores an item type with its group and category (valuation needs them)",
    payload: entityPayload,
    key: (p) => `type-${p.id}`,
    priority: "enrichment",
    worker: ENTITY_WORKER,
    retry: ESI_RETRY,
    outbox: true,
  }),
  detail: declare({
    description: "reads an entity's own ESI route (birthday, security status, tickers, members…) after its name",
    payload: detailPayload,
    key: (p) => `detail-${p.kind}-${p.id}`,
    priority: "backfill",
    worker: ENTITY_WORKER,
    retry: ESI_RETRY,
  }),
  price: declare({
    description: "market prices and Forge histories, repricing types and flagging their kills for revaluation",
    payload: pricePayload,
    key: (p) => {
      if (p.task === "update") return p.typeIds ? `price-update-${idsDigest(p.typeIds)}` : "price-update";
      if (p.task === "new-types") return "price-new-types";
      return p.typeIds.length === 1 ? `price-history-${p.typeIds[0]}` : `price-history-${idsDigest(p.typeIds)}`;
    },
    priority: "routine",
    // ESI's market routes are error-limited only; a few at once keeps well inside the budget.
    worker: { concurrency: 4, lockDuration: 120_000 },
    retry: ESI_RETRY,
    schedulers: [
      {
        id: PRICE_DAILY_SCHEDULER_ID,
        description: "market prices and histories after ESI's 11:05 UTC market refresh",
        payload: { task: "update" },
        cron: "15 11 * * *",
        priority: "routine",
      },
    ],
  }),
  backfill: declare({
    description: "long batch work cut into jobs: value-backfill ranges and runs, alliance corporations, alliance snapshots",
    payload: backfillPayload,
    key: (p) => {
      if (p.task === "values") return `backfill-values-${p.mode}-${p.fromId}-${p.toId}${p.runId ? `-${p.runId}` : ""}`;
      if (p.task === "values-run") return `backfill-values-run-${p.mode}-${p.fromDate ?? ""}-${p.toDate ?? ""}`;
      if (p.task === "alliance-corporations") return `backfill-alliance-corporations-${p.allianceId}`;
      return `backfill-alliance-snapshot-${p.date ?? "today"}`;
    },
    priority: "backfill",
    // Each job is one set-based statement over a range of 10k kills; three at once per process kept two
    // cores busiest in bench:backfill.
    worker: { concurrency: 3, lockDuration: 60_000 },
    // A value range that fails its last attempt counts as failed in its run (and is retried with it).
    retry: DEFAULT_RETRY,
    schedulers: [
      {
        id: FLAGGED_VALUES_SCHEDULER_ID,
        description: "re-values the kills new prices flagged (plans a flagged run, or resumes the unfinished one)",
        payload: { task: "values-run", mode: "flagged" },
        every: 10 * 60_000,
        priority: "routine",
      },
      {
        id: ALLIANCE_SNAPSHOT_SCHEDULER_ID,
        description: "member and corporation counts of every alliance, after ESI's downtime settles",
        payload: { task: "alliance-snapshot" },
        cron: "0 12 * * *",
        priority: "routine",
      },
    ],
  }),
  token: declare({
    description: "refreshes a member's EVE SSO token ahead of its expiry, one refresh per token at a time",
    payload: tokenPayload,
    key: (p) => `token-${p.characterId}`,
    priority: "credentials",
    worker: { concurrency: 4 },
    // The SSO's 5xx and timeouts: about ten minutes of retries; invalid_grant is never retried.
    retry: { attempts: 8, delay: 5_000, maxDelay: 120_000, jitter: 0.5 },
  }),
  sync: declare({
    description: "polls a member's (or a director's corporation's) recent kills with its token and hands new ones to the intake",
    payload: syncPayload,
    key: (p) => `sync-${p.kind}-${p.id}`,
    priority: "live",
    // Each member has its own ESI bucket (30 tokens / 15 min): a few polls at once are plenty.
    worker: { concurrency: 4, lockDuration: 60_000 },
    retry: DEFAULT_RETRY,
  }),
};

export type QueueName = keyof typeof QUEUES;
export type PayloadOf<Q extends QueueName> = z.infer<(typeof QUEUES)[Q]["payload"]>;

export const QUEUE_NAMES = Object.keys(QUEUES) as QueueName[];

export function isQueueName(name: string): name is QueueName {
  return Object.hasOwn(QUEUES, name);
}

/** The declaration of a queue, with its payload type. */
export function queueDeclaration<Q extends QueueName>(queue: Q): QueueDeclaration<(typeof QUEUES)[Q]["payload"]> {
  return QUEUES[queue] as QueueDeclaration<(typeof QUEUES)[Q]["payload"]>;
}

/** The work key of a payload (see QueueDeclaration.key). */
export function workKey<Q extends QueueName>(queue: Q, payload: PayloadOf<Q>): string {
  return queueDeclaration(queue).key(payload);
}

/** A default job scheduler by id, with its queue. */
export function schedulerDeclaration(id: string): { queue: QueueName; scheduler: SchedulerDeclaration<unknown> } {
  for (const queue of QUEUE_NAMES) {
    const scheduler = (QUEUES[queue] as QueueDeclaration).schedulers?.find((s) => s.id === id);
    if (scheduler) return { queue, scheduler };
  }
  throw new Error(`no default job scheduler '${id}'`);
}

export class InvalidPayloadError extends Error {
  override name = "InvalidPayloadError";
  constructor(
    readonly queue: QueueName,
    readonly issues: string,
  ) {
    super(`invalid ${queue} payload: ${issues}`);
  }
}

/** Validates a payload for a queue; throws InvalidPayloadError with every problem, path by path. */
export function parsePayload<Q extends QueueName>(queue: Q, data: unknown): PayloadOf<Q> {
  const result = QUEUES[queue].payload.safeParse(data);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new InvalidPayloadError(queue, issues);
  }
  return result.data as PayloadOf<Q>;
}
