// Alliance workflows: every alliance ESI lists → alliance jobs (missing or expired ones, or all);
// alliances we store → backfill jobs (task `alliance-corporations`), each listing one alliance's
// corporations from ESI and enqueueing the ones missing from the corporations table.
import type { Job } from "bullmq";
import { pgArray } from "../db/arrays.ts";
import { sql } from "../db/client.ts";
import { getAllianceCorporations, isNotFound, withEsi } from "../esi/index.ts";
import { NPC_CORPORATION_MAX } from "../eve/ids.ts";
import { enqueueJobs } from "../queues/enqueue.ts";
import { jobProgress } from "../queues/job-report.ts";
import { allianceCorporationsListName, cachedIdList, esiAllianceIds } from "./esi-lists.ts";

export interface QueueAlliancesResult {
  /** Alliances ESI lists. */
  listed: number;
  /** Of those, not in our table. */
  missing: number;
  /** Of those, stored but expired (or marked deleted although ESI lists them). */
  expired: number;
  /** Jobs added, and jobs already pending for the same alliance. */
  enqueued: number;
  pending: number;
  /** The ESI list came from our cache (ESI not asked again before its Expires). */
  cachedList: boolean;
}

/**
 * `GET /alliances` → alliance jobs (backfill tier) for the alliances missing from our table or expired; with
 * `all`, a forced (conditional) refresh of every listed alliance.
 */
export async function queueAlliances(opts: { all?: boolean } = {}): Promise<QueueAlliancesResult> {
  const list = await esiAllianceIds();
  const rows = await sql()<{ id: number; missing: boolean; deleted: boolean }[]>`
    select u.id, a.alliance_id is null as missing, coalesce(a.deleted, false) as deleted
    from unnest(${pgArray(list.ids)}::int4[]) as u(id) left join alliances a on a.alliance_id = u.id
    where ${opts.all ?? false}::boolean or a.alliance_id is null or a.deleted or a.expires_at is null or a.expires_at <= now()
    order by u.id`;
  // A stored alliance marked deleted is fresh to the processor: ESI listing it again forces a refresh.
  const payloads = rows.map((r) => (opts.all || r.deleted ? { id: r.id, force: true } : { id: r.id }));
  const r = payloads.length ? await enqueueJobs("alliance", payloads, { priority: "backfill" }) : { added: 0, deduplicated: 0 };
  const missing = rows.filter((x) => x.missing).length;
  return {
    listed: list.ids.length,
    missing,
    expired: opts.all ? 0 : rows.length - missing,
    enqueued: r.added,
    pending: r.deduplicated,
    cachedList: list.cached,
  };
}

export interface QueueAllianceCorporationsResult {
  alliances: number;
  enqueued: number;
  pending: number;
}

/** One backfill job (backfill tier) per alliance in our table (not deleted), in chunks. */
export async function queueAllianceCorporations(
  onProgress?: (done: number, total: number) => Promise<void> | void,
): Promise<QueueAllianceCorporationsResult> {
  const ids = (await sql()<{ id: number }[]>`select alliance_id as id from alliances where not deleted order by 1`).map((r) => r.id);
  const result = { alliances: ids.length, enqueued: 0, pending: 0 };
  const chunk = 1_000;
  for (let i = 0; i < ids.length; i += chunk) {
    const slice = ids.slice(i, i + chunk);
    const r = await enqueueJobs(
      "backfill",
      slice.map((allianceId) => ({ task: "alliance-corporations" as const, allianceId })),
      { priority: "backfill" },
    );
    result.enqueued += r.added;
    result.pending += r.deduplicated;
    await onProgress?.(Math.min(i + chunk, ids.length), ids.length);
  }
  return result;
}

export interface AllianceCorporationsResult {
  allianceId: number;
  /** Corporations ESI lists for the alliance. */
  corporations: number;
  /** Of those, missing from our table. */
  missing: number;
  enqueued: number;
  pending: number;
  /** ESI answered 404 (the alliance is gone): nothing to do. */
  notFound?: true;
}

/** Player corporations of `ids` that are not in the corporations table (set-based). */
export async function missingCorporations(ids: readonly number[]): Promise<number[]> {
  if (ids.length === 0) return [];
  const rows = await sql()<{ id: number }[]>`
    select distinct u.id from unnest(${pgArray(ids)}::int4[]) as u(id)
    where u.id > ${NPC_CORPORATION_MAX} and not exists (select 1 from corporations c where c.corporation_id = u.id)
    order by 1`;
  return rows.map((r) => r.id);
}

/** The `alliance-corporations` backfill task: list the alliance's corporations, enqueue the missing ones. */
export async function allianceCorporationsTask(payload: { allianceId: number }, job: Job): Promise<AllianceCorporationsResult> {
  const { allianceId } = payload;
  let ids: number[];
  try {
    ids = (await cachedIdList(allianceCorporationsListName(allianceId), () => withEsi(job, () => getAllianceCorporations(allianceId)))).ids;
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await jobProgress(job, 100, `ESI: alliance ${allianceId} not found (closed): nothing to do`);
    return { allianceId, corporations: 0, missing: 0, enqueued: 0, pending: 0, notFound: true };
  }
  await jobProgress(job, 50, `ESI lists ${ids.length} corporations in alliance ${allianceId}`);
  const missing = await missingCorporations(ids);
  const r = missing.length
    ? await enqueueJobs(
        "corporation",
        missing.map((id) => ({ id })),
        { priority: "backfill" },
      )
    : { added: 0, deduplicated: 0 };
  await jobProgress(
    job,
    100,
    `${missing.length} missing from our table: ${r.added} corporation jobs enqueued, ${r.deduplicated} already pending`,
  );
  return { allianceId, corporations: ids.length, missing: missing.length, enqueued: r.added, pending: r.deduplicated };
}
