// Postgres rows of the SSO: logged-in characters (sso_characters: the sealed refresh token, owner hash,
// scopes, token state) and the syncs their tokens drive (sso_syncs). Reads never return a token in
// clear: only refreshToken() opens one, for the token refresh itself.
import { sql } from "../db/client.ts";
import { seal, unseal } from "./crypto.ts";

export type SyncKind = "character" | "corporation";
export type SyncStatus = "active" | "no-role" | "forbidden" | "stopped";

export interface SsoCharacterRow {
  character_id: number;
  name: string;
  owner_hash: string;
  scopes: string[];
  corporation_id: number | null;
  token_state: "valid" | "revoked";
  revoked_reason: string | null;
  refreshed_at: Date | null;
  access_expires_at: Date | null;
}

export interface SyncRow {
  kind: SyncKind;
  entity_id: number;
  character_id: number;
  status: SyncStatus;
  etag: string | null;
  expires_at: Date | null;
  last_sync_at: Date | null;
  next_sync_at: Date | null;
  last_error: string | null;
  killmails_seen: number;
  killmails_new: number;
}

/** The context a character's sealed refresh token is bound to. */
export const refreshContext = (characterId: number) => `sso:${characterId}:refresh`;

export interface LoggedIn {
  characterId: number;
  name: string;
  ownerHash: string;
  scopes: string[];
  corporationId: number | undefined;
  refreshToken: string;
  accessExpiresAt: number;
}

/** Stores (or replaces) a character that just logged in: its token is valid again, whatever it was. */
export async function saveLogin(c: LoggedIn): Promise<void> {
  const sealed = seal(c.refreshToken, refreshContext(c.characterId));
  await sql()`
    insert into sso_characters (character_id, name, owner_hash, scopes, corporation_id, refresh_token, token_state,
                                refreshed_at, access_expires_at)
    values (${c.characterId}, ${c.name}, ${c.ownerHash}, ${c.scopes}, ${c.corporationId ?? null}, ${sealed}, 'valid',
            now(), ${new Date(c.accessExpiresAt)})
    on conflict (character_id) do update set
      name = excluded.name, owner_hash = excluded.owner_hash, scopes = excluded.scopes,
      corporation_id = coalesce(excluded.corporation_id, sso_characters.corporation_id),
      refresh_token = excluded.refresh_token, token_state = 'valid', revoked_reason = null, revoked_at = null,
      refreshed_at = now(), access_expires_at = excluded.access_expires_at, updated_at = now()`;
}

export async function loadCharacter(characterId: number): Promise<SsoCharacterRow | undefined> {
  const [row] = await sql()<SsoCharacterRow[]>`
    select character_id, name, owner_hash, scopes, corporation_id, token_state, revoked_reason, refreshed_at, access_expires_at
    from sso_characters where character_id = ${characterId}`;
  return row;
}

/** The refresh token of a valid character, opened, with the sealed value it came from (for the swap). */
export async function refreshToken(characterId: number): Promise<{ token: string; sealed: string; ownerHash: string } | undefined> {
  const [row] = await sql()<{ refresh_token: string; owner_hash: string }[]>`
    select refresh_token, owner_hash from sso_characters where character_id = ${characterId} and token_state = 'valid'`;
  if (!row) return undefined;
  return { token: unseal(row.refresh_token, refreshContext(characterId)), sealed: row.refresh_token, ownerHash: row.owner_hash };
}

/**
 * Replaces the refresh token with the one a refresh returned, in one statement, only if the row still
 * holds the token that was refreshed (compare and swap): false when it changed meanwhile.
 */
export async function swapRefreshToken(
  characterId: number,
  previousSealed: string,
  next: { refreshToken: string; scopes: string[]; accessExpiresAt: number },
): Promise<boolean> {
  const res = await sql()`
    update sso_characters set refresh_token = ${seal(next.refreshToken, refreshContext(characterId))}, scopes = ${next.scopes},
      refreshed_at = now(), access_expires_at = ${new Date(next.accessExpiresAt)}, updated_at = now()
    where character_id = ${characterId} and token_state = 'valid' and refresh_token = ${previousSealed}`;
  return res.count === 1;
}

/** Marks a token revoked with the reason and stops every sync it drives; true if it was valid. */
export async function markRevoked(characterId: number, reason: string): Promise<boolean> {
  return sql().begin(async (tx) => {
    const res = await tx`
      update sso_characters set token_state = 'revoked', revoked_reason = ${reason.slice(0, 500)}, revoked_at = now(),
        access_expires_at = null, updated_at = now()
      where character_id = ${characterId} and token_state = 'valid'`;
    await tx`update sso_syncs set status = 'stopped', last_error = ${`token revoked: ${reason}`.slice(0, 500)}, next_sync_at = null
             where character_id = ${characterId} and status = 'active'`;
    return res.count === 1;
  });
}

