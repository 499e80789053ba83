// A member's tokens at work: the access token (kept in Redis, sealed, only until it expires) and its
// refresh — the `token` job — under a Redis lease, so that however many processes ask, one refresh of a
// character runs at a time and the others find its result. The SSO rotates refresh tokens: the new one
// replaces the old in one compare-and-swap statement. invalid_grant, or an access token whose owner
// hash changed (the character moved to another account), revokes the token and stops its syncs.

import { UnrecoverableError } from "bullmq";
import { config } from "../helpers/config.ts";
import { underLease } from "../helpers/lease.ts";
import { log } from "../helpers/logger.ts";
import { redis } from "../helpers/redis.ts";
import { ssoRefreshFailures, ssoTokensRevoked } from "../metrics/registry.ts";
import { InvalidGrantError, refreshTokens, SsoRequestError, TokenRejectedError, validateAccessToken } from "./client.ts";
import { SealError, seal, unseal } from "./crypto.ts";
import { removeSyncJob } from "./jobs.ts";
import { loadCharacter, markRevoked, refreshToken, swapRefreshToken } from "./store.ts";

/** A token with less than this left is refreshed ahead of its expiry. */
export const REFRESH_AHEAD_MS = 3 * 60_000;
/** Cached access tokens are dropped this long before they expire (a request may take a while). */
const CACHE_MARGIN_MS = 30_000;

const accessKey = (characterId: number) => `${config().queuePrefix}:sso:access:${characterId}`;
const accessContext = (characterId: number) => `sso:${characterId}:access`;

/** Keeps an access token until shortly before it expires. */
export async function cacheAccessToken(characterId: number, token: string, expiresAt: number): Promise<void> {
  const ttl = expiresAt - Date.now() - CACHE_MARGIN_MS;
  if (ttl > 1_000) await redis().set(accessKey(characterId), seal(token, accessContext(characterId)), "PX", ttl);
}

export async function dropAccessToken(characterId: number): Promise<void> {
  await redis().del(accessKey(characterId));
}

/** Milliseconds the cached access token is still usable (0: none). */
export async function accessTokenTtl(characterId: number): Promise<number> {
  return Math.max(0, await redis().pttl(accessKey(characterId)));
}

/** The cached access token if it stays usable for `minMs` more, else undefined. */
export async function accessToken(characterId: number, minMs = 60_000): Promise<string | undefined> {
  const [sealed, ttl] = await Promise.all([redis().get(accessKey(characterId)), redis().pttl(accessKey(characterId))]);
  if (!sealed || ttl < minMs) return undefined;
  try {
    return unseal(sealed, accessContext(characterId));
  } catch {
    return undefined;
  }
}

export type RefreshOutcome =
  | { state: "refreshed"; expiresAt: number }
  /** Another refresh (another process) got there first: its token is fresh. */
  | { state: "fresh" }
  | { state: "revoked"; reason: string }
  /** No valid token to refresh (revoked before, logged out, replaced by a new login meanwhile). */
  | { state: "gone" };

/** Revokes a character's token for `reason`: the row, the cached access token, the pending syncs. */
export async function revokeCharacter(characterId: number, reason: string): Promise<boolean> {
  const changed = await markRevoked(characterId, reason);
  await dropAccessToken(characterId);
  const character = await loadCharacter(characterId);
  await removeSyncJob("character", characterId);
  if (character?.corporation_id) await removeSyncJob("corporation", character.corporation_id);
  if (changed) {
    ssoTokensRevoked.inc();
    log("sso").warn({ characterId, reason }, "token revoked: its syncs stopped");
  }
  return changed;
}

/** One refresh against the SSO, the caller holding the lease. */
async function refreshOnce(characterId: number): Promise<RefreshOutcome> {
  let stored: Awaited<ReturnType<typeof refreshToken>>;
  try {
    stored = await refreshToken(characterId);
  } catch (err) {
    // Sealed with a key TOKEN_ENCRYPTION_KEY no longer lists (or tampered with): unusable for good. A
    // process without any key fails the job instead (its configuration is wrong, not the token).
    if (!(err instanceof SealError) || config().sso.encryptionKeys.length === 0) throw err;
    const reason = `refresh token cannot be opened (${err.message}): the member must log in again`;
    await revokeCharacter(characterId, reason);
    return { state: "revoked", reason };
  }
  if (!stored) return { state: "gone" };
  let tokens: Awaited<ReturnType<typeof refreshTokens>>;
  try {
    tokens = await refreshTokens(stored.token);
  } catch (err) {
    if (err instanceof InvalidGrantError) {
      await revokeCharacter(characterId, err.message);
      return { state: "revoked", reason: err.message };
    }
    throw err;
  }
  let claims: Awaited<ReturnType<typeof validateAccessToken>>;
  try {
    claims = await validateAccessToken(tokens.access_token);
  } catch (err) {
    // The SSO handed out a token we cannot trust: not the member's fault, try again later.
    if (err instanceof TokenRejectedError) throw new Error(`refresh of ${characterId}: ${err.message}`);
    throw err;
  }
  if (claims.characterId !== characterId) throw new Error(`refresh of ${characterId} returned a token of another character`);
  // The swap comes first: the SSO has already replaced the refresh token, so the new one must be kept
  // even if the owner changed (it is then revoked, with the row).
  const swapped = await swapRefreshToken(characterId, stored.sealed, {
    refreshToken: tokens.refresh_token,
    scopes: claims.scopes,
    accessExpiresAt: claims.expiresAt,
  });
  if (!swapped) return { state: "gone" };
  if (claims.ownerHash !== stored.ownerHash) {
    const reason = "owner hash changed: the character moved to another account";
    await revokeCharacter(characterId, reason);
    return { state: "revoked", reason };
  }
  await cacheAccessToken(characterId, tokens.access_token, claims.expiresAt);
  log("sso").info({ characterId, expiresAt: new Date(claims.expiresAt).toISOString() }, "token refreshed");
  return { state: "refreshed", expiresAt: claims.expiresAt };
}

/**
 * The token job: refreshes the character's token unless its access token is still fresh
 * (REFRESH_AHEAD_MS), under a lease so no two processes refresh it at once. Transient SSO failures throw
 * (BullMQ retries with backoff); a refused client configuration fails the job without retries.
 */
export async function refreshCharacter(characterId: number): Promise<RefreshOutcome> {
  let outcome: RefreshOutcome = { state: "fresh" };
  try {
    await underLease(
      `sso-refresh-${characterId}`,
      async () => (await accessTokenTtl(characterId)) > REFRESH_AHEAD_MS,
      async () => {
        outcome = await refreshOnce(characterId);
      },
      30_000,
    );
  } catch (err) {
    const permanent = err instanceof SsoRequestError || err instanceof SealError;
    ssoRefreshFailures.inc({ kind: permanent ? "permanent" : "transient" });
    if (permanent) throw new UnrecoverableError((err as Error).message);
    throw err;
  }
  if ((outcome as RefreshOutcome).state === "revoked") ssoRefreshFailures.inc({ kind: "revoked" });
  return outcome;
}
