// EVE SSO end to end, against the simulator's SSO and ESI, with real processes: two `bun queue` workers
// and `bun server`. A character logs in through /auth/login → the SSO → /auth/callback; its private kills
// (never on R2Z2 or zKillboard) are stored and valued within one sync, each fetched once, while its
// public kills (stored before, as from zKillboard) are not fetched at all. Forged, expired and
// wrong-audience tokens are refused at the callback; refresh tokens are sealed in Postgres (the raw
// string is in no table, log line or API answer); invalid_grant revokes a token and stops its syncs;
// many refresh requests for one token, from two processes, make one refresh; a corporation token
// without the Director role ends its sync after one 403, without touching the ESI error guard.
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { sql } from "../server/db/client.ts";
import { budgetState } from "../server/esi/budget.ts";
import { config, setConfig } from "../server/helpers/config.ts";
import { redis } from "../server/helpers/redis.ts";
import { submitKillmails } from "../server/killmails/intake.ts";
import { enqueueJob } from "../server/queues/enqueue.ts";
import { refreshCharacter } from "../server/sso/tokens.ts";
import type { SimRequest } from "../sim/server.ts";
import { useTestDatabase } from "./support/database.ts";
import { useTestQueues } from "./support/isolation.ts";
import { until } from "./support/poll.ts";
import { killAll, run, type Spawned, start } from "./support/spawn.ts";
import { useSimulator } from "./support/upstream.ts";

const { env: queues, prefix } = useTestQueues("sso");
const { env: database } = useTestDatabase("sso");
const { sim, env: simEnv } = await useSimulator({
  seed: 11,
  killmails: 2000,
  feedShare: 0,
  privateShare: 0.3,
  recentPageSize: 4,
  recentCacheSeconds: 2,
  corpus: false,
});
const w = sim.world;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const port = await freePort();
const api = `http://127.0.0.1:${port}`;
const key = randomBytes(32);
const adminToken = randomBytes(16).toString("hex");
const ssoEnv = {
  EVE_SSO_URL: `${sim.url}/sso`,
  EVE_SSO_CLIENT_ID: "killboardtests01",
  EVE_SSO_SECRET: "s3cret-of-the-tests",
  EVE_SSO_CALLBACK_URL: `${api}/auth/callback`,
  TOKEN_ENCRYPTION_KEY: key.toString("hex"),
  SSO_SYNC_INTERVAL_SECONDS: "3",
};
setConfig({
  adminToken,
  sso: {
    url: ssoEnv.EVE_SSO_URL,
    clientId: ssoEnv.EVE_SSO_CLIENT_ID,
    secret: ssoEnv.EVE_SSO_SECRET,
    callbackUrl: ssoEnv.EVE_SSO_CALLBACK_URL,
    encryptionKeys: [key],
    syncIntervalSeconds: 3,
  },
});
const env = {
  ...queues,
  ...database,
  ...simEnv,
  ...ssoEnv,
  ADMIN_TOKEN: adminToken,
  DEFAULT_SCHEDULERS: "off",
  // Every line the processes may write, so the grep for tokens below reads them all.
  LOG_LEVEL: "debug",
  LOG_FORMAT: "json",
};

let processes: Spawned[] = [];
afterAll(() => killAll());

/** Character kills (happened: the feed is caught up) split into private and public ones. */
function killsOf(characterId: number): { priv: number[]; pub: number[] } {
  const all = w.entityKills("character", characterId);
  return { priv: all.filter((i) => w.isPrivate(i)), pub: all.filter((i) => !w.isPrivate(i)) };
}

const alive = w.entities.pilots.filter((id) => w.character(id));
// The main character: the most private kills (on several pages of 4, few enough for a first read within
// its bucket of 30 tokens: 2 a page), and public ones too.
const ranked = alive
  .map((id) => ({ id, ...killsOf(id) }))
  .filter((c) => c.pub.length > 0 && c.pub.length + c.priv.length <= 40)
  .sort((a, b) => b.priv.length - a.priv.length);
const main = ranked[0]!;
const [revokedOne, refreshed] = ranked.slice(1, 3).map((c) => c.id) as [number, number];
// A character who is not its corporation's CEO (the simulator's only directors).
const member = alive.find((id) => {
  const corp = w.entities.corporations.get(w.entities.characters.get(id)!.corporationId);
  return corp && corp.ceoId !== id && id !== main.id && id !== revokedOne && id !== refreshed && corp.id >= 2_000_000;
})!;

