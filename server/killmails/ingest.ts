// The killmail job: take the ESI body from the payload (the normal case: feeds and archives carry it)
// or from the intake ledger (a source delivered it after the job was queued) or, as the exception,
// fetch it from ESI (paced by the shared budget) after checking the kill is not already stored; then
// hand it to the batcher, which stores it with its values and fan-out in one transaction. A batch job
// (bulk sources) reads its kills' bodies from the ledger's batch row and does the same for each kill.
// A permanent failure (wrong hash, a body that is not this kill, data Postgres refuses) closes the
// intake row as failed so reconcile does not resurrect it.
import type { Job } from "bullmq";
import { UnrecoverableError } from "bullmq";
import { pgArray } from "../db/arrays.ts";
import { sql } from "../db/client.ts";
import { checkEsiKillmail, type EsiKillmail } from "../esi/killmail-schema.ts";
import { type KillmailBatchPayload, killmailBatchKey, type SingleKillmailPayload } from "../helpers/job-payloads.ts";
import { KillmailBatcher, PermanentStoreError, type StoreOutcome } from "./batcher.ts";
import { markIntakeFailed, markIntakeFailedMany, storedKillmailIds, submitKillmails } from "./intake.ts";
import { batchBodies, releaseBatchBodies } from "./intake-batches.ts";

export type IngestOutcome = StoreOutcome | "already-stored";

/** Fetches a killmail body from ESI; throws the ESI client's errors (permanent or retryable). */
export type KillmailFetcher = (killmailId: number, hash: string, job: Job) => Promise<EsiKillmail>;

let batcher: KillmailBatcher | undefined;

/** The process-wide batcher (one per worker process). */
export function killmailBatcher(): KillmailBatcher {
  batcher ??= new KillmailBatcher(sql, {
    maxBatch: Number(process.env.KILLMAIL_BATCH_SIZE ?? 500),
    maxWaitMs: Number(process.env.KILLMAIL_BATCH_WAIT_MS ?? 20),
  });
  return batcher;
}

/**
 * Bodies the ledger keeps for these kills (a source delivered them after a body-less job was queued, or
 * a batch row names them), checked against the ESI schema and the kill's id. One read of the rows and
 * one of the batch rows they name, however many kills.
 */
async function bodiesFromIntake(killmailIds: number[]): Promise<Map<number, EsiKillmail>> {
  const found = new Map<number, EsiKillmail>();
  if (killmailIds.length === 0) return found;
  const rows = await sql()<{ killmail_id: number; body: string | null; job_key: string | null }[]>`
    select killmail_id, body, job_key from killmail_intake where killmail_id = any(${pgArray(killmailIds)}::int8[])`;
  const batched = await batchBodies([...new Set(rows.filter((r) => !r.body && r.job_key).map((r) => r.job_key!))]);
  for (const row of rows) {
    const checked = checkEsiKillmail(row.body ? JSON.parse(row.body) : batched.get(row.killmail_id));
    if (checked.success && checked.data.killmail_id === row.killmail_id) found.set(row.killmail_id, checked.data);
  }
  return found;
}

export async function isStored(killmailId: number): Promise<boolean> {
  return (await storedKillmailIds([killmailId])).has(killmailId);
}

export async function ingestKillmail(payload: SingleKillmailPayload, job: Job, fetchKillmail: KillmailFetcher): Promise<IngestOutcome> {
  try {
    let esi = payload.esi;
    if (!esi) {
      if (await isStored(payload.killmailId)) return "already-stored";
      esi =
        (await bodiesFromIntake([payload.killmailId])).get(payload.killmailId) ??
        (await fetchKillmail(payload.killmailId, payload.hash, job));
      if (esi.killmail_id !== payload.killmailId) {
        throw new UnrecoverableError(`ESI returned killmail ${esi.killmail_id} for ${payload.killmailId}`);
      }
    }
    try {
      return await killmailBatcher().submit({ esi, hash: payload.hash });
    } catch (err) {
      if (err instanceof PermanentStoreError) throw new UnrecoverableError(err.message);
      throw err;
    }
  } catch (err) {
    const final = err instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (final && isFailure(err)) await markIntakeFailed(payload.killmailId, (err as Error).message);
    throw err;
  }
}

export interface BatchOutcome {
  stored: number;
  /** Already stored (by an earlier attempt, another job or another source). */
  existing: number;
  /** Bodies that failed validation: their intake rows are closed as failed, the rest is stored. */
  invalid: number;
  /** Valid bodies Postgres refused (a value out of range…): closed as failed in the ledger, like invalid ones. */
  refused: number;
  /** Kills whose body the ledger no longer held: put back in the intake, to be fetched from ESI. */
  requeued: number;
}

