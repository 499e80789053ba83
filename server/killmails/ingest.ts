// The killmail job: take the ESI body from the payload (the normal case: feeds and archives carry it)
// or, as the exception, fetch it from ESI (paced by the shared budget) after checking the kill is not
// already stored; then hand it to the batcher, which stores it with its values and fan-out in one
// transaction. A permanent failure (wrong hash, a body that is not this kill) closes the intake row
// as failed so reconcile does not resurrect it.
import type { Job } from "bullmq";
import { UnrecoverableError } from "bullmq";
import { sql } from "../db/client.ts";
import type { EsiKillmail } from "../esi/killmail-schema.ts";
import type { PayloadOf } from "../helpers/queue.ts";
import { KillmailBatcher, type StoreOutcome } from "./batcher.ts";
import { markIntakeFailed } from "./intake.ts";

export type IngestOutcome = StoreOutcome | "already-stored";

/** Fetches a killmail body from ESI; throws the ESI client's errors (permanent or retryable). */
export type KillmailFetcher = (killmailId: number, hash: string, job: Job) => Promise<EsiKillmail>;

let batcher: KillmailBatcher | undefined;

/** The process-wide batcher (one per worker process). */
export function killmailBatcher(): KillmailBatcher {
  return (batcher ??= new KillmailBatcher(sql, {
    maxBatch: Number(process.env.KILLMAIL_BATCH_SIZE ?? 500),
    maxWaitMs: Number(process.env.KILLMAIL_BATCH_WAIT_MS ?? 20),
  }));
}

export async function isStored(killmailId: number): Promise<boolean> {
  const rows = await sql()`select 1 from killmails where killmail_id = ${killmailId}`;
  return rows.length > 0;
}

export async function ingestKillmail(
  payload: PayloadOf<"killmail">,
  job: Job,
  fetchKillmail: KillmailFetcher,
): Promise<IngestOutcome> {
  try {
    let esi = payload.esi;
    if (!esi) {
      if (await isStored(payload.killmailId)) return "already-stored";
      esi = await fetchKillmail(payload.killmailId, payload.hash, job);
      if (esi.killmail_id !== payload.killmailId) {
        throw new UnrecoverableError(`ESI returned killmail ${esi.killmail_id} for ${payload.killmailId}`);
      }
    }
    return await killmailBatcher().submit({ esi, hash: payload.hash });
  } catch (err) {
    const final =
      err instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (final && isFailure(err)) await markIntakeFailed(payload.killmailId, (err as Error).message);
    throw err;
  }
}

/** Errors that end a job (not BullMQ's control-flow errors for delay/rate-limit/wait). */
function isFailure(err: unknown): boolean {
  const name = (err as Error)?.name;
  return name !== "DelayedError" && name !== "RateLimitError" && name !== "WaitingError";
}
