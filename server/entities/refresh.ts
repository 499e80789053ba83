// The detail cycle characters, corporations and alliances share (their own ESI route, after their name
// was resolved in bulk): skip while the stored detail is fresh (or the entity deleted) unless forced;
// fetch conditionally on its ETag; 304 → only the expiry moves; 200 → the entity's own upsert, which
// records detail_at; 404 → the row is marked deleted (biomassed, closed, disbanded), not an error.
import type { Job } from "bullmq";
import { sql } from "../db/client.ts";
import { type EsiResult, isNotFound, withEsi } from "../esi/index.ts";
import { freshUntil, type MIN_TTL_MS } from "./ttl.ts";

export type RefreshOutcome = "fresh" | "updated" | "not-modified" | "deleted";
export type EntityKind = keyof typeof MIN_TTL_MS;

const TABLES: Record<EntityKind, { table: string; key: string }> = {
  character: { table: "characters", key: "character_id" },
  corporation: { table: "corporations", key: "corporation_id" },
  alliance: { table: "alliances", key: "alliance_id" },
};

export interface EntityRefresh<T> {
  kind: EntityKind;
  /** The ESI call, conditional on the stored ETag. */
  fetch: (etag: string | undefined) => Promise<EsiResult<T>>;
  /** Upserts a fetched copy: not deleted, with its ETag and the expiry given. */
  store: (data: T, etag: string | null, expiresAt: Date) => Promise<unknown>;
}

export async function refreshEntity<T>(id: number, job: Job, force: boolean, spec: EntityRefresh<T>): Promise<RefreshOutcome> {
  const db = sql();
  const { table, key } = TABLES[spec.kind];
  const [row] = await db<{ etag: string | null; expires_at: Date | null; deleted: boolean; detail_at: Date | null }[]>`
    select etag, expires_at, deleted, detail_at from ${db(table)} where ${db(key)} = ${id}`;
  if (!force && row && (row.deleted || (row.detail_at && row.expires_at && row.expires_at.getTime() > Date.now()))) return "fresh";
  try {
    const res = await withEsi(job, () => spec.fetch(row?.etag ?? undefined));
    if (res.status === "not-modified") {
      await db`update ${db(table)} set expires_at = ${freshUntil(spec.kind, res.expires)}, detail_at = now(), updated_at = now()
               where ${db(key)} = ${id}`;
      return "not-modified";
    }
    await spec.store(res.data, res.etag ?? null, freshUntil(spec.kind, res.expires));
    return "updated";
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await db`
      insert into ${db(table)} (${db(key)}, deleted, expires_at, updated_at) values (${id}, true, null, now())
      on conflict (${db(key)}) do update set deleted = true, etag = null, expires_at = null, updated_at = now()`;
    return "deleted";
  }
}
