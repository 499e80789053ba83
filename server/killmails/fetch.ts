// Fetching a killmail body from ESI: the exception (bulk sources carry bodies). Paced by the shared
// ESI budget; while ESI must not be called the job waits (delayed) without spending an attempt; a wrong
// id/hash pair (422) fails at once, 5xx and timeouts retry.
import type { Job } from "bullmq";
import { getKillmail, withEsi } from "../esi/index.ts";
import type { EsiKillmail } from "../esi/killmail-schema.ts";

export async function fetchKillmailFromEsi(killmailId: number, hash: string, job: Job): Promise<EsiKillmail> {
  const res = await withEsi(job, () => getKillmail(killmailId, hash));
  return res.data;
}
