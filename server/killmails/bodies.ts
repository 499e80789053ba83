// Where a kill's body comes from, in this order: the job's payload; the ledger bodies (the batch job's
// row in killmail_intake_batches, then the kill's own intake row — a source may have delivered the body
// after the job was queued, or reconcile may have moved the kill to another batch job); and, as the
// exception, ESI (the caller's choice, see ingest.ts). Kills without a body that are already stored
// need none.
import { pgArray } from "../db/arrays.ts";
import { sql } from "../db/client.ts";
import { storedKillmailIds } from "./intake.ts";
import { batchBodies } from "./intake-batches.ts";

/** A kill a job names, with its body when the payload carries one. */
export interface JobKill {
  killmailId: number;
  hash: string;
  esi?: unknown;
}

export interface FoundBodies {
  /** Kills with a body (not validated yet), in the job's order. */
  found: { kill: JobKill; body: unknown }[];
  /** Kills without a body anywhere that are stored already. */
  stored: JobKill[];
  /** Kills without a body anywhere, not stored: only ESI has them. */
  missing: JobKill[];
}

/** Bodies the intake ledger keeps for these kills (their own row's, or the batch row it names). */
async function ledgerBodies(killmailIds: number[]): Promise<Map<number, unknown>> {
  const found = new Map<number, unknown>();
  if (killmailIds.length === 0) return found;
  const rows = await sql()<{ killmail_id: number; body: string | null; job_key: string | null }[]>`
    select killmail_id, body, job_key from killmail_intake where killmail_id = any(${pgArray(killmailIds)}::int8[])`;
  const batched = await batchBodies([...new Set(rows.filter((r) => !r.body && r.job_key).map((r) => r.job_key!))]);
  for (const row of rows) {
    const body = row.body ? JSON.parse(row.body) : batched.get(row.killmail_id);
    if (body !== undefined) found.set(row.killmail_id, body);
  }
  return found;
}

/** Finds the body of each kill of the job keyed `jobKey` (payload, then ledger), and which need ESI. */
export async function findBodies(kills: readonly JobKill[], jobKey: string): Promise<FoundBodies> {
  const result: FoundBodies = { found: [], stored: [], missing: [] };
  let lacking = kills.filter((k) => k.esi === undefined);
  const bodies = new Map<number, unknown>();
  if (lacking.length > 0 && kills.length > 1) {
    // A batch job's bodies: one row, read once.
    for (const [id, body] of await batchBodies([jobKey])) bodies.set(id, body);
    lacking = lacking.filter((k) => !bodies.has(k.killmailId));
  }
  if (lacking.length > 0) {
    const stored = await storedKillmailIds(lacking.map((k) => k.killmailId));
    result.stored = lacking.filter((k) => stored.has(k.killmailId));
    lacking = lacking.filter((k) => !stored.has(k.killmailId));
    for (const [id, body] of await ledgerBodies(lacking.map((k) => k.killmailId))) bodies.set(id, body);
  }
  const storedIds = new Set(result.stored.map((k) => k.killmailId));
  for (const kill of kills) {
    const body = kill.esi ?? bodies.get(kill.killmailId);
    if (body !== undefined) result.found.push({ kill, body });
    else if (!storedIds.has(kill.killmailId)) result.missing.push(kill);
  }
  return result;
}
