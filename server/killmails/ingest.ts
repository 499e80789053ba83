// The killmail job, one path for a single kill and a batch job alike (a single kill is a batch of one):
// find each kill's body (bodies.ts: payload → ledger bodies → ESI), validate each body on its own, hand
// the valid kills to the store collector (stored with values and fan-out in shared store transactions),
// and settle every kill by one failure policy:
//  - permanent (a body that is not valid or not this kill, data Postgres refuses, a wrong id/hash at
//    ESI): that kill's ledger row is closed as failed with the reason; the job's other kills go on. A
//    pair ESI refused (422/404) is marked as such (REJECTED_PAIR), so that reposting it over HTTP is
//    answered without asking ESI again;
//  - transient (a lost connection, a timeout, ESI 5xx): the job fails this attempt and BullMQ retries it
//    with backoff; when it gives up, its kills' ledger rows stay pending, with the reason noted, and
//    reconcile queues them again: a transient fault never becomes a lost kill;
//  - "ESI must not be called now": the job waits (delayed) without spending an attempt.
// Kills that only ESI has are fetched inline when the job carries one kill; a batch job hands them back
// to the intake as jobs of their own, so one slow fetch never holds up a batch.
import { type Job, UnrecoverableError } from "bullmq";
import { sql } from "../db/client.ts";
import { InvalidError, NotFoundError } from "../esi/errors.ts";
import { checkEsiKillmail, type EsiKillmail } from "../esi/killmail-schema.ts";
import { config } from "../helpers/config.ts";
import { jobProgress } from "../queues/job-report.ts";
import { isControlFlowError, isFinalAttempt, isPermanentFailure } from "../queues/outcome.ts";
import { killsOf, type PayloadOf, workKey } from "../queues/registry.ts";
import { findBodies, type JobKill } from "./bodies.ts";
import { markIntakeFailed, markPairRejected, noteIntakeError, REJECTED_PAIR, submitKillmails } from "./intake.ts";
import { releaseBatchBodies } from "./intake-batches.ts";
import { PermanentStoreError, StoreCollector } from "./store-collector.ts";

/** Fetches a killmail body from ESI; throws the ESI client's errors (permanent or retryable). */
export type KillmailFetcher = (killmailId: number, hash: string, job: Job) => Promise<EsiKillmail>;

export interface IngestOutcome {
  /** Kills this job stored. */
  stored: number;
  /** Kills already stored (by an earlier attempt, another job or another source). */
  existing: number;
  /** Bodies that failed validation: their ledger rows are closed as failed. */
  invalid: number;
  /** Valid bodies Postgres refused (a value out of range…), or kills ESI refused: closed as failed. */
  refused: number;
  /** Kills of a batch job whose body only ESI has: handed back to the intake as jobs of their own. */
  requeued: number;
}

let collector: StoreCollector | undefined;

/** The process-wide store collector (one per worker process). */
export function storeCollector(): StoreCollector {
  const cfg = config();
  collector ??= new StoreCollector(sql, { maxKills: cfg.storeTransactionKills, maxWaitMs: cfg.storeTransactionWaitMs });
  return collector;
}

/** A kill that cannot be stored, ever, and why. */
interface Refusal {
  killmailId: number;
  reason: string;
  kind: "invalid" | "refused";
  /** The hash ESI refused together with this id (422/404): the pair is remembered as bad. */
  rejectedHash?: string;
}

/** The reason to record when ESI refused a kill's id/hash pair (422, or 404), else undefined. */
function esiRejection(err: unknown): string | undefined {
  if (!(err instanceof InvalidError || err instanceof NotFoundError)) return undefined;
  const { upstream, status } = err.where;
  return upstream === "esi" && (status === 422 || status === 404) ? `${REJECTED_PAIR}: ${err.message}` : undefined;
}

function checkBody(kill: JobKill, body: unknown): { esi: EsiKillmail } | Refusal {
  const parsed = checkEsiKillmail(body);
  if (!parsed.success) return { killmailId: kill.killmailId, reason: `invalid ESI body: ${parsed.issue}`, kind: "invalid" };
  if (parsed.data.killmail_id !== kill.killmailId) {
    return { killmailId: kill.killmailId, reason: `body is killmail ${parsed.data.killmail_id}, not ${kill.killmailId}`, kind: "invalid" };
  }
  return { esi: parsed.data };
}