/** Creates or re-activates a sync driven by this character's token. */
export async function activateSync(kind: SyncKind, entityId: number, characterId: number): Promise<void> {
  await sql()`
    insert into sso_syncs (kind, entity_id, character_id, status, next_sync_at) values (${kind}, ${entityId}, ${characterId}, 'active', now())
    on conflict (kind, entity_id) do update set character_id = excluded.character_id, status = 'active', last_error = null,
      next_sync_at = now()`;
}

export async function loadSync(kind: SyncKind, entityId: number): Promise<(SyncRow & { token_state: string }) | undefined> {
  const [row] = await sql()<(SyncRow & { token_state: string })[]>`
    select s.*, c.token_state from sso_syncs s join sso_characters c using (character_id)
    where s.kind = ${kind} and s.entity_id = ${entityId}`;
  return row;
}

/** A sync's outcome: what the route said, and when the next poll is due. */
export async function recordSync(
  kind: SyncKind,
  entityId: number,
  r: {
    etag?: string | null;
    expiresAt?: number | undefined;
    seen: number;
    added: number;
    /** undefined: unchanged (a read of many pages paused for the bucket). */
    nextAt: number | null | undefined;
    error?: string | null;
  },
): Promise<void> {
  await sql()`
    update sso_syncs set
      etag = case when ${r.etag === undefined} then etag else ${r.etag ?? null} end,
      expires_at = coalesce(${r.expiresAt ? new Date(r.expiresAt) : null}, expires_at),
      last_sync_at = now(), last_error = ${r.error ?? null},
      killmails_seen = killmails_seen + ${r.seen}, killmails_new = killmails_new + ${r.added},
      next_sync_at = case when ${r.nextAt === undefined} then next_sync_at else ${r.nextAt ? new Date(r.nextAt) : null}::timestamptz end
    where kind = ${kind} and entity_id = ${entityId}`;
}

/** Ends a sync that cannot go on (403: no Director role, a missing scope); not polled again. */
export async function endSync(kind: SyncKind, entityId: number, status: Exclude<SyncStatus, "active">, reason: string): Promise<void> {
  await sql()`update sso_syncs set status = ${status}, last_error = ${reason.slice(0, 500)}, last_sync_at = now(), next_sync_at = null
              where kind = ${kind} and entity_id = ${entityId}`;
}

export async function activeSyncs(): Promise<SyncRow[]> {
  return sql()<SyncRow[]>`select * from sso_syncs where status = 'active'`;
}

export interface SsoOverview {
  characters: (SsoCharacterRow & { syncs: SyncRow[] })[];
}

/** Every character with its syncs, for operators (no token in it). */
export async function overview(): Promise<SsoOverview> {
  const characters = await sql()<SsoCharacterRow[]>`
    select character_id, name, owner_hash, scopes, corporation_id, token_state, revoked_reason, refreshed_at, access_expires_at
    from sso_characters order by character_id`;
  const syncs = await sql()<SyncRow[]>`
    select kind, entity_id, character_id, status, etag, expires_at, last_sync_at, next_sync_at, last_error, killmails_seen, killmails_new
    from sso_syncs order by kind, entity_id`;
  return { characters: characters.map((c) => ({ ...c, syncs: syncs.filter((s) => s.character_id === c.character_id) })) };
}

export interface SsoCounts {
  characters: number;
  tokensValid: number;
  tokensRevoked: number;
  syncsActive: number;
  syncsNoRole: number;
  syncsStopped: number;
  killmailsNew: number;
}

export async function ssoCounts(): Promise<SsoCounts> {
  const [row] = await sql()<SsoCounts[]>`
    select (select count(*) from sso_characters)::int as characters,
           (select count(*) from sso_characters where token_state = 'valid')::int as "tokensValid",
           (select count(*) from sso_characters where token_state = 'revoked')::int as "tokensRevoked",
           (select count(*) from sso_syncs where status = 'active')::int as "syncsActive",
           (select count(*) from sso_syncs where status = 'no-role')::int as "syncsNoRole",
           (select count(*) from sso_syncs where status in ('stopped', 'forbidden'))::int as "syncsStopped",
           (select coalesce(sum(killmails_new), 0) from sso_syncs)::int as "killmailsNew"`;
  return row!;
}
