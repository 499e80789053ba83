// Intake: the one door every killmail comes in by (live feed, HTTP posts, imports, reconcile). It
// records each id/hash (and body when the source gave one) in the killmail_intake ledger, in one
// statement per 1,000 kills, then enqueues the killmail jobs: one per kill, or (bulk sources,
// batchJobKills) batch jobs naming their kills, whose ledger bodies are kept as one row per batch job
// (intake-batches.ts). Kills already stored, or already carried by a queued job, are skipped; a kill
// that failed before is re-opened. The stored kill's transaction closes its ledger row. zKillboard's
// zkb blocks that come with kills are kept (zkb-blocks.ts).
import { pgArray } from "../db/arrays.ts";
import { sql } from "../db/client.ts";
import type { EsiKillmail } from "../esi/killmail-schema.ts";
import { config } from "../helpers/config.ts";
import { type EnqueueOptions, enqueueValidated } from "../queues/enqueue.ts";
import { KILLMAIL_BATCH_MAX } from "../queues/payloads.ts";
import { type PriorityTier, priorityOf } from "../queues/priority.ts";
import { missingWorkKeys } from "../queues/queue.ts";
import { killmailJobKey, type PayloadOf } from "../queues/registry.ts";
import type { ZkbBlock } from "../zkb/schemas.ts";
import { batchBodies, writeBatchBodies } from "./intake-batches.ts";
import { recordZkbBlocks } from "./zkb-blocks.ts";

export type IntakeSource = "r2z2" | "http" | "history" | "everef" | "zkb" | "sso" | "reconcile" | "cli" | "bench";

export interface IntakeItem {
  killmailId: number;
  hash: string;
  /** The ESI body, already validated by the caller's edge (esiKillmailSchema). */
  esi?: EsiKillmail;
  /** zKillboard's zkb block when the source gave one (R2Z2, the zKillboard API): kept in killmail_zkb. */
  zkb?: ZkbBlock;
}

export interface IntakeResult {
  /** Kills put in new jobs (one job each, or batch jobs). */
  enqueued: number;
  /** Kills whose job was already pending in Redis (same work key): nothing added. */
  deduplicated: number;
  /** Already stored: not recorded, not enqueued. */
  alreadyStored: number;
  /** Job id per accepted killmail id. */
  jobIds: Map<number, string>;
}

/** Each source's priority tier: people waiting first, then the live feed, history last. */
const SOURCE_TIERS: Record<IntakeSource, PriorityTier> = {
  http: "user",
  cli: "user",
  r2z2: "live",
  sso: "live",
  history: "backfill",
  everef: "backfill",
  zkb: "backfill",
  bench: "backfill",
  reconcile: "backfill",
};

export interface IntakeOptions {
  source: IntakeSource;
  /** Default: the source's tier. A number is a stored priority (a ledger row's, a batch job's). */
  priority?: PriorityTier | number;
  /**
   * Kills per batch job for kills that come with their body (bulk sources pass config().batchJobKills),
   * up to KILLMAIL_BATCH_MAX. Default 1: one job per kill (HTTP posts; body-less kills always).
   */
  batchJobKills?: number;
}

/** Records and enqueues killmails; items are taken as validated. Any number of them. */
export async function submitKillmails(items: IntakeItem[], opts: IntakeOptions): Promise<IntakeResult> {
  const priority = ledgerPriority(opts.priority ?? SOURCE_TIERS[opts.source]);
  const batchSize = Math.max(1, Math.min(opts.batchJobKills ?? 1, KILLMAIL_BATCH_MAX));
  const result: IntakeResult = { enqueued: 0, deduplicated: 0, alreadyStored: 0, jobIds: new Map() };
  const unique = new Map<number, IntakeItem>();
  for (const item of items) {
    const seen = unique.get(item.killmailId);
    if (!seen || (!seen.esi && item.esi)) unique.set(item.killmailId, item);
  }
  const all = [...unique.values()].sort((a, b) => a.killmailId - b.killmailId);
  // zKillboard's numbers are kept whether or not the kill is stored already (verify:zkb compares them).
  await recordZkbBlocks(
    items.filter((i): i is IntakeItem & { zkb: ZkbBlock } => i.zkb !== undefined),
    opts.source,
  );
  // Chunks are pipelined: the ledger write of one overlaps the enqueue of the previous one.
  let enqueueing: Promise<void> = Promise.resolve();
  for (let start = 0; start < all.length; start += 1000) {
    let chunk = all.slice(start, start + 1000);
    if (batchSize > 1) {
      // Batch keys are digests of their kills, so batches de-duplicate only when cut the same way:
      // leave out the kills already stored, and those a job in Redis already carries.
      const { stored, queued } = await screenForBatches(chunk);
      result.alreadyStored += stored.size;
      result.deduplicated += queued.size;
      chunk = chunk.filter((i) => !stored.has(i.killmailId) && !queued.has(i.killmailId));
    }
    const jobs = planJobs(chunk, batchSize);
    const open = await recordIntake(jobs, opts.source, priority);
    await enqueueing;
    // A kill stored since the check above stays in its batch (the worker finds it stored).
    result.alreadyStored += chunk.length - open.size;
    const openJobs = jobs.filter((j) => j.kind === "batch" || open.has(j.item.killmailId));
    enqueueing = enqueueIntakeJobs(openJobs, priority).then((added) => {
      result.enqueued += added.enqueued;
      result.deduplicated += added.deduplicated;
      for (const [id, jobId] of added.jobIds) result.jobIds.set(id, jobId);
    });
  }
  await enqueueing;
  return result;
}

