// The login flow (authorization code + PKCE): startLogin() makes a `state` (single use, 10 minutes,
// bound to the browser by a cookie whose digest it keeps) and a PKCE verifier, kept sealed in Redis, and
// the SSO's authorize URL; finishLogin() takes the state back once, checks the browser, exchanges the
// code, validates the access token, stores the character with its sealed refresh token and starts its
// syncs. LoginError carries the HTTP status and a message safe to show (no token, code or verifier).
import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import { RetryableError } from "../esi/errors.ts";
import { postCharacterAffiliation } from "../esi/routes.ts";
import { config } from "../helpers/config.ts";
import { log } from "../helpers/logger.ts";
import { redis } from "../helpers/redis.ts";
import {
  CHARACTER_KILLMAILS_SCOPE,
  CORPORATION_KILLMAILS_SCOPE,
  exchangeCode,
  InvalidGrantError,
  metadata,
  SCOPES,
  ssoSettings,
  TokenRejectedError,
  validateAccessToken,
} from "./client.ts";
import { seal, unseal } from "./crypto.ts";
import { syncNow } from "./jobs.ts";
import { activateSync, type SyncKind, saveLogin } from "./store.ts";
import { cacheAccessToken } from "./tokens.ts";

export const STATE_TTL_SECONDS = 600;

export class LoginError extends Error {
  override name = "LoginError";
  constructor(
    readonly status: 400 | 502 | 503,
    message: string,
  ) {
    super(message);
  }
}

const stateKey = (state: string) => `${config().queuePrefix}:sso:state:${state}`;
const b64url = (bytes: number) => randomBytes(bytes).toString("base64url");
const digest = (s: string) => createHash("sha256").update(s).digest("base64url");

/** Scopes from /auth/login's `scopes` (short names or full scope names, comma or space separated). */
export function parseScopes(param: string | undefined): string[] {
  if (!param?.trim()) return [CHARACTER_KILLMAILS_SCOPE];
  const allowed = new Set(Object.values(SCOPES));
  const scopes = param
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((s) => {
      const scope = SCOPES[s] ?? s;
      if (!allowed.has(scope)) {
        throw new LoginError(400, `unknown scope '${s}': use ${Object.keys(SCOPES).join(", ")} (or ${[...allowed].join(", ")})`);
      }
      return scope;
    });
  return [...new Set(scopes)];
}

const stateSchema = z.object({ verifier: z.string(), scopes: z.array(z.string()), browser: z.string() });

/** A new login: the authorize URL to send the browser to, and the value of its browser cookie. */
export async function startLogin(scopes: string[]): Promise<{ url: string; browser: string }> {
  const s = ssoSettings();
  const { metadata: m } = await metadata();
  const state = b64url(24);
  const verifier = b64url(32);
  const browser = b64url(24);
  const record = { verifier: seal(verifier, `sso-state:${state}`), scopes, browser: digest(browser) };
  await redis().set(stateKey(state), JSON.stringify(record), "EX", STATE_TTL_SECONDS);
  const url = new URL(m.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: "code",
    redirect_uri: s.callbackUrl,
    client_id: s.clientId,
    scope: scopes.join(" "),
    state,
    code_challenge: digest(verifier),
    code_challenge_method: "S256",
  }).toString();
  return { url: url.toString(), browser };
}

export interface LoginResult {
  characterId: number;
  name: string;
  scopes: string[];
  corporationId: number | undefined;
  syncs: { kind: SyncKind; id: number }[];
}

/** The callback: one use of the state, from the browser that started it. */
export async function finishLogin(state: string, code: string, browser: string | undefined): Promise<LoginResult> {
  const raw = await redis().getdel(stateKey(state));
  if (!raw) throw new LoginError(400, "unknown, expired or already used login: start again at /auth/login");
  const record = stateSchema.parse(JSON.parse(raw));
  if (!browser || digest(browser) !== record.browser)
    throw new LoginError(400, "this login was started in another browser: start again at /auth/login");
  const verifier = unseal(record.verifier, `sso-state:${state}`);

  let tokens: Awaited<ReturnType<typeof exchangeCode>>;
  try {
    tokens = await exchangeCode(code, verifier);
  } catch (err) {
    if (err instanceof InvalidGrantError) throw new LoginError(400, `the SSO refused the authorization code (${err.message})`);
    throw new LoginError(502, `the SSO could not be asked for tokens: ${(err as Error).message}`);
  }
  let claims: Awaited<ReturnType<typeof validateAccessToken>>;
  try {
    claims = await validateAccessToken(tokens.access_token);
  } catch (err) {
    if (err instanceof TokenRejectedError) throw new LoginError(400, err.message);
    if (err instanceof RetryableError) throw new LoginError(502, `the SSO's keys could not be read: ${err.message}`);
    throw err;
  }

  // The corporation, for a director's corporation sync (public route; a failure only skips that sync).
  let corporationId: number | undefined;
  try {
    [corporationId] = (await postCharacterAffiliation([claims.characterId], { maxWaitMs: 5_000 })).map((a) => a.corporation_id);
  } catch (err) {
    log("sso").warn({ characterId: claims.characterId, err: (err as Error).message }, "affiliation unknown: no corporation sync");
  }
  await saveLogin({
    characterId: claims.characterId,
    name: claims.name,
    ownerHash: claims.ownerHash,
    scopes: claims.scopes,
    corporationId,
    refreshToken: tokens.refresh_token,
    accessExpiresAt: claims.expiresAt,
  });
  await cacheAccessToken(claims.characterId, tokens.access_token, claims.expiresAt);

  const syncs: { kind: SyncKind; id: number }[] = [];
  if (claims.scopes.includes(CHARACTER_KILLMAILS_SCOPE)) syncs.push({ kind: "character", id: claims.characterId });
  // NPC corporations (below 2,000,000) have no directors among players.
  if (claims.scopes.includes(CORPORATION_KILLMAILS_SCOPE) && corporationId && corporationId >= 2_000_000) {
    syncs.push({ kind: "corporation", id: corporationId });
  }
  for (const sync of syncs) {
    await activateSync(sync.kind, sync.id, claims.characterId);
    await syncNow(sync.kind, sync.id);
  }
  log("sso").info({ characterId: claims.characterId, scopes: claims.scopes, syncs }, "character logged in");
  return { characterId: claims.characterId, name: claims.name, scopes: claims.scopes, corporationId, syncs };
}
