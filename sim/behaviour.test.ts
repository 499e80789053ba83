// ESI behaviour clients depend on: conditional requests, error statuses, body limits, the killmail token
// bucket, the error limit, compatibility dates, legacy prefixes, User-Agent bookkeeping, fault injection
// and the request log/counters tests assert on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Simulator, startSimulator } from "./server.ts";

let sim: Simulator;
const H = { "User-Agent": "sim-behaviour/1.0 (tests@example.com)" };

beforeAll(async () => {
  sim = await startSimulator({
    seed: 5,
    killmails: 300,
    quiet: true,
    feedRate: 0,
    limits: { killmailTokens: 10, killmailWindowSeconds: 2, errorLimit: 6, errorWindowSeconds: 2 },
  });
});
afterAll(() => sim.stop());

const get = (path: string, headers: Record<string, string> = {}, client = "c-default") =>
  fetch(sim.url + path, { headers: { ...H, "X-Sim-Client": client, ...headers } });
const post = (path: string, body: unknown, client = "c-default") =>
  fetch(sim.url + path, {
    method: "POST",
    headers: { ...H, "X-Sim-Client": client, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (bounded) until a request answers something other than `status`. */
async function waitUntilNot(status: number, path: string, client: string): Promise<Response> {
  for (let k = 0; k < 60; k++) {
    const res = await get(path, {}, client);
    if (res.status !== status) return res;
    await sleep(100);
  }
  throw new Error(`${path} kept answering ${status}`);
}

describe("ESI behaviour", () => {
  it("answers 304 with no body on a matching If-None-Match or If-Modified-Since", async () => {
    const id = sim.world.entities.pilots.find((p) => !sim.world.entities.characters.get(p)!.deleted)!;
    const first = await get(`/characters/${id}`, {}, "c-304");
    const etag = first.headers.get("etag")!;
    const again = await get(`/characters/${id}`, { "If-None-Match": etag }, "c-304");
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect(again.headers.get("etag")).toBe(etag);
    const weak = await get(`/characters/${id}`, { "If-None-Match": `W/${etag}` }, "c-304");
    expect(weak.status).toBe(304);
    const ims = await get(`/characters/${id}`, { "If-Modified-Since": first.headers.get("last-modified")! }, "c-304");
    expect(ims.status).toBe(304);
    const other = await get(`/characters/${id}`, { "If-None-Match": '"nope"' }, "c-304");
    expect(other.status).toBe(200);
    // Asking again before Expires is counted as a violation.
    expect(sim.stats().violationsByKind["refetch-before-expires"]).toBeGreaterThanOrEqual(4);
  });

  it("answers 422 on a wrong hash, 404 on deleted characters and non-market types", async () => {
    const rec = sim.world.killmail(0);
    expect(
      (await get(`/killmails/${rec.killmail_id}/${rec.hash.replace(/^./, rec.hash[0] === "a" ? "b" : "a")}/`, {}, "c-err")).status,
    ).toBe(422);
    expect((await get(`/killmails/999/${rec.hash}/`, {}, "c-err")).status).toBe(422);
    const deleted = await get(`/characters/${sim.world.deletedCharacterIds[0]}/`, {}, "c-err");
    expect(deleted.status).toBe(404);
    expect(await deleted.json()).toEqual({ error: "Character not found" });
    const skin = await get("/markets/10000002/history/?type_id=34748", {}, "c-err");
    expect(skin.status).toBe(404);
    sim.reset();
  });

  it("rejects POST bodies over 1000 ids, duplicates, and empty arrays", async () => {
    const ids = Array.from({ length: 1001 }, (_, k) => 587 + k);
    expect((await post("/universe/names", ids, "c-post")).status).toBe(400);
    expect((await post("/universe/names", [587, 587], "c-post")).status).toBe(400);
    expect((await post("/characters/affiliation", [], "c-post")).status).toBe(400);
    expect(
      (
        await post(
          "/universe/names",
          ids
            .slice(0, 1000)
            .map(() => 587)
            .map((x, k) => (k === 0 ? x : 0)),
          "c-post",
        )
      ).status,
    ).toBe(400);
    const ok = await post("/universe/names", [587, 670], "c-post");
    expect(await ok.json()).toEqual([
      { category: "inventory_type", id: 587, name: "Rifter" },
      { category: "inventory_type", id: 670, name: "Capsule" },
    ]);
    sim.reset();
  });

  it("token bucket: 429 with Retry-After once the killmail group is spent, recovery after the window", async () => {
    const recs = [0, 1, 2, 3, 4, 5, 6].map((i) => sim.world.killmail(i));
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (const r of recs) {
      const res = await get(`/killmails/${r.killmail_id}/${r.hash}/`, {}, "c-bucket");
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers.get("retry-after");
        expect(res.headers.get("x-ratelimit-remaining")).toBe("0");
        expect(res.headers.get("x-ratelimit-used")).toBe("0");
      }
    }
    // 10 tokens at 2 per 200: five fetches, then 429.
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    // Another client has its own bucket.
    expect((await get(`/killmails/${recs[0]!.killmail_id}/${recs[0]!.hash}/`, {}, "c-bucket-2")).status).toBe(200);
    const recovered = await waitUntilNot(429, `/killmails/${recs[6]!.killmail_id}/${recs[6]!.hash}/`, "c-bucket");
    expect(recovered.status).toBe(200);
    expect(sim.stats().violationsByKind["ignored-retry-after"]).toBeGreaterThanOrEqual(1);
    sim.reset();
  });

  it("error limit: past the limit every route answers 420 until the window resets", async () => {
    const statuses: number[] = [];
    for (let k = 0; k < 6; k++) {
      const res = await get("/characters/1/", {}, "c-420");
      statuses.push(res.status);
      expect(Number(res.headers.get("x-esi-error-limit-remain"))).toBe(5 - k);
    }
    expect(statuses.every((s) => s === 404)).toBe(true);
    const limited = await get("/alliances", {}, "c-420");
    expect(limited.status).toBe(420);
    expect(((await limited.json()) as { error: string }).error).toMatch(/^This software has exceeded the error limit for ESI/);
    expect(limited.headers.get("x-esi-error-limit-remain")).toBe("0");
    expect((await get("/universe/types/587", {}, "c-420")).status).toBe(420);
    expect((await post("/universe/names", [587], "c-420")).status).toBe(420);
    // Other clients are not affected.
    expect((await get("/alliances", {}, "c-other")).status).toBe(200);
    const stats = sim.stats();
    expect(stats.errorLimited).toBe(3);
    expect(stats.requestsDuring420).toBe(3);
    expect(stats.errorLimitTrips).toBe(1);
    const after = await waitUntilNot(420, "/alliances", "c-420");
    expect(after.status).toBe(200);
    sim.reset();
  });

  it("forced 420 windows via the admin API", async () => {
    const res = await fetch(`${sim.url}/_sim/error-limit?seconds=1`, { method: "POST" });
    expect(res.status).toBe(200);
    expect((await get("/alliances", {}, "c-forced")).status).toBe(420);
    expect((await waitUntilNot(420, "/alliances", "c-forced")).status).toBe(200);
    sim.reset();
  });

  it("X-Compatibility-Date: today or earlier accepted, a future date rejected", async () => {
    expect((await get("/alliances", { "X-Compatibility-Date": "2026-08-18" }, "c-compat")).status).toBe(200);
    expect((await get("/alliances", { "X-Compatibility-Date": "2099-01-01" }, "c-compat")).status).toBe(400);
    expect((await get("/alliances", { "X-Compatibility-Date": "yesterday" }, "c-compat")).status).toBe(400);
    sim.reset();
  });

  it("accepts legacy prefixes and trailing slashes", async () => {
    for (const prefix of ["", "/latest", "/legacy", "/v1", "/v5", "/dev"]) {
      for (const slash of ["", "/"]) {
        const res = await get(`${prefix}/universe/types/587${slash}`, {}, "c-prefix");
        expect(res.status).toBe(200);
        expect(((await res.json()) as { name: string }).name).toBe("Rifter");
      }
    }
    sim.reset();
  });

  it("serves requests without a User-Agent but counts them as violations", async () => {
    const res = await fetch(`${sim.url}/universe/types/587`, { headers: { "User-Agent": "", "X-Sim-Client": "c-noua" } });
    expect(res.status).toBe(200);
    const s = sim.stats();
    expect(s.violationsByKind["missing-user-agent"]).toBe(1);
    expect(sim.requests().find((r) => r.client === "c-noua")!.violations).toContain("missing-user-agent");
    sim.reset();
  });

  it("gzip when asked", async () => {
    const res = await get("/markets/prices", { "Accept-Encoding": "gzip" }, "c-gzip");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-encoding")).toBe("gzip");
    expect(Array.isArray(await res.json())).toBe(true);
    sim.reset();
  });
});

describe("fault injection", () => {
  it("5xx with ESI's real messages, limited to the next N matching requests", async () => {
    sim.setFaults({ service: "esi", route: "alliances", errorRate: 1, errorStatuses: [502], count: 2 });
    const a = await get("/alliances", {}, "c-f5");
    expect(a.status).toBe(502);
    expect(await a.json()).toEqual({ error: "The datasource tranquility is temporarily unavailable" });
    expect((await get("/alliances", {}, "c-f5")).status).toBe(502);
    expect((await get("/alliances", {}, "c-f5")).status).toBe(200);
    expect((await get("/universe/types/587", {}, "c-f5")).status).toBe(200);
    expect(sim.stats().faults.error).toBe(2);
    sim.setFaults([]);
    sim.reset();
  });

  it("a share of errors comes out near the configured share", async () => {
    sim.setFaults({ route: "type", errorRate: 0.5 });
    let errors = 0;
    for (let k = 0; k < 40; k++) if ((await get("/universe/types/587", {}, `c-share-${k}`)).status >= 500) errors++;
    expect(errors).toBeGreaterThan(8);
    expect(errors).toBeLessThan(32);
    sim.setFaults([]);
    sim.reset();
  });

  it("hangs (client must time out), resets (connection dropped) and malformed JSON", async () => {
    sim.setFaults({ route: "alliances", hangRate: 1, count: 1 });
    await expect(fetch(`${sim.url}/alliances`, { headers: H, signal: AbortSignal.timeout(300) })).rejects.toThrow();
    sim.setFaults({ route: "alliances", resetRate: 1, count: 1 });
    await expect(fetch(`${sim.url}/alliances`, { headers: H })).rejects.toThrow();
    sim.setFaults({ route: "alliances", malformedRate: 1, count: 1 });
    const bad = await fetch(`${sim.url}/alliances`, { headers: H });
    expect(bad.status).toBe(200);
    const text = await bad.text();
    expect(() => JSON.parse(text)).toThrow();
    expect((await fetch(`${sim.url}/alliances`, { headers: H })).status).toBe(200);
    const s = sim.stats();
    expect(s.faults).toMatchObject({ hang: 1, reset: 1, malformed: 1 });
    expect(
      sim
        .requests()
        .filter((r) => r.status === 0)
        .map((r) => r.fault),
    ).toEqual(["hang", "reset"]);
    sim.reset();
  });

  it("latency, set through the admin endpoint", async () => {
    const res = await fetch(`${sim.url}/_sim/faults`, {
      method: "PUT",
      body: JSON.stringify([{ route: "alliances", latencyMs: 50, count: 1 }]),
    });
    expect(res.status).toBe(200);
    expect(await (await fetch(`${sim.url}/_sim/faults`)).json()).toHaveLength(1);
    expect((await get("/alliances", {}, "c-lat")).status).toBe(200);
    expect(sim.requests().at(-1)!.fault).toBe("latency");
    sim.setFaults([]);
  });
});

describe("request log and counters", () => {
  it("counts per route and status, and reset clears them (through the admin API too)", async () => {
    sim.reset();
    await get("/universe/types/587", {}, "c-log");
    await get("/universe/types/1", {}, "c-log");
    await get("/characters/1", {}, "c-log");
    const stats = (await (await fetch(`${sim.url}/_sim/stats`)).json()) as ReturnType<Simulator["stats"]>;
    expect(stats.total).toBe(3);
    expect(stats.byRoute["esi.type"]).toEqual({ total: 2, byStatus: { "200": 1, "404": 1 } });
    expect(stats.byRoute["esi.character"]).toEqual({ total: 1, byStatus: { "404": 1 } });
    const log = (await (await fetch(`${sim.url}/_sim/requests`)).json()) as { url: string; status: number }[];
    expect(log.map((r) => [r.url, r.status])).toEqual([
      ["/universe/types/587", 200],
      ["/universe/types/1", 404],
      ["/characters/1", 404],
    ]);
    expect((await fetch(`${sim.url}/_sim/reset`, { method: "POST" })).status).toBe(200);
    expect(sim.stats().total).toBe(0);
    expect(sim.requests()).toEqual([]);
  });
});