/** Which of these kills are stored. */
export async function storedKillmailIds(killmailIds: readonly number[]): Promise<Set<number>> {
  if (killmailIds.length === 0) return new Set();
  const rows = await sql()<{ killmail_id: number }[]>`
    select killmail_id from killmails where killmail_id = any(${pgArray(killmailIds)}::int8[])`;
  return new Set(rows.map((r) => r.killmail_id));
}

/**
 * Of these kills: those stored, and those pending in the ledger whose job Redis still holds. A pending
 * kill recorded without a body gets the body this submission brings (its job reads it from the ledger
 * instead of fetching it from ESI).
 */
async function screenForBatches(items: IntakeItem[]): Promise<{ stored: Set<number>; queued: Set<number> }> {
  const list = pgArray(items.map((i) => i.killmailId));
  const stored = await storedKillmailIds(items.map((i) => i.killmailId));
  const pending = await sql()<{ killmail_id: number; job_key: string | null; has_body: boolean }[]>`
    select killmail_id, job_key, body is not null or job_key is not null as has_body from killmail_intake
    where killmail_id = any(${list}::int8[]) and status = 'pending'`;
  const missing = await missingWorkKeys("killmail", [...new Set(pending.map(intakeJobKey))]);
  const queued = pending.filter((r) => !missing.has(intakeJobKey(r)));
  const bodies = new Map(items.filter((i) => i.esi).map((i) => [i.killmailId, i.esi!]));
  const late = queued.filter((r) => !r.has_body && bodies.has(r.killmail_id)).map((r) => r.killmail_id);
  if (late.length > 0) {
    await sql()`
      update killmail_intake as ki set body = u.body
      from unnest(${pgArray(late)}::int8[], ${pgArray(late.map((id) => JSON.stringify(bodies.get(id))))}::text[]) as u(killmail_id, body)
      where ki.killmail_id = u.killmail_id and ki.body is null`;
  }
  return { stored, queued: new Set(queued.map((r) => r.killmail_id)) };
}

/** The work key of the job that carries a ledger row's kill: its batch job's, or its own. */
export function intakeJobKey(row: { killmail_id: number; job_key: string | null }): string {
  return row.job_key ?? killmailJobKey([row.killmail_id]);
}

/** The ledger keeps a job's priority as the number BullMQ got. */
function ledgerPriority(priority: PriorityTier | number): number {
  return typeof priority === "number" ? priority : priorityOf(priority);
}

/** What goes to Redis: a kill in its own job, or kills with bodies in one batch job under `key`. */
type PlannedJob = { kind: "single"; item: IntakeItem } | { kind: "batch"; key: string; items: IntakeItem[] };

function planJobs(items: IntakeItem[], batchSize: number): PlannedJob[] {
  if (batchSize <= 1) return items.map((item) => ({ kind: "single", item }));
  const jobs: PlannedJob[] = [];
  const withBody = items.filter((i) => i.esi);
  for (const item of items) if (!item.esi) jobs.push({ kind: "single", item });
  for (let i = 0; i < withBody.length; i += batchSize) {
    const group = withBody.slice(i, i + batchSize);
    if (group.length === 1) jobs.push({ kind: "single", item: group[0]! });
    else jobs.push({ kind: "batch", key: killmailJobKey(group.map((k) => k.killmailId)), items: group });
  }
  return jobs;
}