/** The whole browser flow: /auth/login → the SSO's authorize (choosing the character) → /auth/callback. */
async function login(characterId: number, scopes?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const begin = await fetch(`${api}/auth/login${scopes ? `?scopes=${scopes}` : ""}`, { redirect: "manual" });
  expect(begin.status).toBe(302);
  const cookie = begin.headers.get("set-cookie")!.split(";")[0]!;
  const authorize = new URL(begin.headers.get("location")!);
  expect(authorize.searchParams.get("code_challenge_method")).toBe("S256");
  authorize.searchParams.set("character", String(characterId));
  const back = await fetch(authorize, { redirect: "manual" });
  expect(back.status).toBe(302);
  const callback = await fetch(back.headers.get("location")!, { headers: { cookie }, redirect: "manual" });
  return { status: callback.status, body: (await callback.json()) as Record<string, unknown> };
}

const esiRequests = (): SimRequest[] => sim.requests().filter((r) => r.service === "esi");
const killmailFetches = () => esiRequests().filter((r) => r.route === "killmail");

async function storedAndValued(ids: number[]): Promise<number> {
  const [row] = await sql()<{ n: number }[]>`
    select count(*)::int as n from killmails k join killmail_values v using (killmail_id)
    where k.killmail_id = any(${ids}::int8[])`;
  return row!.n;
}

async function tokenState(characterId: number): Promise<{ token_state: string; revoked_reason: string | null } | undefined> {
  const [row] = await sql()<{ token_state: string; revoked_reason: string | null }[]>`
    select token_state, revoked_reason from sso_characters where character_id = ${characterId}`;
  return row;
}

