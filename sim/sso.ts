// The EVE SSO at "/sso" (the real https://login.eveonline.com): OAuth 2.0 authorization code + PKCE,
// refresh with rotation, revocation, server metadata and a JWKS with a real RS256 signing key, so the
// killboard validates the simulator's access tokens exactly as it validates CCP's. A character is
// chosen on the authorize URL (`&character=<id>`; without it a page lists a few), since nobody types
// a password here. Tests steer it through `SsoState`: revoke a character's tokens, transfer it to
// another account (new owner hash), grant or take the Director role, or spoil the next token issued
// (wrong audience, expired, foreign key) to check the killboard refuses it.
import { createHash, generateKeyPairSync, type KeyObject, randomBytes } from "node:crypto";
import { exportJWK, type JWK, SignJWT } from "jose";
import type { FaultAction } from "./faults.ts";
import { type Ctx, error, type Handled, header, type In, json, type Reply } from "./http.ts";
import type { World } from "./world/index.ts";

/** The scopes the killboard asks for (the spec's securitySchemes), the only ones the simulator's ESI checks. */
export const CHARACTER_KILLMAILS_SCOPE = "esi-killmails.read_killmails.v1";
export const CORPORATION_KILLMAILS_SCOPE = "esi-killmails.read_corporation_killmails.v1";

const KID = "JWT-Signature-Key";
const CODE_TTL_MS = 5 * 60_000;

/** How the next access token issued is spoiled (tests of the killboard's validation). */
export interface TokenTweak {
  /** `aud` instead of [client id, "EVE Online"]. */
  audience?: string[];
  /** Seconds until `exp` (negative: already expired). */
  expiresIn?: number;
  /** Signed with a key that is not in the JWKS. */
  foreignKey?: boolean;
  issuer?: string;
}

interface CodeGrant {
  clientId: string;
  redirectUri: string;
  characterId: number;
  scopes: string[];
  challenge: string;
  expiresAt: number;
}

interface RefreshGrant {
  clientId: string;
  characterId: number;
  scopes: string[];
  /** False once revoked or rotated. */
  active: boolean;
  /** Set when a refresh replaced it (a later use is a reuse: two clients refreshing one token at once). */
  rotated: boolean;
}

export interface SsoStats {
  authorizations: number;
  codeExchanges: number;
  refreshes: number;
  invalidGrants: number;
  revocations: number;
  /** A refresh token presented again after a refresh had replaced it. */
  reusedRefreshTokens: number;
}

function b64url(buf: Buffer): string {
  return buf.toString("base64url");
}

export class SsoState {
  readonly accessTokenSeconds: number;
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private readonly foreignKey: KeyObject;
  private jwk: JWK | undefined;
  private readonly codes = new Map<string, CodeGrant>();
  private readonly refresh = new Map<string, RefreshGrant>();
  private readonly owners = new Map<number, string>();
  private readonly directors = new Set<number>();
  private readonly notDirectors = new Set<number>();
  private tweak: TokenTweak | undefined;
  private counters: SsoStats = SsoState.empty();

  constructor(
    private readonly world: World,
    opts: { accessTokenSeconds?: number } = {},
  ) {
    this.accessTokenSeconds = opts.accessTokenSeconds ?? 1200;
    const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
    this.foreignKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  }

  private static empty(): SsoStats {
    return { authorizations: 0, codeExchanges: 0, refreshes: 0, invalidGrants: 0, revocations: 0, reusedRefreshTokens: 0 };
  }

  async publicJwk(): Promise<JWK> {
    this.jwk ??= { ...(await exportJWK(this.publicKey)), kid: KID, alg: "RS256", use: "sig" };
    return this.jwk;
  }

  /** The key ESI checks access tokens against. */
  get verificationKey(): KeyObject {
    return this.publicKey;
  }

  ownerHash(characterId: number): string {
    let owner = this.owners.get(characterId);
    if (!owner) {
      owner = createHash("sha1").update(`${this.world.seed}:owner:${characterId}`).digest("base64");
      this.owners.set(characterId, owner);
    }
    return owner;
  }

  /** Whether a character holds the Director role of its corporation (default: its CEO does). */
  isDirector(characterId: number): boolean {
    if (this.notDirectors.has(characterId)) return false;
    if (this.directors.has(characterId)) return true;
    const c = this.world.entities.characters.get(characterId);
    return c !== undefined && this.world.entities.corporations.get(c.corporationId)?.ceoId === characterId;
  }

  setDirector(characterId: number, director: boolean): void {
    (director ? this.directors : this.notDirectors).add(characterId);
    (director ? this.notDirectors : this.directors).delete(characterId);
  }

  /** The player revokes the application at CCP: every refresh token of the character stops working. */
  revokeCharacter(characterId: number): number {
    let n = 0;
    for (const grant of this.refresh.values()) {
      if (grant.characterId === characterId && grant.active) {
        grant.active = false;
        n++;
      }
    }
    return n;
  }