/** Adds the jobs (singles and batches); the ledger rows are already written. */
async function enqueueIntakeJobs(
  jobs: PlannedJob[],
  priority: number,
): Promise<{ enqueued: number; deduplicated: number; jobIds: Map<number, string> }> {
  const jobIds = new Map<number, string>();
  const counts = { enqueued: 0, deduplicated: 0, jobIds };
  const singles = jobs.filter((j) => j.kind === "single");
  const batches = jobs.filter((j) => j.kind === "batch");
  const add = async (group: PlannedJob[], payloads: PayloadOf<"killmail">[], opts: EnqueueOptions & { chunkSize: number }) => {
    if (group.length === 0) return;
    const added = await enqueueValidated("killmail", payloads, { priority, ...opts });
    // Counted in kills, whatever job carries them (keys are unique here, so jobs and results align).
    group.forEach((j, n) => {
      const items = j.kind === "single" ? [j.item] : j.items;
      for (const i of items) jobIds.set(i.killmailId, added.jobIds[n]!);
      if (added.isNew[n]) counts.enqueued += items.length;
      else counts.deduplicated += items.length;
    });
  };
  await add(
    singles,
    singles.map(({ item: i }) =>
      i.esi ? { killmailId: i.killmailId, hash: i.hash, esi: i.esi } : { killmailId: i.killmailId, hash: i.hash },
    ),
    { chunkSize: 500 },
  );
  // A batch job names its kills; their ledger bodies stay in the row written by recordIntake (the worker
  // reads them from there).
  await add(
    batches,
    batches.map((j) => ({ batch: j.items.map((i) => ({ killmailId: i.killmailId, hash: i.hash })) })),
    { chunkSize: 20 },
  );
  return counts;
}

/**
 * Writes ledger rows for kills not yet stored (re-opening failed ones, keeping the best body and the
 * highest priority, pointing at the job that now carries the kill); returns the ids that are open
 * (to be enqueued). A single kill's body goes in its row; a batch's bodies go first, as one row.
 */
async function recordIntake(jobs: PlannedJob[], source: string, priority: number): Promise<Set<number>> {
  await writeBatchBodies(jobs.filter((j) => j.kind === "batch"));
  const ids: number[] = [];
  const hashes: string[] = [];
  const bodies: (string | null)[] = [];
  const keys: (string | null)[] = [];
  for (const job of jobs) {
    const items = job.kind === "single" ? [job.item] : job.items;
    for (const i of items) {
      ids.push(i.killmailId);
      hashes.push(i.hash);
      bodies.push(job.kind === "single" && i.esi ? JSON.stringify(i.esi) : null);
      keys.push(job.kind === "batch" ? job.key : null);
    }
  }
  const rows = await sql()<{ killmail_id: number }[]>`
    insert into killmail_intake as ki (killmail_id, hash, source, priority, body, job_key)
    select u.killmail_id, u.hash, ${source}, ${priority}, u.body, u.job_key
    from unnest(${pgArray(ids)}::int8[], ${pgArray(hashes)}::text[], ${pgArray(bodies)}::text[],
                ${pgArray(keys)}::text[])
         as u(killmail_id, hash, body, job_key)
    where not exists (select 1 from killmails k where k.killmail_id = u.killmail_id)
    on conflict (killmail_id) do update set
      status = 'pending', error = null,
      hash = excluded.hash,
      body = coalesce(excluded.body, ki.body),
      job_key = excluded.job_key,
      priority = least(ki.priority, excluded.priority)
    returning killmail_id`;
  return new Set(rows.map((r) => r.killmail_id));
}

/** A pending intake row as reconcile reads it back. */
export interface IntakeRow {
  killmail_id: number;
  hash: string;
  priority: number;
  /** JSON text of the ESI body, when the source gave one and the kill was not batched. */
  body: string | null;
  /** The batch whose row keeps the body of a batched kill. */
  job_key: string | null;
}

/**
 * Re-enqueues pending ledger rows whose job Redis lost: kills with a body in batch jobs (their rows
 * point at the new batch), the others one job each. Returns the kills put back in the queue.
 */
