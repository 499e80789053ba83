// The EVE SSO as the killboard uses it: the server's metadata (endpoints, JWKS URI) discovered from
// /.well-known/oauth-authorization-server and cached; the token endpoint (authorization code + PKCE,
// refresh); revocation; and the validation of every access token it hands out (signature against the
// JWKS, issuer, audience, expiry, subject) before anything is stored. Secrets (codes, verifiers, tokens,
// the client secret) go into request bodies and headers only, never into an error message or a log line.
import { createRemoteJWKSet, type JWTVerifyGetKey, errors as joseErrors, jwtVerify } from "jose";
import { z } from "zod";
import { RetryableError } from "../esi/errors.ts";
import { httpRequest } from "../esi/http.ts";
import { ConfigError, config, requireEsiUserAgent, type SsoSettings } from "../helpers/config.ts";

export const CHARACTER_KILLMAILS_SCOPE = "esi-killmails.read_killmails.v1";
export const CORPORATION_KILLMAILS_SCOPE = "esi-killmails.read_corporation_killmails.v1";
/** The scopes the killboard may ask for, by the short names /auth/login accepts. */
export const SCOPES: Record<string, string> = {
  character: CHARACTER_KILLMAILS_SCOPE,
  corporation: CORPORATION_KILLMAILS_SCOPE,
};

const SSO_TIMEOUT_MS = 10_000;
const METADATA_TTL_MS = 3_600_000;
/** Clocks of the SSO and ours may differ a little. */
const CLOCK_TOLERANCE_SECONDS = 5;

/** The SSO said the refresh token is no good (revoked, expired, unknown): never retried. */
export class InvalidGrantError extends Error {
  override name = "InvalidGrantError";
}

/** The SSO refused our request for another reason (client id or secret wrong, bad request): a configuration problem. */
export class SsoRequestError extends Error {
  override name = "SsoRequestError";
}

/** An access token the killboard must not trust: bad signature, issuer, audience, expiry or subject. */
export class TokenRejectedError extends Error {
  override name = "TokenRejectedError";
}

/** Login is configured: a client id, a callback URL and an encryption key. */
export function ssoSettings(): SsoSettings & { clientId: string; callbackUrl: string } {
  const s = config().sso;
  if (!s.clientId || !s.callbackUrl || s.encryptionKeys.length === 0) {
    throw new ConfigError("EVE SSO login is not configured: set EVE_SSO_CLIENT_ID, EVE_SSO_CALLBACK_URL and TOKEN_ENCRYPTION_KEY");
  }
  return s as SsoSettings & { clientId: string; callbackUrl: string };
}

const metadataSchema = z.object({
  issuer: z.string().min(1),
  authorization_endpoint: z.url(),
  token_endpoint: z.url(),
  jwks_uri: z.url(),
  revocation_endpoint: z.url().optional(),
});
export type SsoMetadata = z.infer<typeof metadataSchema>;

let cached: { url: string; at: number; metadata: SsoMetadata; jwks: JWTVerifyGetKey } | undefined;

/** The SSO's metadata and its JWKS (jose caches the keys and refetches on an unknown key id). */
export async function metadata(): Promise<{ metadata: SsoMetadata; jwks: JWTVerifyGetKey }> {
  const base = config().sso.url;
  if (cached && cached.url === base && Date.now() - cached.at < METADATA_TTL_MS) return cached;
  const res = await httpRequest({
    upstream: "sso",
    route: "/.well-known/oauth-authorization-server",
    url: `${base}/.well-known/oauth-authorization-server`,
    headers: { "user-agent": requireEsiUserAgent() },
    timeoutMs: SSO_TIMEOUT_MS,
  });
  if (res.status !== 200) {
    throw new RetryableError(`sso metadata → ${res.status}`, { upstream: "sso", route: "metadata", url: base, status: res.status });
  }
  const parsed = metadataSchema.safeParse(safeJson(res.text));
  if (!parsed.success) {
    throw new RetryableError("sso metadata: unexpected body", { upstream: "sso", route: "metadata", url: base, status: res.status });
  }
  const jwks = createRemoteJWKSet(new URL(parsed.data.jwks_uri), {
    timeoutDuration: SSO_TIMEOUT_MS,
    headers: { "user-agent": requireEsiUserAgent() },
  });
  cached = { url: base, at: Date.now(), metadata: parsed.data, jwks };
  return cached;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const claimsSchema = z.object({
  sub: z.string().regex(/^CHARACTER:EVE:\d{1,12}$/, "sub must be CHARACTER:EVE:<character id>"),
  aud: z.union([z.string(), z.array(z.string())]),
  name: z.string().min(1),
  owner: z.string().min(1),
  scp: z.union([z.string(), z.array(z.string())]).optional(),
  exp: z.number(),
});

export interface AccessClaims {
  characterId: number;
  name: string;
  ownerHash: string;
  scopes: string[];
  /** Epoch ms. */
  expiresAt: number;
}

/**
 * Validates an access token from the SSO: RS256 signature against its JWKS, `iss` (the metadata's
 * issuer, with or without scheme), `aud` containing our client id and "EVE Online", `exp`, and
 * `sub` = CHARACTER:EVE:<id>. Throws TokenRejectedError (never quoting the token).
 */
export async function validateAccessToken(token: string): Promise<AccessClaims> {
  const { clientId } = ssoSettings();
  const { metadata: m, jwks } = await metadata();
  // CCP's tokens name the issuer without a scheme (login.eveonline.com) as often as with one.
  const issuers = [m.issuer, m.issuer.replace(/^https?:\/\//, "").replace(/\/+$/, "")];
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, jwks, {
      algorithms: ["RS256"],
      issuer: issuers,
      audience: clientId,
      requiredClaims: ["exp", "sub", "aud"],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    }));
  } catch (err) {
    if (err instanceof joseErrors.JOSEError) throw new TokenRejectedError(`access token refused: ${err.code} (${err.message})`);
    throw err;
  }
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) throw new TokenRejectedError(`access token refused: ${claims.error.issues[0]?.message ?? "bad claims"}`);
  const aud = typeof claims.data.aud === "string" ? [claims.data.aud] : claims.data.aud;
  if (!aud.includes("EVE Online")) throw new TokenRejectedError('access token refused: aud does not contain "EVE Online"');
  const scp = claims.data.scp;
  return {
    characterId: Number(claims.data.sub.slice("CHARACTER:EVE:".length)),
    name: claims.data.name,
    ownerHash: claims.data.owner,
    scopes: scp === undefined ? [] : typeof scp === "string" ? [scp] : scp,
    expiresAt: claims.data.exp * 1000,
  };
}