  /** The character moves to another account: its owner hash changes. */
  transferCharacter(characterId: number): string {
    const owner = createHash("sha1")
      .update(`${this.ownerHash(characterId)}:${randomBytes(4).toString("hex")}`)
      .digest("base64");
    this.owners.set(characterId, owner);
    return owner;
  }

  tweakNextToken(tweak: TokenTweak): void {
    this.tweak = tweak;
  }

  /** Every refresh token ever issued to a character, newest last (tests grep storage for them). */
  refreshTokensOf(characterId: number): string[] {
    return [...this.refresh].filter(([, g]) => g.characterId === characterId).map(([t]) => t);
  }

  stats(): SsoStats {
    return { ...this.counters };
  }

  reset(): void {
    this.counters = SsoState.empty();
  }

  authorize(grant: Omit<CodeGrant, "expiresAt">, now: number): string {
    const code = b64url(randomBytes(24));
    this.codes.set(code, { ...grant, expiresAt: now + CODE_TTL_MS });
    this.counters.authorizations++;
    return code;
  }

  private async accessToken(issuer: string, clientId: string, characterId: number, scopes: string[], now: number): Promise<string> {
    const tweak = this.tweak;
    this.tweak = undefined;
    const seconds = Math.floor(now / 1000);
    const name = this.world.entities.characters.get(characterId)?.name ?? `Character ${characterId}`;
    return new SignJWT({
      scp: scopes.length === 1 ? scopes[0] : scopes,
      jti: crypto.randomUUID(),
      kid: KID,
      sub: `CHARACTER:EVE:${characterId}`,
      azp: clientId,
      tenant: "tranquility",
      tier: "live",
      region: "world",
      aud: tweak?.audience ?? [clientId, "EVE Online"],
      name,
      owner: this.ownerHash(characterId),
      exp: seconds + (tweak?.expiresIn ?? this.accessTokenSeconds),
      iat: seconds,
      iss: tweak?.issuer ?? issuer,
    })
      .setProtectedHeader({ alg: "RS256", kid: KID, typ: "JWT" })
      .sign(tweak?.foreignKey ? this.foreignKey : this.privateKey);
  }

  private issueRefresh(clientId: string, characterId: number, scopes: string[]): string {
    const token = b64url(randomBytes(32));
    this.refresh.set(token, { clientId, characterId, scopes, active: true, rotated: false });
    return token;
  }

  private async tokens(issuer: string, clientId: string, characterId: number, scopes: string[], now: number): Promise<Reply> {
    return json(200, {
      access_token: await this.accessToken(issuer, clientId, characterId, scopes, now),
      expires_in: this.accessTokenSeconds,
      token_type: "Bearer",
      refresh_token: this.issueRefresh(clientId, characterId, scopes),
    });
  }

  private invalidGrant(description: string): Reply {
    this.counters.invalidGrants++;
    return json(400, { error: "invalid_grant", error_description: description });
  }

  async token(issuer: string, form: URLSearchParams, clientId: string, now: number): Promise<Reply> {
    const grantType = form.get("grant_type");
    if (grantType === "authorization_code") {
      const code = form.get("code") ?? "";
      const grant = this.codes.get(code);
      this.codes.delete(code);
      if (!grant || grant.expiresAt < now || grant.clientId !== clientId) return this.invalidGrant("Authorization code is invalid");
      const verifier = form.get("code_verifier") ?? "";
      if (b64url(createHash("sha256").update(verifier).digest()) !== grant.challenge) {
        return this.invalidGrant("PKCE verification failed");
      }
      this.counters.codeExchanges++;
      return this.tokens(issuer, clientId, grant.characterId, grant.scopes, now);
    }
    if (grantType === "refresh_token") {
      const grant = this.refresh.get(form.get("refresh_token") ?? "");
      if (grant?.rotated) this.counters.reusedRefreshTokens++;
      if (!grant?.active || grant.clientId !== clientId) return this.invalidGrant("Invalid refresh token. Token not found.");
      // Rotation: the old token stops working; the client must store the one returned.
      grant.active = false;
      grant.rotated = true;
      this.counters.refreshes++;
      return this.tokens(issuer, clientId, grant.characterId, grant.scopes, now);
    }
    return json(400, { error: "unsupported_grant_type", error_description: `grant_type '${grantType}' is not supported` });
  }

  revoke(form: URLSearchParams, clientId: string): Reply {
    const grant = this.refresh.get(form.get("token") ?? "");
    if (grant && grant.clientId === clientId && grant.active) {
      grant.active = false;
      this.counters.revocations++;
    }
    return { status: 200, headers: {} };
  }
}

