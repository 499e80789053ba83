// Corporations and alliances: refreshed from ESI like characters (conditional, not before expiry);
// a 404 marks the row deleted (closed corporation, disbanded alliance) instead of failing.
import type { Job } from "bullmq";
import { sql } from "../db/client.ts";
import { getAlliance, getCorporation } from "../esi/index.ts";
import { type RefreshOutcome, refreshEntity } from "./refresh.ts";

export function refreshCorporation(id: number, job: Job, force = false): Promise<RefreshOutcome> {
  return refreshEntity(id, job, force, {
    kind: "corporation",
    fetch: (etag) => getCorporation(id, { etag }),
    store: (c, etag, expiresAt) => sql()`
      insert into corporations (corporation_id, name, ticker, alliance_id, faction_id, ceo_id, member_count,
                                date_founded, deleted, etag, expires_at, detail_at, updated_at)
      values (${id}, ${c.name}, ${c.ticker}, ${c.alliance_id ?? null}, ${c.enlisted_faction_id ?? null},
              ${c.ceo_id ?? null}, ${c.member_count}, ${c.date_founded ?? null}, false, ${etag}, ${expiresAt}, now(), now())
      on conflict (corporation_id) do update set
        name = excluded.name, ticker = excluded.ticker, alliance_id = excluded.alliance_id,
        faction_id = excluded.faction_id, ceo_id = excluded.ceo_id, member_count = excluded.member_count,
        date_founded = excluded.date_founded, deleted = false, etag = excluded.etag,
        expires_at = excluded.expires_at, detail_at = now(), updated_at = now()`,
  });
}

export function refreshAlliance(id: number, job: Job, force = false): Promise<RefreshOutcome> {
  return refreshEntity(id, job, force, {
    kind: "alliance",
    fetch: (etag) => getAlliance(id, { etag }),
    store: (a, etag, expiresAt) => sql()`
      insert into alliances (alliance_id, name, ticker, executor_corporation_id, faction_id, date_founded,
                             deleted, etag, expires_at, detail_at, updated_at)
      values (${id}, ${a.name}, ${a.ticker}, ${a.executor_corporation_id ?? null}, ${a.faction_id ?? null},
              ${a.date_founded}, false, ${etag}, ${expiresAt}, now(), now())
      on conflict (alliance_id) do update set
        name = excluded.name, ticker = excluded.ticker, executor_corporation_id = excluded.executor_corporation_id,
        faction_id = excluded.faction_id, date_founded = excluded.date_founded, deleted = false,
        etag = excluded.etag, expires_at = excluded.expires_at, detail_at = now(), updated_at = now()`,
  });
}
