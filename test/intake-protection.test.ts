// POST /api/killmails is open to anyone, and every kill it does not know costs an ESI fetch from the
// `killmail` token bucket (about 2 a second per IP, a 422 costing 5 tokens). These tests drive the route
// through hono's app.request() with the real killmail processor running against the simulator's ESI:
// id/hash pairs ESI refused are remembered (a repost costs no ESI call, another hash for the id may be
// tried), the body and id limits answer 413/400, and the Redis rate limits bound what a flood of bogus
// pairs costs ESI (and keep the error limit untouched), with the admin token exempt.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import killmailProcessor from "../queue/killmail.ts";
import { createApp } from "../server/app.ts";
import { sql } from "../server/db/client.ts";
import { budgetState } from "../server/esi/index.ts";
import { esiKillmailSchema } from "../server/esi/killmail-schema.ts";
import { config, type IntakeLimits, setConfig } from "../server/helpers/config.ts";
import { redis } from "../server/helpers/redis.ts";
import { storeKillmails } from "../server/killmails/store.ts";
import { getQueue } from "../server/queues/queue.ts";
import { addressKey, intakeKeys } from "../server/routes/intake-guard.ts";
import { useTestDatabase } from "./support/database.ts";
import { deleteKeys, useTestQueues } from "./support/isolation.ts";
import { killAll, start } from "./support/spawn.ts";
import { runUntilFinal, TEST_USER_AGENT, useSimulator } from "./support/upstream.ts";

const database = useTestDatabase("intake-protection");
const queues = useTestQueues("intake-protection");
const { sim, env: simEnv } = await useSimulator({ seed: 31, killmails: 50 });
const app = createApp();
const defaults = config().intake;
const ADMIN_TOKEN = "intake-protection-admin-token";

/** Fresh limits (a new minute) with these values; X-Forwarded-For trusted unless said otherwise. */
async function limits(values: Partial<IntakeLimits>, trustProxy = true) {
  await deleteKeys(`${queues.prefix}:intake:*`);
  setConfig({ intake: { ...defaults, ...values }, trustProxyHeader: trustProxy ? "x-forwarded-for" : undefined, adminToken: ADMIN_TOKEN });
}
beforeEach(() => limits({}, false));
afterEach(killAll);

const hex40 = (n: number) => n.toString(16).padStart(40, "0");

interface Answer {
  status: number;
  body: Record<string, unknown>;
  retryAfter: string | null;
}

async function post(body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await app.request("/api/killmails", {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "content-type": "application/json", ...headers },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, retryAfter: res.headers.get("retry-after") };
}

/** A post from the client at `address`, as the trusted proxy names it. */
const from = (address: string) => ({ "x-forwarded-for": address });

/** ESI killmail fetches the simulator answered so far. */
const killmailCalls = () => sim.stats().byRoute["esi.killmail"]?.total ?? 0;

/** Runs the real killmail processor until these jobs are final. */
async function work(jobIds: string[]) {
  return runUntilFinal("killmail", killmailProcessor.processor, jobIds);
}