function routeOf(method: string, path: string): string {
  if (path === "/.well-known/oauth-authorization-server") return method === "GET" ? "metadata" : "method_not_allowed";
  if (path === "/oauth/jwks") return method === "GET" ? "jwks" : "method_not_allowed";
  if (path === "/v2/oauth/authorize") return method === "GET" ? "authorize" : "method_not_allowed";
  if (path === "/v2/oauth/token") return method === "POST" ? "token" : "method_not_allowed";
  if (path === "/v2/oauth/revoke") return method === "POST" ? "revoke" : "method_not_allowed";
  return "unknown";
}

/** The SSO's own base URL as the client reached it (the issuer of its tokens). */
function baseOf(req: In): string {
  return `http://${header(req, "host") ?? "127.0.0.1"}/sso`;
}

/** The client id of a token or revoke request: HTTP Basic (web apps), or `client_id` in the form (PKCE). */
function clientOf(req: In, form: URLSearchParams): string | undefined {
  const auth = header(req, "authorization");
  if (auth?.startsWith("Basic ")) {
    const [id] = Buffer.from(auth.slice(6), "base64").toString("utf8").split(":");
    return id || undefined;
  }
  return form.get("client_id") ?? undefined;
}

function chooser(ctx: Ctx, req: In): Reply {
  const pilots = ctx.world.entities.pilots.filter((id) => ctx.world.character(id)).slice(0, 10);
  const links = pilots
    .map((id) => {
      const q = new URLSearchParams(req.query);
      q.set("character", String(id));
      return `<li><a href="?${q.toString().replaceAll("&", "&amp;")}">${ctx.world.entities.characters.get(id)!.name} (${id})</a></li>`;
    })
    .join("");
  return {
    status: 200,
    headers: { "Content-Type": "text/html; charset=utf-8" },
    body: `<!doctype html><title>EVE SSO (simulator)</title><h1>Log in as</h1><ul>${links}</ul>`,
  };
}

function authorize(ctx: Ctx, req: In): Reply {
  const q = req.query;
  const redirectUri = q.get("redirect_uri") ?? "";
  let redirect: URL;
  try {
    redirect = new URL(redirectUri);
    if (redirect.protocol !== "http:" && redirect.protocol !== "https:") throw new Error("scheme");
  } catch {
    return error(400, "Invalid redirect_uri");
  }
  if (q.get("response_type") !== "code") return error(400, "response_type must be code");
  const clientId = q.get("client_id");
  if (!clientId) return error(400, "client_id is required");
  const state = q.get("state");
  if (!state) return error(400, "state is required");
  const challenge = q.get("code_challenge");
  if (!challenge || q.get("code_challenge_method") !== "S256") return error(400, "PKCE (code_challenge, S256) is required");
  const chosen = q.get("character");
  if (chosen === null) return chooser(ctx, req);
  const characterId = Number(chosen);
  if (!Number.isInteger(characterId) || !ctx.world.character(characterId)) return error(400, `no character ${chosen} can log in`);
  const scopes = (q.get("scope") ?? "").split(" ").filter(Boolean);
  const code = ctx.sso.authorize({ clientId, redirectUri, characterId, scopes, challenge }, req.now);
  redirect.searchParams.set("code", code);
  redirect.searchParams.set("state", state);
  return { status: 302, headers: { Location: redirect.toString() } };
}

async function route(ctx: Ctx, req: In, name: string): Promise<Reply> {
  const base = baseOf(req);
  switch (name) {
    case "metadata":
      return json(200, {
        issuer: base,
        authorization_endpoint: `${base}/v2/oauth/authorize`,
        token_endpoint: `${base}/v2/oauth/token`,
        response_types_supported: ["code", "token"],
        jwks_uri: `${base}/oauth/jwks`,
        revocation_endpoint: `${base}/v2/oauth/revoke`,
        revocation_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "client_secret_jwt"],
        token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "client_secret_jwt"],
        token_endpoint_auth_signing_alg_values_supported: ["HS256"],
        code_challenge_methods_supported: ["S256"],
      });
    case "jwks":
      return json(200, { keys: [await ctx.sso.publicJwk()], SkipUnresolvedJsonWebKeys: true });
    case "authorize":
      return authorize(ctx, req);
    case "token":
    case "revoke": {
      if (!/application\/x-www-form-urlencoded/.test(header(req, "content-type") ?? "")) {
        return json(400, { error: "invalid_request", error_description: "form body expected" });
      }
      const form = new URLSearchParams(req.body.toString("utf8"));
      const clientId = clientOf(req, form);
      if (!clientId) return json(401, { error: "invalid_client", error_description: "client authentication failed" });
      return name === "token" ? ctx.sso.token(base, form, clientId, req.now) : ctx.sso.revoke(form, clientId);
    }
    case "method_not_allowed":
      return error(405, "Method not allowed");
    default:
      return error(404, "Not found");
  }
}

async function handle(ctx: Ctx, req: In, name: string, injected: FaultAction): Promise<Handled> {
  if (injected.kind === "error") return { reply: error(injected.status, "Service unavailable"), violations: [] };
  return { reply: await route(ctx, req, name), violations: [] };
}

export const sso = { routeOf, handle };