export async function ingestKillmailJob(payload: PayloadOf<"killmail">, job: Job, fetchKillmail: KillmailFetcher): Promise<IngestOutcome> {
  const outcome: IngestOutcome = { stored: 0, existing: 0, invalid: 0, refused: 0, requeued: 0 };
  const kills = killsOf(payload);
  const jobKey = workKey("killmail", payload);
  const valid: { esi: EsiKillmail; hash: string }[] = [];
  const refusals: Refusal[] = [];
  let pending: readonly JobKill[] = kills;
  try {
    const bodies = await findBodies(kills, jobKey);
    outcome.existing += bodies.stored.length;
    const withBodies = bodies.found.map(({ kill, body }) => ({ kill, checked: checkBody(kill, body) }));
    if (bodies.missing.length > 0 && kills.length === 1) {
      const kill = bodies.missing[0]!;
      try {
        withBodies.push({ kill, checked: checkBody(kill, await fetchKillmail(kill.killmailId, kill.hash, job)) });
      } catch (err) {
        if (!isPermanentFailure(err)) throw err;
        const rejected = esiRejection(err);
        refusals.push(
          rejected
            ? { killmailId: kill.killmailId, reason: rejected, kind: "refused", rejectedHash: kill.hash }
            : { killmailId: kill.killmailId, reason: (err as Error).message, kind: "refused" },
        );
      }
    } else if (bodies.missing.length > 0) {
      const priority = job.opts.priority;
      const bodiless = bodies.missing.map(({ killmailId, hash }) => ({ killmailId, hash }));
      const requeued = await submitKillmails(bodiless, { source: "reconcile", ...(priority ? { priority } : {}) });
      outcome.requeued += requeued.enqueued + requeued.deduplicated;
      outcome.existing += requeued.alreadyStored;
    }
    for (const { kill, checked } of withBodies) {
      if ("esi" in checked) valid.push({ esi: checked.esi, hash: kill.hash });
      else refusals.push(checked);
    }
    pending = valid.map((k) => ({ killmailId: k.esi.killmail_id, hash: k.hash }));
    const results = await Promise.allSettled(valid.map((kill) => storeCollector().submit(kill)));
    let transient: unknown;
    const unsettled: number[] = [];
    results.forEach((r, i) => {
      if (r.status === "fulfilled") outcome[r.value]++;
      else if (r.reason instanceof PermanentStoreError)
        refusals.push({ killmailId: r.reason.killmailId, reason: r.reason.message, kind: "refused" });
      else {
        transient ??= r.reason;
        unsettled.push(valid[i]!.esi.killmail_id);
      }
    });
    pending = pending.filter((k) => unsettled.includes(k.killmailId));
    await settleRefusals(refusals, outcome);
    if (transient !== undefined) throw transient;
  } catch (err) {
    if (!isControlFlowError(err) && isFinalAttempt(job, err)) {
      // Retries are used up on a transient fault: the kills stay pending in the ledger for reconcile.
      await noteIntakeError(
        pending.map((k) => k.killmailId),
        `gave up after ${job.attemptsMade + 1} attempts: ${(err as Error).message}`,
      );
    }
    throw err;
  }
  // The ledger kept this batch job's bodies until its kills were stored (or failed, whose rows keep them).
  if (kills.length > 1) {
    await releaseBatchBodies(jobKey);
    // An import's batch: what became of its kills, for the dashboard's job view.
    const counts = Object.entries(outcome).filter(([, n]) => n > 0);
    await jobProgress(job, 100, `${kills.length} kills: ${counts.map(([what, n]) => `${n} ${what}`).join(", ") || "nothing to do"}`);
  }
  if (outcome.stored + outcome.existing + outcome.requeued === 0 && refusals.length > 0) {
    // Nothing of this job could be stored: it fails, with the reason, where an operator looks for failures.
    throw new UnrecoverableError(refusals[0]!.reason);
  }
  return outcome;
}

/** Closes the ledger rows of kills that can never be stored, grouped by reason. */
async function settleRefusals(refusals: Refusal[], outcome: IngestOutcome): Promise<void> {
  for (const r of refusals) {
    if (r.rejectedHash === undefined) continue;
    await markPairRejected(r.killmailId, r.rejectedHash, r.reason);
    outcome[r.kind]++;
  }
  const others = refusals.filter((r) => r.rejectedHash === undefined);
  for (const [reason, group] of Map.groupBy(others, (r) => r.reason)) {
    await markIntakeFailed(
      group.map((r) => r.killmailId),
      reason,
    );
    for (const r of group) outcome[r.kind]++;
  }
}
