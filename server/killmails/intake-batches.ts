// The bodies of batch jobs' kills, kept by the intake ledger as one row per batch
// (killmail_intake_batches, one JSON array, lz4): written with the batch's ledger rows, read back by
// reconcile and by a job that lacks a body, dropped once no ledger row names the batch.
import { pgArray } from "../db/arrays.ts";
import { sql } from "../db/client.ts";

/** The batches' bodies, one row per batch (a parameter each: no array literal to escape and parse). */
export async function writeBatchBodies(batches: { key: string; items: { esi?: unknown }[] }[]): Promise<void> {
  const rows = batches.map((b) => ({ job_key: b.key, bodies: JSON.stringify(b.items.map((i) => i.esi)) }));
  if (rows.length === 0) return;
  const db = sql();
  await db`insert into killmail_intake_batches ${db(rows, "job_key", "bodies")} on conflict (job_key) do nothing`;
}

/** The bodies kept for these batches (JSON text of each), by killmail id. */
export async function batchBodies(jobKeys: string[]): Promise<Map<number, unknown>> {
  const bodies = new Map<number, unknown>();
  if (jobKeys.length === 0) return bodies;
  const rows = await sql()<{ bodies: string }[]>`
    select bodies from killmail_intake_batches where job_key = any(${pgArray(jobKeys)}::text[])`;
  for (const row of rows) {
    for (const body of JSON.parse(row.bodies) as { killmail_id?: unknown }[]) {
      if (typeof body?.killmail_id === "number") bodies.set(body.killmail_id, body);
    }
  }
  return bodies;
}

/** Drops a batch's bodies once no ledger row (pending or failed) names the batch any more. */
export async function releaseBatchBodies(jobKey: string): Promise<void> {
  await sql()`
    delete from killmail_intake_batches b where b.job_key = ${jobKey}
      and not exists (select 1 from killmail_intake i where i.job_key = ${jobKey})`;
}

/**
 * Drops the bodies of batches no ledger row names (their job finished without releasing them, or
 * their kills were re-batched); rows younger than a minute are left to the intake writing them.
 */
export async function dropOrphanBatchBodies(): Promise<number> {
  const res = await sql()`
    delete from killmail_intake_batches b
    where b.created_at < now() - interval '1 minute'
      and not exists (select 1 from killmail_intake i where i.job_key = b.job_key)`;
  return res.count;
}
