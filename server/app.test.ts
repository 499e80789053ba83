// The HTTP API through hono's app.request(), against the real Redis and Postgres: posting killmails
// (validation, intake, enqueue at the user tier, de-dup), zKillboard URLs resolved through the
// simulator's zKillboard API, reading them back exactly, status, admin.
import { afterAll, describe, expect, it } from "vitest";
import { type Simulator, startSimulator } from "../sim/server.ts";
import { loadCorpus } from "../test/support/corpus.ts";
import { useTestDatabase } from "../test/support/database.ts";
import { useTestQueues } from "../test/support/isolation.ts";
import { createApp } from "./app.ts";
import { sql } from "./db/client.ts";
import { serverDeps } from "./deps.ts";
import { setConfig } from "./helpers/config.ts";
import { storeKillmails } from "./killmails/store.ts";
import { Priority } from "./queues/priority.ts";
import { getQueue } from "./queues/queue.ts";

useTestDatabase("app");
useTestQueues("app");
const app = createApp();
const corpus = loadCorpus();
const hash = "0123456789abcdef0123456789abcdef01234567";

const post = (body: unknown) =>
  app.request("/api/killmails", {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });

describe("POST /api/killmails", () => {
  it("accepts {killmail_id, hash}, records it and enqueues it at the user tier", async () => {
    const res = await post({ killmail_id: 123456789, hash });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { jobId: string; status: string };
    expect(body).toMatchObject({ killmailId: 123456789, status: "queued", url: "/api/killmails/123456789" });
    const job = await getQueue("killmail").getJob(body.jobId);
    expect(job?.data).toEqual({ killmailId: 123456789, hash });
    expect(job?.opts.priority).toBe(Priority.user);
    const [row] = await sql()`select source, status from killmail_intake where killmail_id = 123456789`;
    expect(row).toEqual({ source: "http", status: "pending" });
    const again = await post({ url: `https://esi.evetech.net/latest/killmails/123456789/${hash}/` });
    expect(again.status).toBe(202);
    expect(await again.json()).toMatchObject({ jobId: body.jobId, status: "already-queued" });
  });

  it("rejects bad input with a reason", async () => {
    const cases: [unknown, RegExp][] = [
      ["not json", /JSON/],
      [{ killmail_id: 1, hash: "xyz" }, /hash: must be 40 lowercase hex/],
      [{ killmail_id: -1, hash }, /killmail_id/],
      [{ hello: 1 }, /expected/],
      [{ url: `https://example.com/killmails/1/${hash}` }, /not an ESI or zKillboard killmail URL/],
      [{ url: "https://esi.evetech.net/killmails/12/short/" }, /ESI killmail URL looks like/],
      // Without the zKillboard wiring (serverDeps) the app cannot resolve a zKillboard URL.
      [{ url: "https://zkillboard.com/kill/123/" }, /not supported/],
      // Ids past ESI's int32 range, in every form: a URL's id past int8 used to reach Postgres (500).
      [{ killmail_id: 2 ** 31, hash }, /killmail_id: must be a killmail id: a whole number from 1 to 2147483647/],
      [{ killmail_id: 2 ** 53 + 2, hash }, /killmail_id: must be a killmail id/],
      [{ killmail_id: 1.5, hash }, /killmail_id: must be a killmail id/],
      [{ killmail_id: "123", hash }, /killmail_id: must be a killmail id/],
      [{ url: `https://esi.evetech.net/killmails/99999999999999999999/${hash}/` }, /url: the killmail id must be a killmail id/],
      [{ url: `https://esi.evetech.net/killmails/2147483648/${hash}/` }, /url: the killmail id must be a killmail id/],
      [{ url: "https://zkillboard.com/kill/99999999999999999999/" }, /url: the killmail id must be a killmail id/],
      [{ url: "https://zkillboard.com/kill/0/" }, /url: the killmail id must be a killmail id/],
    ];
    for (const [input, reason] of cases) {
      const res = await post(input);
      expect(res.status, JSON.stringify(input)).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(reason);
    }
  });
});