// The ledger keeps one hash per id: a pair is remembered until another hash for the same id is posted.
// Alternating two bad hashes therefore costs a fetch each time, and each such post counts against the
// fetch limits like any unknown pair (below), so it buys an attacker nothing over fresh random pairs.
describe("id/hash pairs ESI refused", () => {
  it("are remembered: a repost answers 400 without an ESI call, another hash for the id is tried", async () => {
    const real = sim.world.killmail(3);
    const wrong = hex40(1);
    const first = await post({ killmail_id: real.killmail_id, hash: wrong });
    expect(first.status).toBe(202);
    const before = killmailCalls();
    const [job] = await work([first.body.jobId as string]);
    expect(job!.state).toBe("failed");
    expect(killmailCalls()).toBe(before + 1);
    const [row] = await sql()`select hash, status, error from killmail_intake where killmail_id = ${real.killmail_id}`;
    expect(row).toMatchObject({ hash: wrong, status: "failed" });
    expect(row!.error).toMatch(/^ESI rejected this id\/hash pair: esi .* → 422: Invalid killmail_id and\/or killmail_hash/);

    // The same pair again, as ids or as an ESI URL: refused at once, nothing queued, ESI not asked.
    for (const again of [
      { killmail_id: real.killmail_id, hash: wrong },
      { url: `https://esi.evetech.net/latest/killmails/${real.killmail_id}/${wrong}/` },
    ]) {
      const res = await post(again);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ killmailId: real.killmail_id, status: "known-bad" });
      expect(res.body.error).toMatch(/^known bad pair: ESI rejected this id\/hash pair/);
    }
    expect(await getQueue("killmail").getJobCounts("prioritized", "waiting", "active")).toEqual({ prioritized: 0, waiting: 0, active: 0 });
    expect(killmailCalls()).toBe(before + 1);

    // The right hash is another pair: tried, and stored.
    const right = await post({ killmail_id: real.killmail_id, hash: real.hash });
    expect(right).toMatchObject({ status: 202, body: { status: "queued" } });
    const [stored] = await work([right.body.jobId as string]);
    expect(stored!.state).toBe("completed");
    expect(killmailCalls()).toBe(before + 2);
    expect((await post({ killmail_id: real.killmail_id, hash: wrong })).body).toMatchObject({ status: "already-stored" });
  });

  it("a kill ESI does not know (422, or 404) is remembered by pair too; a kill that failed otherwise is not", async () => {
    const unknown = { killmail_id: 2_000_000_001, hash: hex40(2) };
    await work([(await post(unknown)).body.jobId as string]);
    expect((await post(unknown)).status).toBe(400);
    sim.setFaults({ service: "esi", route: "killmail", notFoundRate: 1, count: 1 });
    const gone = { killmail_id: 2_000_000_003, hash: hex40(5) };
    await work([(await post(gone)).body.jobId as string]);
    sim.setFaults([]);
    expect((await post(gone)).body.error).toMatch(/^known bad pair: .* → 404: Not found/);

    // A ledger row failed for another reason (a body Postgres refused, say) is re-opened by a repost.
    await sql()`insert into killmail_intake (killmail_id, hash, source, priority, status, error)
                values (2000000002, ${hex40(3)}, 'http', 1, 'failed', 'value out of range')`;
    expect((await post({ killmail_id: 2_000_000_002, hash: hex40(3) })).body).toMatchObject({ status: "queued" });
  });

  it("a second hash posted while the first is queued is not taken for bad when the first fails", async () => {
    const real = sim.world.killmail(4);
    const a = await post({ killmail_id: real.killmail_id, hash: hex40(4) });
    // The second post joins the pending job (same work key) and the ledger row now names its hash.
    const b = await post({ killmail_id: real.killmail_id, hash: real.hash });
    expect(b.body).toMatchObject({ status: "already-queued", jobId: a.body.jobId });
    await work([a.body.jobId as string]);
    // The job tried the first hash; the row keeps the second, pending, for reconcile to queue.
    const [row] = await sql()`select hash, status from killmail_intake where killmail_id = ${real.killmail_id}`;
    expect(row).toEqual({ hash: real.hash, status: "pending" });
    const again = await post({ killmail_id: real.killmail_id, hash: real.hash });
    expect(again).toMatchObject({ status: 202, body: { status: "queued" } });
    const [done] = await work([again.body.jobId as string]);
    expect(done!.state).toBe("completed");
  });
});

describe("the body and the id", () => {
  it("a body over INTAKE_MAX_BODY_BYTES answers 413 with a reason, however it is sent", async () => {
    const big = JSON.stringify({ url: `https://zkillboard.com/kill/1/${"x".repeat(5_000)}` });
    const sized = await post(big);
    expect(sized.status).toBe(413);
    expect(sized.body.error).toBe("request body too large: at most 4096 bytes");
    // Chunked, without a Content-Length: cut off while it streams in.
    const streamed = await app.request("/api/killmails", {
      method: "POST",
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode("x".repeat(1_000)));
          controller.close();
        },
      }),
      headers: { "content-type": "application/json" },
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
    // Up to the limit the body is read (here: not JSON, so 400).
    expect((await post("x".repeat(4_096))).status).toBe(400);
    await limits({ maxBodyBytes: 256 });
    expect((await post({ url: `https://zkillboard.com/kill/1/${"x".repeat(300)}` })).status).toBe(413);
  });

  it("an id past ESI's int32 range answers 400 without reaching Postgres or ESI", async () => {
    for (const bad of [
      { killmail_id: 2 ** 31, hash: hex40(9) },
      { killmail_id: 1e20, hash: hex40(9) },
      { url: `https://esi.evetech.net/killmails/99999999999999999999/${hex40(9)}/` },
      { url: "https://zkillboard.com/kill/3000000000/" },
    ]) {
      const res = await post(bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.error).toMatch(/must be a killmail id: a whole number from 1 to 2147483647/);
    }
    expect((await post({ killmail_id: 2_147_483_647, hash: hex40(9) })).status).toBe(202);
  });
});

