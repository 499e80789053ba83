// The authenticated route groups (char-killmail, corp-killmail) have a token bucket per application +
// character: the shared ESI budget keeps one per character, so one member's empty bucket holds back only
// that member's calls — never another's, never a 429 from ESI.
import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { EsiBlockedError } from "../server/esi/errors.ts";
import { getCharacterRecentKillmails } from "../server/esi/routes.ts";
import { redis } from "../server/helpers/redis.ts";
import { useTestQueues } from "./support/isolation.ts";
import { useSimulator } from "./support/upstream.ts";

const { prefix } = useTestQueues("sso-budget");
const { sim } = await useSimulator({ seed: 5, limits: { recentKillmailTokens: 6, recentKillmailWindowSeconds: 30 } });

/** An access token of the simulator's SSO for a character (authorization code + PKCE, as the server does). */
async function accessToken(characterId: number): Promise<string> {
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const query = new URLSearchParams({
    response_type: "code",
    client_id: "budgettests",
    redirect_uri: "http://127.0.0.1/cb",
    scope: "esi-killmails.read_killmails.v1",
    state: "s",
    code_challenge: challenge,
    code_challenge_method: "S256",
    character: String(characterId),
  });
  const authorized = await fetch(`${sim.url}/sso/v2/oauth/authorize?${query}`, { redirect: "manual" });
  const code = new URL(authorized.headers.get("location")!).searchParams.get("code")!;
  const res = await fetch(`${sim.url}/sso/v2/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code, code_verifier: verifier, client_id: "budgettests" }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

describe("per-character buckets of the authenticated routes", () => {
  it("hold back one member's calls when its bucket is empty, and no one else's", async () => {
    const [a, b] = sim.world.entities.pilots.filter((id) => sim.world.character(id));
    const [tokenA, tokenB] = [await accessToken(a!), await accessToken(b!)];
    const call = (id: number, token: string) => getCharacterRecentKillmails(id, { accessToken: token, characterId: id, maxWaitMs: 0 });
    // 6 tokens: three answers at 2 each; the budget reserves the worst cost (5) before each call.
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) {
      try {
        await call(a!, tokenA);
        outcomes.push("ok");
      } catch (err) {
        expect(err).toBeInstanceOf(EsiBlockedError);
        outcomes.push((err as EsiBlockedError).reason);
      }
    }
    expect(outcomes.filter((o) => o === "ok").length).toBeGreaterThanOrEqual(1);
    expect(outcomes.at(-1)).toBe("bucket");
    // Another member's bucket is full.
    expect((await call(b!, tokenB)).status).toBe("ok");
    expect(await redis().hget(`${prefix}:esi:bucket:char-killmail:${a}`, "limit")).toBe("6");
    expect(await redis().exists(`${prefix}:esi:bucket:char-killmail:${b}`)).toBe(1);
    expect(await redis().exists(`${prefix}:esi:bucket:char-killmail`)).toBe(0);
    expect(sim.stats().rateLimited).toBe(0);
  });
});