describe("EVE SSO login and members' kills", () => {
  it("starts two workers and the server", async () => {
    processes = [
      start("queue.ts", ["--summary-interval", "0"], env),
      start("queue.ts", ["--summary-interval", "0"], env),
      start("server/index.ts", [], { ...env, PORT: String(port) }),
    ];
    await processes[2]!.waitFor("server listening on");
    // The member's public kills are on the board already (as from zKillboard, with their bodies).
    const pub = main.pub.map((i) => w.killmail(i));
    await submitKillmails(
      pub.map((k) => ({ killmailId: k.killmail_id, hash: k.hash, esi: k.esi as never })),
      { source: "bench", batchJobKills: 100 },
    );
    await until(async () => (await storedAndValued(pub.map((k) => k.killmail_id))) === pub.length, 30_000, "public kills stored");
    sim.reset();
  }, 60_000);

  it("stores a logged-in character's private kills, valued, each fetched once, and nothing public", async () => {
    expect(main.priv.length).toBeGreaterThanOrEqual(3);
    const { status, body } = await login(main.id);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ status: "logged-in", character: { id: main.id }, syncs: [{ kind: "character", id: main.id }] });

    const privIds = main.priv.map((i) => w.idOfIndex(i));
    await until(async () => (await storedAndValued(privIds)) === privIds.length, 20_000, "private kills stored and valued").catch((err) => {
      process.stderr.write(
        `${processes
          .map((p) => p.stderr())
          .join("\n")
          .split("\n")
          .filter((l) => /sso|sync|token|error|fail/i.test(l))
          .slice(-40)
          .join("\n")}\n`,
      );
      process.stderr.write(
        `${JSON.stringify(
          esiRequests()
            .filter((r) => r.route !== "market_history")
            .slice(0, 30)
            .map((r) => [r.url, r.status]),
        )}\n`,
      );
      throw err;
    });

    // Exactly the private kills were fetched from ESI, each once; the public ones never.
    const fetched = killmailFetches().map((r) => Number(r.url.split("/")[2]));
    expect([...fetched].sort()).toEqual([...privIds].sort());
    const [row] = await sql()<{ n: number }[]>`select count(*)::int as n from killmails where killmail_id = any(${privIds}::int8[])`;
    expect(row!.n).toBe(privIds.length);
    // The first sync read every page (4 kills a page), with the member's token and its own bucket.
    const recent = esiRequests().filter((r) => r.route === "character_killmails");
    expect(recent.length).toBeGreaterThanOrEqual(Math.ceil((main.priv.length + main.pub.length) / 4));
    expect(await redis().exists(`${prefix}:esi:bucket:char-killmail:${main.id}`)).toBe(1);

    // The next polls are conditional: 304s, no page twice in one poll, no new fetch.
    await until(() => esiRequests().some((r) => r.route === "character_killmails" && r.status === 304), 15_000, "a 304 poll");
    expect(killmailFetches().length).toBe(privIds.length);
    const stats = sim.stats();
    expect(stats.errorLimited).toBe(0);
    expect(stats.rateLimited).toBe(0);
    expect(stats.violationsByKind["refetch-before-expires"] ?? 0).toBe(0);

    const list = await run("cli.ts", ["sso:list", "--json"], env);
    expect(list.code, list.stderr).toBe(0);
    const listed = JSON.parse(list.stdout) as {
      characterId: number;
      tokenState: string;
      syncs: { status: string; killmailsNew: number }[];
    }[];
    const mine = listed.find((c) => c.characterId === main.id)!;
    expect(mine.tokenState).toBe("valid");
    expect(mine.syncs).toEqual([expect.objectContaining({ status: "active", killmailsNew: privIds.length })]);
  }, 60_000);

  it.each([
    ["forged (signed with a key outside the JWKS)", { foreignKey: true }],
    ["expired", { expiresIn: -120 }],
    ["for another application", { audience: ["someone-else", "EVE Online"] }],
    ["without the EVE Online audience", { audience: ["killboardtests01"] }],
  ])("refuses a %s access token at the callback", async (_, tweak) => {
    const before = await sql()`select character_id from sso_characters`;
    const character = alive.at(-1)!;
    sim.sso.tweakNextToken(tweak);
    const { status, body } = await login(character);
    expect(status).toBe(400);
    expect(String(body.error)).toMatch(/access token refused/);
    expect(await tokenState(character)).toBeUndefined();
    expect((await sql()`select character_id from sso_characters`).length).toBe(before.length);
  });

  it("refuses a callback whose state is unknown, reused or from another browser", async () => {
    const begin = await fetch(`${api}/auth/login`, { redirect: "manual" });
    const authorize = new URL(begin.headers.get("location")!);
    authorize.searchParams.set("character", String(main.id));
    const back = await fetch(authorize, { redirect: "manual" });
    const callback = back.headers.get("location")!;
    const wrongBrowser = await fetch(callback, { headers: { cookie: "kb_sso_login=somebody-else" } });
    expect(wrongBrowser.status).toBe(400);
    // The state was used up by that attempt: the right browser cannot use it either.
    const cookie = begin.headers.get("set-cookie")!.split(";")[0]!;
    const reused = await fetch(callback, { headers: { cookie } });
    expect(reused.status).toBe(400);
    expect(((await reused.json()) as { error: string }).error).toMatch(/already used/);
  });

  it("marks a token revoked on invalid_grant and stops its syncs", async () => {
    expect((await login(revokedOne)).status).toBe(200);
    await until(
      async () => (await sql()`select 1 from sso_syncs where character_id = ${revokedOne} and last_sync_at is not null`).length > 0,
    );
    // The player revokes the application at CCP; the next refresh (the next poll, every 3 s, needs one
    // now that the access token is gone) is refused.
    sim.sso.revokeCharacter(revokedOne);
    await redis().del(`${prefix}:sso:access:${revokedOne}`);
    await until(async () => (await tokenState(revokedOne))?.token_state === "revoked", 15_000, "token revoked");
    expect((await tokenState(revokedOne))!.revoked_reason).toMatch(/invalid_grant/);
    const [syncRow] = await sql()<{ status: string }[]>`select status from sso_syncs where character_id = ${revokedOne}`;
    expect(syncRow!.status).toBe("stopped");
    // No retries of the refresh, and no more polls of its kills.
    await Bun.sleep(4_000);
    expect(sim.sso.stats().invalidGrants).toBe(1);
    const polls = esiRequests().filter((r) => r.url.startsWith(`/characters/${revokedOne}/killmails`)).length;
    await Bun.sleep(4_000);
    expect(esiRequests().filter((r) => r.url.startsWith(`/characters/${revokedOne}/killmails`)).length).toBe(polls);
    const list = JSON.parse((await run("cli.ts", ["sso:list", "--json"], env)).stdout) as { characterId: number; tokenState: string }[];
    expect(list.find((c) => c.characterId === revokedOne)?.tokenState).toBe("revoked");
    expect((await run("cli.ts", ["sso:sync", String(revokedOne)], env)).code).toBe(1);
  }, 60_000);

  it("refreshes one token once however many processes ask at the same time", async () => {
    expect((await login(refreshed)).status).toBe(200);
    const before = sim.sso.stats();
    const rounds = 5;
    for (let round = 0; round < rounds; round++) {
      await redis().del(`${prefix}:sso:access:${refreshed}`);
      // The token job (taken by one of the two worker processes) and three refreshes in this process.
      await enqueueJob("token", { characterId: refreshed }, { priority: "credentials" });
      const outcomes = await Promise.all([1, 2, 3].map(() => refreshCharacter(refreshed)));
      expect(outcomes.filter((o) => o.state === "refreshed").length).toBeLessThanOrEqual(1);
      await until(async () => (await redis().pttl(`${prefix}:sso:access:${refreshed}`)) > 60_000);
      await until(async () => (await sql()`select 1 from sso_characters where character_id = ${refreshed}`).length === 1);
      await Bun.sleep(300);
    }
    const after = sim.sso.stats();
    expect(after.refreshes - before.refreshes).toBe(rounds);
    expect(after.reusedRefreshTokens).toBe(0);
    expect(after.invalidGrants).toBe(before.invalidGrants);
    expect((await tokenState(refreshed))!.token_state).toBe("valid");
  }, 60_000);

  it("ends a corporation sync without the Director role after one 403, without an ESI error guard", async () => {
    const corporationId = w.entities.characters.get(member)!.corporationId;
    const { status, body } = await login(member, "character,corporation");
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.syncs).toEqual(expect.arrayContaining([{ kind: "corporation", id: corporationId }]));
    await until(
      async () =>
        (await sql()`select 1 from sso_syncs where kind = 'corporation' and entity_id = ${corporationId} and status = 'no-role'`).length >
        0,
      15_000,
      "corporation sync marked no-role",
    );
    await Bun.sleep(7_000);
    const forbidden = esiRequests().filter((r) => r.url.startsWith(`/corporations/${corporationId}/killmails`));
    expect(forbidden.map((r) => r.status)).toEqual([403]);
    expect((await budgetState()).guardUntil).toBe(0);
    const stats = sim.stats();
    expect(stats.errorLimitTrips).toBe(0);
    expect(stats.errorLimited).toBe(0);
    expect(stats.rateLimited).toBe(0);
    const listed = (await run("cli.ts", ["sso:list"], env)).stdout;
    expect(listed).toMatch(new RegExp(`corporation ${corporationId}.*no-role.*Director`));
    // The member's own sync goes on.
    const [own] = await sql()<{ status: string }[]>`select status from sso_syncs where kind = 'character' and entity_id = ${member}`;
    expect(own!.status).toBe("active");
  }, 60_000);

  it("keeps refresh tokens out of every table, log line and API answer", async () => {
    const tokens = [main.id, revokedOne, refreshed, member].flatMap((id) => sim.sso.refreshTokensOf(id));
    expect(tokens.length).toBeGreaterThan(8);
    const answers = await Promise.all(
      ["/api/status", "/admin/api/sso", "/metrics"].map(async (path) => {
        const res = await fetch(`${api}${path}`, { headers: { authorization: `Bearer ${adminToken}` } });
        expect(res.status, path).toBe(200);
        return res.text();
      }),
    );
    expect(answers[0]).toContain('"sso"');
    expect(answers[1]).toContain(String(main.id));
    expect(answers[2]).toContain("killboard_sso");
    const tables = await sql()<{ table_name: string }[]>`
      select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`;
    for (const p of processes) p.child.kill("SIGTERM");
    await Promise.all(processes.map((p) => p.result));
    const logs = processes.map((p) => p.stdout() + p.stderr()).join("\n");
    expect(logs).toContain("token refreshed");
    for (const token of tokens) {
      for (const { table_name } of tables) {
        const [hit] = await sql()<{ n: number }[]>`
          select count(*)::int as n from ${sql()(table_name)} t where strpos(t::text, ${token}) > 0`;
        expect(hit!.n, `${table_name} holds a refresh token`).toBe(0);
      }
      expect(logs.includes(token)).toBe(false);
      for (const answer of answers) expect(answer.includes(token)).toBe(false);
    }
    // Access tokens are in Redis only while they live, sealed.
    const sealed = await redis().get(`${prefix}:sso:access:${main.id}`);
    expect(sealed).toMatch(/^v1\./);
    expect(config().sso.encryptionKeys).toHaveLength(1);
  }, 60_000);
});