describe("GET /api/killmails/:id", () => {
  it("returns the ESI body exactly, with values, for stored kills (including the biggest fights)", async () => {
    const picks = [
      corpus.reduce((a, b) => (b.esi.attackers.length > a.esi.attackers.length ? b : a)),
      ...corpus.filter((c) => c.category === "nested_items").slice(0, 2),
      corpus.find((c) => c.category === "structure")!,
    ];
    await storeKillmails(
      sql(),
      picks.map((c) => ({ esi: c.esi, hash: c.hash })),
    );
    for (const kill of picks) {
      const res = await app.request(`/api/killmails/${kill.esi.killmail_id}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { killmail: unknown; values: Record<string, unknown> };
      expect(body.killmail).toEqual(kill.raw);
      expect(Object.keys(body.values)).toEqual(expect.arrayContaining(["total", "destroyed", "dropped", "fitted"]));
    }
    const stored = picks[0]!;
    const res = await post({ killmail_id: stored.esi.killmail_id, hash: stored.hash });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "already-stored" });
  });

  it("answers 404 for unknown kills and 400 for bad ids", async () => {
    expect((await app.request("/api/killmails/42")).status).toBe(404);
    expect((await app.request("/api/killmails/abc")).status).toBe(400);
    // Past int32 (and past int8, which Postgres used to refuse with a 500).
    for (const id of ["2147483648", "99999999999999999999", "0"]) {
      const res = await app.request(`/api/killmails/${id}`);
      expect(res.status, id).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/from 1 to 2147483647/);
    }
    expect((await app.request("/api/killmails/2147483647")).status).toBe(404);
  });
});

describe("status and admin", () => {
  it("reports queue counts and the pipeline ledgers", async () => {
    const res = await app.request("/api/status");
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      queues: { queue: string; prioritized: number }[];
      pipeline: Record<string, number>;
      enrichment: Record<string, number>;
    };
    expect(body.queues.find((q) => q.queue === "killmail")?.prioritized).toBe(1);
    expect(body.pipeline).toMatchObject({ killmails: 4, valued: 4, intakePending: 1 });
    // The stored kills' names and types still to fetch: their outbox rows.
    const [outbox] = await sql()<{ names: number; types: number }[]>`
      select count(*) filter (where queue <> 'type')::int as names, count(*) filter (where queue = 'type')::int as types from outbox`;
    expect(outbox!.names).toBeGreaterThan(0);
    expect(body.enrichment).toMatchObject({ namesPending: outbox!.names, typesPending: outbox!.types, detailPending: 0 });
    expect((await app.request("/health")).status).toBe(200);
  });

  it("keeps the admin surface closed without a token and open with it", async () => {
    setConfig({ adminToken: undefined });
    expect((await app.request("/admin/api/queues/type/pause", { method: "POST" })).status).toBe(403);
    setConfig({ adminToken: "a-very-secret-admin-token" });
    expect((await app.request("/admin/api/queues/type/pause", { method: "POST" })).status).toBe(401);
    const bearer = { authorization: "Bearer a-very-secret-admin-token" };
    const paused = await app.request("/admin/api/queues/type/pause", { method: "POST", headers: bearer });
    expect(await paused.json()).toEqual({ queue: "type", paused: true });
    expect(await getQueue("type").isPaused()).toBe(true);
    await app.request("/admin/api/queues/type/resume", { method: "POST", headers: bearer });
    expect(await getQueue("type").isPaused()).toBe(false);
    expect((await app.request("/admin/api/queues/nope/pause", { method: "POST", headers: bearer })).status).toBe(404);
    const basic = { authorization: `Basic ${Buffer.from("admin:a-very-secret-admin-token").toString("base64")}` };
    const dashboard = await app.request("/admin/queues", { headers: basic });
    expect(dashboard.status).toBe(200);
    expect(await dashboard.text()).toContain("<html");
    const metrics = await app.request("/metrics", { headers: bearer });
    expect(await metrics.text()).toMatch(/killboard_queue_jobs\{queue="killmail",state="prioritized"\} 1/);
  });
});

describe("POST /api/killmails with a zKillboard URL", () => {
  let sim: Simulator | undefined;
  afterAll(() => sim?.stop());

  it("looks the kill up on zKillboard (/killID/{id}/) and enqueues it with its hash and ESI body", async () => {
    sim = await startSimulator({
      seed: 11,
      killmails: 300,
      feedRate: 0,
      feedShare: 0.5,
      zkbDelaySeconds: 0,
      corpus: false,
      catalog: "builtin",
      quiet: true,
    });
    setConfig({ zkbUrl: `${sim.url}/zkb`, esiUserAgent: "killboard-tests/1.0 tests@localhost" });
    const withZkb = createApp(serverDeps());
    const kill = sim.world.killmail(10);
    const res = await withZkb.request("/api/killmails", {
      method: "POST",
      body: JSON.stringify({ url: `https://zkillboard.com/kill/${kill.killmail_id}/` }),
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { jobId: string; status: string };
    expect(body).toMatchObject({ killmailId: kill.killmail_id, status: "queued" });
    const job = await getQueue("killmail").getJob(body.jobId);
    expect(job?.data).toEqual({ killmailId: kill.killmail_id, hash: kill.hash, esi: kill.esi });
    expect(job?.opts.priority).toBe(Priority.user);
    const [row] =
      await sql()`select hash, source, body is not null as "hasBody" from killmail_intake where killmail_id = ${kill.killmail_id}`;
    expect(row).toEqual({ hash: kill.hash, source: "http", hasBody: true });
    expect(
      sim
        .requests()
        .filter((r) => r.service === "zkb")
        .map((r) => r.url),
    ).toEqual([`/zkb/killID/${kill.killmail_id}/`]);

    // A kill zKillboard does not list (not yet published here) is refused with the reason.
    const unpublished = sim.world.killmail(290);
    const unknown = await withZkb.request("/api/killmails", {
      method: "POST",
      body: JSON.stringify({ url: `https://zkillboard.com/kill/${unpublished.killmail_id}/` }),
      headers: { "content-type": "application/json" },
    });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: string }).error).toMatch(/zKillboard does not know killmail/);

    // zKillboard failing is a 502 that says so, not a crash.
    sim.setFaults({ service: "zkb", errorRate: 1, errorStatuses: [503] });
    const down = await withZkb.request("/api/killmails", {
      method: "POST",
      body: JSON.stringify({ url: `https://zkillboard.com/kill/${sim.world.killmail(11).killmail_id}/` }),
      headers: { "content-type": "application/json" },
    });
    expect(down.status).toBe(502);
    expect(((await down.json()) as { error: string }).error).toMatch(/zKillboard.*503/);
    sim.setFaults([]);
  });
});