/**
 * A batch job: every body is validated on its own (a bad one fails only its kill, recorded in the
 * ledger), the valid kills go to the batcher together, and the job completes once all of them are
 * committed, or refused by Postgres one by one (failed in the ledger too). Any other store failure
 * fails the job, which retries whole (kills already stored count as existing); on its last attempt the
 * kills not stored are closed as failed in the ledger.
 */
export async function ingestKillmailBatch(payload: KillmailBatchPayload, job: Job): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { stored: 0, existing: 0, invalid: 0, refused: 0, requeued: 0 };
  const jobKey = killmailBatchKey(payload.batch.map((k) => k.killmailId));
  const kept = payload.batch.some((k) => k.esi === undefined) ? await batchBodies([jobKey]) : new Map<number, unknown>();
  const valid: { esi: EsiKillmail; hash: string }[] = [];
  const invalid: { problem: string; killmailId: number }[] = [];
  const bodiless: { killmailId: number; hash: string }[] = [];
  for (const kill of payload.batch) {
    const body = kill.esi ?? kept.get(kill.killmailId);
    if (body === undefined) {
      bodiless.push(kill);
      continue;
    }
    const parsed = checkEsiKillmail(body);
    const problem = !parsed.success
      ? `invalid ESI body: ${parsed.issue}`
      : parsed.data.killmail_id !== kill.killmailId
        ? `body is killmail ${parsed.data.killmail_id}, not ${kill.killmailId}`
        : undefined;
    if (problem === undefined && parsed.success) valid.push({ esi: parsed.data, hash: kill.hash });
    else invalid.push({ problem: problem!, killmailId: kill.killmailId });
  }
  if (bodiless.length > 0) {
    const resolved = await resolveBodiless(bodiless, job.opts.priority);
    valid.push(...resolved.found);
    outcome.existing += resolved.stored;
    outcome.requeued += resolved.requeued;
  }
  for (const [problem, kills] of Map.groupBy(invalid, (k) => k.problem)) {
    await markIntakeFailedMany(
      kills.map((k) => k.killmailId),
      problem,
    );
    outcome.invalid += kills.length;
  }
  const results = await Promise.allSettled(valid.map((kill) => killmailBatcher().submit(kill)));
  let failure: unknown;
  for (const r of results) {
    if (r.status === "fulfilled") outcome[r.value]++;
    else if (r.reason instanceof PermanentStoreError) {
      await markIntakeFailedMany([r.reason.killmailId], r.reason.message);
      outcome.refused++;
    } else failure ??= r.reason;
  }
  if (failure) {
    const final = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (final)
      await markIntakeFailedMany(
        valid.map((k) => k.esi.killmail_id),
        (failure as Error).message,
      );
    throw failure;
  }
  // The ledger kept this batch's bodies until its kills were stored (or failed, whose rows keep them).
  await releaseBatchBodies(jobKey);
  return outcome;
}

/**
 * Kills of a batch whose body the batch's ledger row no longer holds (it is released once the batch's
 * kills are stored, so normally: a retried job whose kills are stored). Stored ones count as existing;
 * a body kept elsewhere in the ledger (the kill's own row, or the batch reconcile moved it to) is used;
 * the rest go back to the intake as body-less kills, fetched from ESI.
 */
async function resolveBodiless(
  kills: { killmailId: number; hash: string }[],
  priority: number | undefined,
): Promise<{ found: { esi: EsiKillmail; hash: string }[]; stored: number; requeued: number }> {
  const resolved = { found: [] as { esi: EsiKillmail; hash: string }[], stored: 0, requeued: 0 };
  const toFetch: { killmailId: number; hash: string }[] = [];
  const storedIds = await storedKillmailIds(kills.map((k) => k.killmailId));
  const open = kills.filter((k) => !storedIds.has(k.killmailId));
  resolved.stored = kills.length - open.length;
  const kept = await bodiesFromIntake(open.map((k) => k.killmailId));
  for (const kill of open) {
    const esi = kept.get(kill.killmailId);
    if (esi) resolved.found.push({ esi, hash: kill.hash });
    else toFetch.push(kill);
  }
  if (toFetch.length > 0) resolved.requeued = (await submitKillmails(toFetch, { source: "reconcile", priority })).enqueued;
  return resolved;
}

/** Errors that end a job (not BullMQ's control-flow errors for delay/rate-limit/wait). */
function isFailure(err: unknown): boolean {
  const name = (err as Error)?.name;
  return name !== "DelayedError" && name !== "RateLimitError" && name !== "WaitingError";
}
