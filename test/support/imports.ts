// Helpers of the import and sync tests: what the intake ledger and the killmail queue hold (ids, bodies,
// priorities), and storing simulator kills directly (as if the pipeline had done it).
import type { Job } from "bullmq";
import { sql } from "../../server/db/client.ts";
import type { EsiKillmail } from "../../server/esi/killmail-schema.ts";
import { batchBodies } from "../../server/killmails/intake-batches.ts";
import { storeKillmails } from "../../server/killmails/store.ts";
import { getQueue } from "../../server/queues/queue.ts";
import { killmailJobKey } from "../../server/queues/registry.ts";
import type { Simulator } from "../../sim/server.ts";

export const TEST_USER_AGENT = "killboard-tests/1.0 tests@localhost";

/** Environment pointing a child process at the simulator. */
export function simEnv(sim: Simulator): Record<string, string> {
  return {
    ESI_URL: sim.url,
    R2Z2_URL: `${sim.url}/r2z2`,
    ZKB_URL: `${sim.url}/zkb`,
    EVEREF_URL: `${sim.url}/everef`,
    ESI_USER_AGENT: TEST_USER_AGENT,
  };
}

export interface IntakeRow {
  id: number;
  hash: string;
  source: string;
  priority: number;
  hasBody: boolean;
}

export async function intakeRows(): Promise<IntakeRow[]> {
  return sql()<IntakeRow[]>`
    select killmail_id as id, hash, source, priority,
           body is not null or exists (select 1 from killmail_intake_batches b where b.job_key = i.job_key) as "hasBody"
    from killmail_intake i order by killmail_id`;
}

/** Pending killmail jobs (waiting + prioritized). */
export async function killmailJobs(): Promise<Job[]> {
  return getQueue("killmail").getJobs(["prioritized", "waiting"]);
}

/** A kill as the pending killmail jobs carry it: alone in its job, or in a batch job. */
export interface QueuedKill {
  killmailId: number;
  hash: string;
  /** The ESI body the job has: in its payload, or (batch jobs) in the ledger's row for the batch. */
  esi: unknown;
  /** Whether the body travels in the job's payload (Redis) rather than in the ledger. */
  bodyInPayload: boolean;
  priority: number | undefined;
  jobId: string;
  inBatch: boolean;
}

/** Every kill the pending killmail jobs carry, batch jobs expanded, in id order. */
export async function queuedKills(): Promise<QueuedKill[]> {
  const kills: QueuedKill[] = [];
  for (const job of await killmailJobs()) {
    const data = job.data as {
      killmailId?: number;
      hash?: string;
      esi?: unknown;
      batch?: { killmailId: number; hash: string; esi?: unknown }[];
    };
    const entries = data.batch ?? [{ killmailId: data.killmailId!, hash: data.hash!, esi: data.esi }];
    const kept = data.batch ? await batchBodies([killmailJobKey(data.batch.map((k) => k.killmailId))]) : new Map<number, unknown>();
    for (const k of entries) {
      kills.push({
        killmailId: k.killmailId,
        hash: k.hash,
        esi: k.esi ?? kept.get(k.killmailId),
        bodyInPayload: k.esi !== undefined,
        priority: job.opts.priority,
        jobId: String(job.id),
        inBatch: data.batch !== undefined,
      });
    }
  }
  return kills.sort((a, b) => a.killmailId - b.killmailId);
}

/** Stores kills as the pipeline would (so imports must skip them). */
export async function storeSimKills(kills: { esi: unknown; hash: string }[]): Promise<void> {
  await storeKillmails(
    sql(),
    kills.map((k) => ({ esi: k.esi as EsiKillmail, hash: k.hash })),
  );
}

/** The JSON a CLI run printed on stdout (with a readable failure when it is not JSON). */
export function parseJson<T>(stdout: string, stderr: string): T {
  try {
    return JSON.parse(stdout) as T;
  } catch {
    throw new Error(`expected JSON on stdout\nstdout:\n${stdout}\nstderr:\n${stderr}`);
  }
}