export async function requeueIntakeRows(rows: IntakeRow[], batchSize = config().batchJobKills): Promise<number> {
  const batched = await batchBodies([...new Set(rows.filter((r) => !r.body && r.job_key).map((r) => r.job_key!))]);
  const byPriority = new Map<number, IntakeItem[]>();
  for (const row of rows) {
    const items = byPriority.get(row.priority) ?? [];
    // Bodies come back from storage: the worker validates each one again.
    const esi = (row.body ? JSON.parse(row.body) : batched.get(row.killmail_id)) as EsiKillmail | undefined;
    items.push(esi ? { killmailId: row.killmail_id, hash: row.hash, esi } : { killmailId: row.killmail_id, hash: row.hash });
    byPriority.set(row.priority, items);
  }
  let added = 0;
  for (const [priority, items] of byPriority) {
    const jobs = planJobs(items, batchSize);
    // The rows now point at the jobs that carry their kills (a kill alone keeps its body in its row).
    await writeBatchBodies(jobs.filter((j) => j.kind === "batch"));
    const ids: number[] = [];
    const keys: (string | null)[] = [];
    const bodies: (string | null)[] = [];
    for (const job of jobs) {
      for (const i of job.kind === "single" ? [job.item] : job.items) {
        ids.push(i.killmailId);
        keys.push(job.kind === "batch" ? job.key : null);
        bodies.push(job.kind === "single" && i.esi ? JSON.stringify(i.esi) : null);
      }
    }
    await sql()`
      update killmail_intake as ki set job_key = u.job_key, body = coalesce(ki.body, u.body)
      from unnest(${pgArray(ids)}::int8[], ${pgArray(keys)}::text[], ${pgArray(bodies)}::text[]) as u(killmail_id, job_key, body)
      where ki.killmail_id = u.killmail_id`;
    added += (await enqueueIntakeJobs(jobs, priority)).enqueued;
  }
  return added;
}

/**
 * Closes the ledger rows of these kills as failed, with the reason: a permanent failure (a body that is
 * not valid, data Postgres refuses, a wrong hash). Reconcile leaves them alone; a source that sends the
 * kill again re-opens its row. Kills stored meanwhile have no row any more.
 */
export async function markIntakeFailed(killmailIds: readonly number[], error: string): Promise<void> {
  if (killmailIds.length === 0) return;
  await sql()`update killmail_intake set status = 'failed', error = ${error.slice(0, 1000)}
              where killmail_id = any(${pgArray(killmailIds)}::int8[])`;
}

/**
 * How the ledger's `error` of a kill whose id/hash pair ESI refused (422, or 404) begins. POST
 * /api/killmails reads it back (postState): a repost of that pair is answered without asking ESI again.
 */
export const REJECTED_PAIR = "ESI rejected this id/hash pair";

/**
 * Closes the ledger row of a kill whose id/hash pair ESI refused as failed, with the reason (which
 * begins with REJECTED_PAIR). Only while the row still names this hash: a post that brought another hash
 * for the same id meanwhile (its job was de-duplicated into the one that just failed) keeps the row
 * pending, and reconcile queues the new pair.
 */
export async function markPairRejected(killmailId: number, hash: string, reason: string): Promise<void> {
  await sql()`update killmail_intake set status = 'failed', error = ${reason.slice(0, 1000)}
              where killmail_id = ${killmailId} and hash = ${hash}`;
}

/** What a post of this kill would cause: nothing new (stored, queued, a pair ESI refused), or work. */
export type PostState =
  | { kind: "stored" }
  /** Pending in the ledger with this hash, and a job in Redis carries it: a repost adds nothing. */
  | { kind: "queued" }
  /** ESI refused this very id/hash pair: asking again cannot help. */
  | { kind: "known-bad"; reason: string }
  /** Anything else: the kill must be looked up (an ESI fetch, unless a body comes with it). */
  | { kind: "new" };

/**
 * One read of the ledger (and, for a pending kill, one Redis lookup) that tells what a post of this kill
 * would cost. `hash` undefined (a zKillboard URL, hash not known yet): only "stored" or "new".
 */
export async function postState(killmailId: number, hash: string | undefined): Promise<PostState> {
  const [row] = await sql()<
    { stored: boolean; hash: string | null; status: string | null; error: string | null; job_key: string | null }[]
  >`
    select exists (select 1 from killmails where killmail_id = ${killmailId}) as stored,
           ki.hash, ki.status, ki.error, ki.job_key
    from (values (1)) as one (x) left join killmail_intake ki on ki.killmail_id = ${killmailId}`;
  if (row!.stored) return { kind: "stored" };
  if (hash === undefined || row!.hash !== hash) return { kind: "new" };
  if (row!.status === "failed" && row!.error?.startsWith(REJECTED_PAIR)) return { kind: "known-bad", reason: row!.error };
  if (row!.status === "pending") {
    const key = intakeJobKey({ killmail_id: killmailId, job_key: row!.job_key });
    if ((await missingWorkKeys("killmail", [key])).size === 0) return { kind: "queued" };
  }
  return { kind: "new" };
}

/**
 * Notes why these kills are not stored yet after their job gave up on a transient failure (a lost
 * connection, a timeout): the rows stay pending, so reconcile queues them again, and the reason is
 * there for an operator to see.
 */
export async function noteIntakeError(killmailIds: readonly number[], error: string): Promise<void> {
  if (killmailIds.length === 0) return;
  await sql()`update killmail_intake set error = ${error.slice(0, 1000)}
              where killmail_id = any(${pgArray(killmailIds)}::int8[]) and status = 'pending'`;
}
