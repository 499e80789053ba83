// What operators do with logged-in characters (bun cli sso:*, the admin API): list them with their
// syncs and token state, poll a sync now, revoke a token. Nothing here returns a token.

import { sql } from "../db/client.ts";
import { log } from "../helpers/logger.ts";
import { revokeAtSso } from "./client.ts";
import { syncNow } from "./jobs.ts";
import { loadCharacter, overview, refreshToken, type SyncKind } from "./store.ts";
import { revokeCharacter } from "./tokens.ts";

export interface SsoListing {
  characterId: number;
  name: string;
  corporationId: number | null;
  scopes: string[];
  tokenState: "valid" | "revoked";
  revokedReason: string | null;
  refreshedAt: string | null;
  accessExpiresAt: string | null;
  syncs: {
    kind: SyncKind;
    id: number;
    status: string;
    lastSyncAt: string | null;
    nextSyncAt: string | null;
    lastError: string | null;
    killmailsSeen: number;
    killmailsNew: number;
  }[];
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export async function listSso(): Promise<SsoListing[]> {
  const { characters } = await overview();
  return characters.map((c) => ({
    characterId: Number(c.character_id),
    name: c.name,
    corporationId: c.corporation_id,
    scopes: c.scopes,
    tokenState: c.token_state,
    revokedReason: c.revoked_reason,
    refreshedAt: iso(c.refreshed_at),
    accessExpiresAt: iso(c.access_expires_at),
    syncs: c.syncs.map((s) => ({
      kind: s.kind,
      id: Number(s.entity_id),
      status: s.status,
      lastSyncAt: iso(s.last_sync_at),
      nextSyncAt: iso(s.next_sync_at),
      lastError: s.last_error,
      killmailsSeen: s.killmails_seen,
      killmailsNew: s.killmails_new,
    })),
  }));
}

/** Polls now every active sync of `id` (a character, or a corporation): the jobs started, empty when none. */
export async function syncSsoNow(id: number): Promise<{ kind: SyncKind; id: number; jobId: string }[]> {
  const rows = await sql()<{ kind: SyncKind; entity_id: number }[]>`
    select kind, entity_id from sso_syncs where status = 'active' and (entity_id = ${id} or character_id = ${id})
    order by kind`;
  const started: { kind: SyncKind; id: number; jobId: string }[] = [];
  for (const r of rows) started.push({ kind: r.kind, id: Number(r.entity_id), jobId: await syncNow(r.kind, Number(r.entity_id)) });
  return started;
}

/** Revokes a character's token here and (best effort) at the SSO; false when no such character. */
export async function revokeSso(characterId: number): Promise<{ found: boolean; revoked: boolean; atSso: boolean }> {
  if (!(await loadCharacter(characterId))) return { found: false, revoked: false, atSso: false };
  let atSso = false;
  const stored = await refreshToken(characterId).catch(() => undefined);
  if (stored) {
    try {
      atSso = await revokeAtSso(stored.token);
    } catch (err) {
      log("sso").warn({ characterId, err: (err as Error).message }, "could not revoke the token at the SSO (revoked here)");
    }
  }
  const revoked = await revokeCharacter(characterId, "revoked by an operator");
  return { found: true, revoked, atSso };
}
