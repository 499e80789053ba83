// Characters: refresh one from ESI (conditional on its stored ETag, never before it expires; a 404
// means biomassed: marked deleted, not an error), and bulk affiliation refreshes (corporation/alliance
// of up to 1,000 characters per ESI call) that store what changed.
import type { Job } from "bullmq";
import { sql } from "../db/client.ts";
import { pgArray } from "../db/arrays.ts";
import { getCharacter, isNotFound, postCharacterAffiliation, withEsi } from "../esi/index.ts";
import { freshUntil } from "./ttl.ts";

export type RefreshOutcome = "fresh" | "updated" | "not-modified" | "deleted";

interface Cached {
  etag: string | null;
  expires_at: Date | null;
  deleted: boolean;
}

export async function refreshCharacter(id: number, job: Job, force = false): Promise<RefreshOutcome> {
  const [row] = await sql()<Cached[]>`select etag, expires_at, deleted from characters where character_id = ${id}`;
  if (!force && row && (row.deleted || (row.expires_at && row.expires_at.getTime() > Date.now()))) return "fresh";
  try {
    const res = await withEsi(job, () => getCharacter(id, { etag: row?.etag ?? undefined }));
    if (res.status === "not-modified") {
      await sql()`update characters set expires_at = ${freshUntil("character", res.expires)}, updated_at = now()
                  where character_id = ${id}`;
      return "not-modified";
    }
    const c = res.data;
    await sql()`
      insert into characters (character_id, name, corporation_id, alliance_id, faction_id, security_status,
                              birthday, deleted, etag, expires_at, updated_at)
      values (${id}, ${c.name}, ${c.corporation_id}, ${c.alliance_id ?? null}, ${c.faction_id ?? null},
              ${c.security_status ?? null}, ${c.birthday}, false, ${res.etag ?? null},
              ${freshUntil("character", res.expires)}, now())
      on conflict (character_id) do update set
        name = excluded.name, corporation_id = excluded.corporation_id, alliance_id = excluded.alliance_id,
        faction_id = excluded.faction_id, security_status = excluded.security_status, birthday = excluded.birthday,
        deleted = false, etag = excluded.etag, expires_at = excluded.expires_at, updated_at = now()`;
    return "updated";
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await sql()`
      insert into characters (character_id, deleted, expires_at, updated_at) values (${id}, true, null, now())
      on conflict (character_id) do update set deleted = true, etag = null, expires_at = null, updated_at = now()`;
    return "deleted";
  }
}

export interface AffiliationResult {
  checked: number;
  changed: number;
  added: number;
}

/** Refreshes corporation/alliance/faction of many characters (any count; 1,000 per ESI call). */
export async function refreshAffiliations(ids: number[], job: Job): Promise<AffiliationResult> {
  const rows = await withEsi(job, () => postCharacterAffiliation(ids));
  if (rows.length === 0) return { checked: 0, changed: 0, added: 0 };
  const [result] = await sql()<{ changed: number; added: number }[]>`
    with a as (
      select * from unnest(${pgArray(rows.map((r) => r.character_id))}::int4[],
                           ${pgArray(rows.map((r) => r.corporation_id))}::int4[],
                           ${pgArray(rows.map((r) => r.alliance_id ?? null))}::int4[],
                           ${pgArray(rows.map((r) => r.faction_id ?? null))}::int4[])
        as u(character_id, corporation_id, alliance_id, faction_id)
    ), upserted as (
      insert into characters as c (character_id, corporation_id, alliance_id, faction_id, updated_at)
      select character_id, corporation_id, alliance_id, faction_id, now() from a
      on conflict (character_id) do update set
        corporation_id = excluded.corporation_id, alliance_id = excluded.alliance_id,
        faction_id = excluded.faction_id, updated_at = now()
      where (c.corporation_id, c.alliance_id, c.faction_id) is distinct from
            (excluded.corporation_id, excluded.alliance_id, excluded.faction_id)
      returning (xmax = 0) as inserted
    )
    select count(*) filter (where not inserted)::int as changed, count(*) filter (where inserted)::int as added
    from upserted`;
  return { checked: rows.length, changed: result!.changed, added: result!.added };
}