describe("rate limits", () => {
  it("1,000 bogus pairs cost at most the total fetch limit in ESI calls, leave the error limit alone, and get 429 over it", async () => {
    await limits({ clientPostsPerMinute: 0, clientFetchesPerMinute: 5, totalFetchesPerMinute: 25 });
    // Nothing queued by earlier tests: every ESI call from here on is one of this flood's.
    await getQueue("killmail").drain(true);
    expect(await getQueue("killmail").getJobCounts("prioritized", "waiting", "delayed")).toEqual({
      prioritized: 0,
      waiting: 0,
      delayed: 0,
    });
    sim.reset();
    const answers: Answer[] = [];
    const bogus = (i: number) => ({ killmail_id: 1_500_000_000 + i, hash: hex40(1_000_000 + i) });
    // One eager client first: its own limit stops it at 5.
    for (let i = 0; i < 10; i++) answers.push(await post(bogus(i), from("198.51.100.7")));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202, 429, 429, 429, 429, 429]);
    expect(answers[5]!.body).toMatchObject({ limit: "client-fetches" });
    // Then 990 from 50 addresses, 30 at a time: the total limit stops them after 20 more.
    for (let i = 10; i < 1_000; i += 30) {
      const batch = Array.from({ length: Math.min(30, 1_000 - i) }, (_, j) => i + j);
      answers.push(...(await Promise.all(batch.map((n) => post(bogus(n), from(`203.0.113.9, 10.0.${n % 50}.1`))))));
    }
    expect(answers).toHaveLength(1_000);
    const accepted = answers.filter((a) => a.status === 202);
    const refused = answers.filter((a) => a.status === 429);
    expect(accepted).toHaveLength(25);
    expect(refused).toHaveLength(975);
    for (const r of refused) {
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(r.retryAfter)).toBeLessThanOrEqual(60);
      expect(r.body.retryAfter).toBe(Number(r.retryAfter));
      expect(r.body.error).toMatch(/^too many posts of killmails this server does not know.*at most \d+ a minute; retry in \d+ s$/);
    }
    expect(refused.filter((r) => r.body.limit === "total-fetches").length).toBeGreaterThan(900);

    // The worker runs every accepted job: each costs ESI one call, answered 422.
    const jobs = await work(accepted.map((a) => a.body.jobId as string));
    expect(jobs.every((j) => j.state === "failed")).toBe(true);
    expect(killmailCalls()).toBeLessThanOrEqual(25);
    expect(sim.stats().byRoute["esi.killmail"]?.byStatus).toEqual({ "422": 25 });

    // ESI's error limit is untouched: killmail 4xx are paid in tokens. The sim's figure for this client
    // (the next answer of an error-limited route tells it), the error answers it counted, our own guard.
    const errorCounted = sim.requests().filter((r) => r.service === "esi" && r.route !== "killmail" && r.status >= 400);
    expect(errorCounted.length).toBeLessThanOrEqual(20);
    const probe = await fetch(`${sim.url}/alliances`, { headers: { "user-agent": TEST_USER_AGENT } });
    expect(Number(probe.headers.get("x-esi-error-limit-remain"))).toBeGreaterThanOrEqual(80);
    expect(sim.stats()).toMatchObject({ errorLimited: 0, errorLimitTrips: 0 });
    expect((await budgetState()).guardUntil).toBe(0);

    // Reposting every one of them (from an address that has not posted yet, with the total used up):
    // known bad, answered without an ESI call, not counted.
    for (const [n, a] of accepted.entries()) {
      const again = await post(
        { killmail_id: a.body.killmailId, hash: hex40(1_000_000 + (a.body.killmailId as number) - 1_500_000_000) },
        from(`192.0.2.${n}`),
      );
      expect(again).toMatchObject({ status: 400, body: { status: "known-bad" } });
    }
    expect(killmailCalls()).toBe(25);

    // An operator is not limited; a wrong token is anonymous.
    const operator = await post(bogus(5_000), { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(operator).toMatchObject({ status: 202, body: { status: "queued" } });
    expect((await post(bogus(5_001), { authorization: "Bearer not-the-admin-token-at-all" })).status).toBe(429);
  }, 120_000);

  it("posts that cost ESI nothing (stored, queued; known bad: above) do not count against the fetch limits", async () => {
    await limits({ clientFetchesPerMinute: 2, totalFetchesPerMinute: 2 });
    const stored = sim.world.killmail(20);
    await storeKillmails(sql(), [{ esi: esiKillmailSchema.parse(stored.esi), hash: stored.hash }]);
    for (let i = 0; i < 10; i++) {
      expect((await post({ killmail_id: stored.killmail_id, hash: stored.hash })).body).toMatchObject({ status: "already-stored" });
    }
    const fresh = sim.world.killmail(21);
    const first = await post({ killmail_id: fresh.killmail_id, hash: fresh.hash });
    expect(first).toMatchObject({ status: 202, body: { status: "queued" } });
    for (let i = 0; i < 10; i++) {
      expect(await post({ url: `https://esi.evetech.net/killmails/${fresh.killmail_id}/${fresh.hash}/` })).toMatchObject({
        status: 202,
        body: { status: "already-queued", jobId: first.body.jobId },
      });
    }
    // Two fetches a minute: the second new kill passes, the third does not.
    expect((await post({ killmail_id: sim.world.killmail(22).killmail_id, hash: sim.world.killmail(22).hash })).status).toBe(202);
    const third = await post({ killmail_id: sim.world.killmail(23).killmail_id, hash: sim.world.killmail(23).hash });
    expect(third).toMatchObject({ status: 429, body: { limit: "client-fetches" } });
  });

  it("every post counts against INTAKE_CLIENT_POSTS_PER_MINUTE, per client", async () => {
    await limits({ clientPostsPerMinute: 5 });
    for (let i = 0; i < 5; i++) expect((await post({ hello: i }, from("198.51.100.1"))).status).toBe(400);
    const over = await post({ hello: 5 }, from("198.51.100.1"));
    expect(over).toMatchObject({ status: 429, body: { limit: "client-posts" } });
    expect(over.body.error).toMatch(/^too many killmail posts from your address: at most 5 a minute; retry in \d+ s$/);
    // Another client is not held up; neither is an operator.
    expect((await post({ hello: 6 }, from("198.51.100.2"))).status).toBe(400);
    expect((await post({ hello: 7 }, { ...from("198.51.100.1"), authorization: `Bearer ${ADMIN_TOKEN}` })).status).toBe(400);
  });

  it("the proxy header names the client only when TRUST_PROXY_HEADER is set, and only its last entry", async () => {
    // Not trusted: anyone could send it, so every post here counts for the one client app.request() is.
    await limits({ clientFetchesPerMinute: 3 }, false);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await post({ killmail_id: 1_600_000_000 + i, hash: hex40(i) }, from(`10.1.0.${i}`))).status);
    expect(statuses).toEqual([202, 202, 202, 429]);
    // Trusted: the last entry is the address the proxy saw; what the client put before it is ignored.
    await limits({ clientFetchesPerMinute: 3 });
    const spoofed = [];
    for (let i = 0; i < 4; i++) {
      spoofed.push((await post({ killmail_id: 1_600_000_100 + i, hash: hex40(i) }, from(`10.2.0.${i}, 198.51.100.50`))).status);
    }
    expect(spoofed).toEqual([202, 202, 202, 429]);
    expect((await post({ killmail_id: 1_600_000_200, hash: hex40(1) }, from("198.51.100.51"))).status).toBe(202);
  });

  it("keys clients by IPv4 address and IPv6 /64", () => {
    expect(addressKey("198.51.100.7")).toBe("198.51.100.7");
    expect(addressKey(" ::ffff:198.51.100.7 ")).toBe("198.51.100.7");
    expect(addressKey("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:db8:1:2::9")).toBe("2001:db8:1:2::/64");
    expect(addressKey("[2001:db8::1]")).toBe("2001:db8:0:0::/64");
    expect(addressKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
    expect(addressKey("unknown")).toBeUndefined();
    expect(addressKey("198.51.100.7:443")).toBeUndefined();
  });

  it("two `bun server` processes share the limits, counting clients by their connection's address", async () => {
    const env = {
      ...database.env,
      ...queues.env,
      ...simEnv,
      PORT: "0",
      INTAKE_CLIENT_FETCHES_PER_MINUTE: "4",
      INTAKE_TOTAL_FETCHES_PER_MINUTE: "100",
    };
    const servers = [start("server/index.ts", [], env), start("server/index.ts", [], env)];
    const urls: string[] = [];
    for (const server of servers) {
      await server.waitFor(/server listening on (http:\/\/\S+)/);
      urls.push(/server listening on (http:\/\/\S+)/.exec(server.stdout())![1]!);
    }
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${urls[i % 2]}/api/killmails`, {
        method: "POST",
        // A proxy header without TRUST_PROXY_HEADER: ignored.
        headers: { "content-type": "application/json", "x-forwarded-for": `10.3.0.${i}` },
        body: JSON.stringify({ killmail_id: 1_700_000_000 + i, hash: hex40(i) }),
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([202, 202, 202, 202, 429, 429]);
    const keys = await redis().keys(`${queues.prefix}:intake:client-fetches:*`);
    expect(keys).toEqual([intakeKeys().clientFetches("127.0.0.1")]);
  });
});
