// Characters: refresh one from ESI (conditional on its stored ETag, never before it expires; a 404
// means biomassed: marked deleted, not an error), and bulk affiliation refreshes (corporation/alliance
// of up to 1,000 characters per ESI call) that store what changed.
import type { Job } from "bullmq";
import { pgArray } from "../db/arrays.ts";
import { sql } from "../db/client.ts";
import { getCharacter, postCharacterAffiliation, withEsi } from "../esi/index.ts";
import { type RefreshOutcome, refreshEntity } from "./refresh.ts";

export function refreshCharacter(id: number, job: Job, force = false): Promise<RefreshOutcome> {
  return refreshEntity(id, job, force, {
    kind: "character",
    fetch: (etag) => getCharacter(id, { etag }),
    store: (c, etag, expiresAt) => sql()`
      insert into characters (character_id, name, corporation_id, alliance_id, faction_id, security_status,
                              birthday, deleted, etag, expires_at, detail_at, updated_at)
      values (${id}, ${c.name}, ${c.corporation_id}, ${c.alliance_id ?? null}, ${c.faction_id ?? null},
              ${c.security_status ?? null}, ${c.birthday}, false, ${etag}, ${expiresAt}, now(), now())
      on conflict (character_id) do update set
        name = excluded.name, corporation_id = excluded.corporation_id, alliance_id = excluded.alliance_id,
        faction_id = excluded.faction_id, security_status = excluded.security_status, birthday = excluded.birthday,
        deleted = false, etag = excluded.etag, expires_at = excluded.expires_at, detail_at = now(), updated_at = now()`,
  });
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