const tokenSchema = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().int().positive(),
  token_type: z.string(),
  refresh_token: z.string().min(1),
});
export type TokenSet = z.infer<typeof tokenSchema>;

const errorSchema = z.object({ error: z.string(), error_description: z.string().optional() });

/** POSTs a form to an SSO endpoint, authenticating as the application (Basic with the secret, or client_id for PKCE). */
async function postForm(route: string, url: string, form: Record<string, string>) {
  const s = ssoSettings();
  const headers: Record<string, string> = {
    "content-type": "application/x-www-form-urlencoded",
    "user-agent": requireEsiUserAgent(),
  };
  const body = new URLSearchParams(form);
  if (s.secret) headers.authorization = `Basic ${Buffer.from(`${s.clientId}:${s.secret}`).toString("base64")}`;
  else body.set("client_id", s.clientId);
  const res = await httpRequest({ upstream: "sso", route, url, method: "POST", headers, body: body.toString(), timeoutMs: SSO_TIMEOUT_MS });
  if (res.status >= 500 || res.status === 429 || res.status === 408) {
    throw new RetryableError(`sso ${route} → ${res.status}`, { upstream: "sso", route, url, status: res.status });
  }
  return res;
}

async function tokenRequest(form: Record<string, string>): Promise<TokenSet> {
  const { metadata: m } = await metadata();
  const res = await postForm("token", m.token_endpoint, form);
  const where = { upstream: "sso" as const, route: "token", url: m.token_endpoint, status: res.status };
  if (res.status === 200) {
    const parsed = tokenSchema.safeParse(safeJson(res.text));
    if (!parsed.success) throw new RetryableError("sso token: unexpected body", where);
    return parsed.data;
  }
  const err = errorSchema.safeParse(safeJson(res.text));
  const code = err.success ? err.data.error : `status ${res.status}`;
  if (code === "invalid_grant") throw new InvalidGrantError(`invalid_grant: ${err.data?.error_description ?? "refused"}`);
  throw new SsoRequestError(`sso token → ${res.status} ${code}${err.data?.error_description ? `: ${err.data.error_description}` : ""}`);
}

/** Exchanges an authorization code (with its PKCE verifier) for tokens. */
export function exchangeCode(code: string, codeVerifier: string): Promise<TokenSet> {
  return tokenRequest({ grant_type: "authorization_code", code, code_verifier: codeVerifier });
}

/** Trades a refresh token for new tokens; the answer's refresh token replaces the old one. */
export function refreshTokens(refreshToken: string): Promise<TokenSet> {
  return tokenRequest({ grant_type: "refresh_token", refresh_token: refreshToken });
}

/** Asks the SSO to revoke a refresh token (best effort: an operator's revoke stands whatever it says). */
export async function revokeAtSso(refreshToken: string): Promise<boolean> {
  const { metadata: m } = await metadata();
  if (!m.revocation_endpoint) return false;
  const res = await postForm("revoke", m.revocation_endpoint, { token_type_hint: "refresh_token", token: refreshToken });
  return res.status === 200;
}

/** Forgets the cached metadata and keys (tests pointing at another SSO). */
export function forgetMetadata(): void {
  cached = undefined;
}
