// Corporations and alliances: refreshed from ESI like characters (conditional, not before expiry);
// a 404 marks the row deleted (closed corporation, disbanded alliance) instead of failing.
import type { Job } from "bullmq";
import { sql } from "../db/client.ts";
import { getAlliance, getCorporation, isNotFound, withEsi } from "../esi/index.ts";
import type { RefreshOutcome } from "./characters.ts";
import { freshUntil } from "./ttl.ts";

interface Cached {
  etag: string | null;
  expires_at: Date | null;
  deleted: boolean;
}

const isFresh = (row: Cached | undefined) =>
  !!row && (row.deleted || (!!row.expires_at && row.expires_at.getTime() > Date.now()));

export async function refreshCorporation(id: number, job: Job, force = false): Promise<RefreshOutcome> {
  const [row] = await sql()<Cached[]>`select etag, expires_at, deleted from corporations where corporation_id = ${id}`;
  if (!force && isFresh(row)) return "fresh";
  try {
    const res = await withEsi(job, () => getCorporation(id, { etag: row?.etag ?? undefined }));
    if (res.status === "not-modified") {
      await sql()`update corporations set expires_at = ${freshUntil("corporation", res.expires)}, updated_at = now()
                  where corporation_id = ${id}`;
      return "not-modified";
    }
    const c = res.data;
    await sql()`
      insert into corporations (corporation_id, name, ticker, alliance_id, faction_id, ceo_id, member_count,
                                date_founded, deleted, etag, expires_at, updated_at)
      values (${id}, ${c.name}, ${c.ticker}, ${c.alliance_id ?? null}, ${c.enlisted_faction_id ?? null},
              ${c.ceo_id ?? null}, ${c.member_count}, ${c.date_founded ?? null}, false, ${res.etag ?? null},
              ${freshUntil("corporation", res.expires)}, now())
      on conflict (corporation_id) do update set
        name = excluded.name, ticker = excluded.ticker, alliance_id = excluded.alliance_id,
        faction_id = excluded.faction_id, ceo_id = excluded.ceo_id, member_count = excluded.member_count,
        date_founded = excluded.date_founded, deleted = false, etag = excluded.etag,
        expires_at = excluded.expires_at, updated_at = now()`;
    return "updated";
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await sql()`insert into corporations (corporation_id, deleted, updated_at) values (${id}, true, now())
                on conflict (corporation_id) do update set deleted = true, etag = null, expires_at = null, updated_at = now()`;
    return "deleted";
  }
}

export async function refreshAlliance(id: number, job: Job, force = false): Promise<RefreshOutcome> {
  const [row] = await sql()<Cached[]>`select etag, expires_at, deleted from alliances where alliance_id = ${id}`;
  if (!force && isFresh(row)) return "fresh";
  try {
    const res = await withEsi(job, () => getAlliance(id, { etag: row?.etag ?? undefined }));
    if (res.status === "not-modified") {
      await sql()`update alliances set expires_at = ${freshUntil("alliance", res.expires)}, updated_at = now()
                  where alliance_id = ${id}`;
      return "not-modified";
    }
    const a = res.data;
    await sql()`
      insert into alliances (alliance_id, name, ticker, executor_corporation_id, faction_id, date_founded,
                             deleted, etag, expires_at, updated_at)
      values (${id}, ${a.name}, ${a.ticker}, ${a.executor_corporation_id ?? null}, ${a.faction_id ?? null},
              ${a.date_founded}, false, ${res.etag ?? null}, ${freshUntil("alliance", res.expires)}, now())
      on conflict (alliance_id) do update set
        name = excluded.name, ticker = excluded.ticker, executor_corporation_id = excluded.executor_corporation_id,
        faction_id = excluded.faction_id, date_founded = excluded.date_founded, deleted = false,
        etag = excluded.etag, expires_at = excluded.expires_at, updated_at = now()`;
    return "updated";
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await sql()`insert into alliances (alliance_id, deleted, updated_at) values (${id}, true, now())
                on conflict (alliance_id) do update set deleted = true, etag = null, expires_at = null, updated_at = now()`;
    return "deleted";
  }
}
