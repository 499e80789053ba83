// refresh:affiliations: the characters we know (stored, not deleted, players) that appear in kills of
// the last N days — or all of them — go to the character queue as bulk affiliation jobs of up to
// 1,000 ids each (one ESI call per job). Characters not yet stored are left to the fan-out and
// scan:entities: an affiliation refresh would store a row without a name, hiding them from the scan.
import { sql } from "../db/client.ts";
import { NPC_CHARACTER_MAX } from "../eve/ids.ts";
import { enqueueJobs } from "../queues/enqueue.ts";

export const AFFILIATION_BATCH = 1_000;

export interface AffiliationOptions {
  /** Kills at or after this time count as recent (ignored with `all`). */
  since?: Date;
  all?: boolean;
  /** Ids per job (≤ 1,000, the ESI limit). */
  batch?: number;
  onProgress?: (characters: number, jobs: number) => void;
}

export interface AffiliationQueueResult {
  characters: number;
  jobs: number;
  since: string | null;
}

/** Streams the selected character ids in order and enqueues one affiliation job per 1,000 (backfill tier). */
export async function queueAffiliations(opts: AffiliationOptions): Promise<AffiliationQueueResult> {
  const batch = Math.min(opts.batch ?? AFFILIATION_BATCH, AFFILIATION_BATCH);
  const all = opts.all ?? false;
  if (!all && !opts.since) throw new Error("queueAffiliations needs `since` or `all`");
  const since = all ? null : opts.since!;
  const result: AffiliationQueueResult = { characters: 0, jobs: 0, since: since?.toISOString() ?? null };

  // The lowest kill id of the window bounds the attackers scan by its partition key.
  let minId = 0;
  if (since) {
    const [m] = await sql()<{ id: number | null }[]>`select min(killmail_id) as id from killmails where killmail_time >= ${since}`;
    if (m?.id == null) return result;
    minId = m.id;
  }
  const query = since
    ? sql()<{ id: number }[]>`
        select c.character_id as id from characters c
        where not c.deleted and c.character_id > ${NPC_CHARACTER_MAX} and c.character_id in (
          select victim_character_id from killmails where killmail_time >= ${since}
          union
          select a.character_id from attackers a join killmails k using (killmail_id)
          where a.killmail_id >= ${minId} and k.killmail_id >= ${minId} and k.killmail_time >= ${since})
        order by 1`
    : sql()<{ id: number }[]>`
        select character_id as id from characters where not deleted and character_id > ${NPC_CHARACTER_MAX} order by 1`;

  const pending: number[] = [];
  const flush = async (rest: boolean) => {
    const chunks: number[][] = [];
    while (pending.length >= batch || (rest && pending.length > 0)) chunks.push(pending.splice(0, batch));
    if (chunks.length === 0) return;
    const r = await enqueueJobs(
      "character",
      chunks.map((ids) => ({ affiliation: ids })),
      { priority: "backfill" },
    );
    result.jobs += r.added;
    opts.onProgress?.(result.characters, result.jobs);
  };
  for await (const rows of query.cursor(10 * batch)) {
    for (const r of rows) pending.push(r.id);
    result.characters += rows.length;
    await flush(false);
  }
  await flush(true);
  return result;
}
