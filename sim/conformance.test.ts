// Every ESI route the project uses, walked against a running simulator: each JSON body (successes and
// errors) must validate against the official spec's schema for that route, and the headers clients rely
// on (cache headers, killmail rate-limit headers, error-limit headers) must be present.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Simulator, startSimulator } from "./server.ts";
import { type EsiSpec, loadEsiSpec } from "./testing/spec.ts";

let sim: Simulator;
let spec: EsiSpec;
const UA = { "User-Agent": "sim-conformance/1.0 (tests@example.com)", "X-Compatibility-Date": "2026-08-18" };

beforeAll(async () => {
  sim = await startSimulator({ seed: 11, killmails: 400, quiet: true, feedRate: 0 });
  spec = loadEsiSpec();
});
afterAll(() => sim.stop());

async function call(path: string, init: RequestInit = {}) {
  const res = await fetch(sim.url + path, { ...init, headers: { ...UA, ...(init.headers as Record<string, string>) } });
  const text = await res.text();
  return { res, body: text ? (JSON.parse(text) as unknown) : undefined };
}

function expectValid(template: string, method: "get" | "post", status: "200" | "default", body: unknown) {
  const validate = spec.validator(template, method, status);
  const ok = validate(body);
  expect(ok, `${method} ${template} ${status}: ${JSON.stringify(validate.errors?.slice(0, 3))}`).toBe(true);
}

function expectCacheHeaders(res: Response) {
  expect(res.headers.get("etag")).toMatch(/^"[0-9a-f]{40}"$/);
  expect(Date.parse(res.headers.get("expires")!)).toBeGreaterThan(Date.now() - 1000);
  expect(Date.parse(res.headers.get("last-modified")!)).toBeLessThanOrEqual(Date.now());
  expect(res.headers.get("cache-control")).toMatch(/max-age=\d+/);
}

function expectErrorLimitHeaders(res: Response) {
  expect(Number(res.headers.get("x-esi-error-limit-remain"))).toBeGreaterThanOrEqual(0);
  expect(Number(res.headers.get("x-esi-error-limit-reset"))).toBeGreaterThan(0);
}

describe("ESI conformance with the 2026-08-18 spec", () => {
  it("GET /killmails/{id}/{hash}: every shape of killmail validates; wrong hash is a valid error body", async () => {
    const w = sim.world;
    // Every generated kill the world has plus every real one: all must match the schema.
    for (let i = 0; i < w.killmailCount; i += 7) {
      const rec = w.killmail(i);
      expectValid("/killmails/{killmail_id}/{killmail_hash}", "get", "200", rec.esi);
    }
    const rec = w.killmail(3);
    const { res, body } = await call(`/killmails/${rec.killmail_id}/${rec.hash}`);
    expect(res.status).toBe(200);
    expectValid("/killmails/{killmail_id}/{killmail_hash}", "get", "200", body);
    expectCacheHeaders(res);
    // Rate-limited routes carry X-Ratelimit-* instead of the error-limit headers (esi-docs).
    expect(res.headers.get("x-esi-error-limit-remain")).toBeNull();
    expect(res.headers.get("x-ratelimit-group")).toBe("killmail");
    expect(res.headers.get("x-ratelimit-limit")).toBe("3600/15m");
    expect(res.headers.get("x-ratelimit-used")).toBe("2");
    expect(Number(res.headers.get("x-ratelimit-remaining"))).toBeLessThanOrEqual(3598);
    const wrong = await call(`/killmails/${rec.killmail_id}/${"0".repeat(40)}`);
    expect(wrong.res.status).toBe(422);
    expect(wrong.body).toEqual({ error: "Invalid killmail_id and/or killmail_hash" });
    expectValid("/killmails/{killmail_id}/{killmail_hash}", "get", "default", wrong.body);
    expect(wrong.res.headers.get("x-ratelimit-used")).toBe("5");
  });

  it("characters, corporations, alliances (players, NPCs, deleted) validate", async () => {
    const e = sim.world.entities;
    const alive = e.pilots.filter((id) => !e.characters.get(id)!.deleted).slice(0, 15);
    for (const id of [...alive, e.npcCharacterIds[0]!]) {
      const { res, body } = await call(`/characters/${id}`);
      expect(res.status).toBe(200);
      expectValid("/characters/{character_id}", "get", "200", body);
      expectCacheHeaders(res);
      expectErrorLimitHeaders(res);
    }
    const deleted = await call(`/characters/${sim.world.deletedCharacterIds[0]}`);
    expect(deleted.res.status).toBe(404);
    expect(deleted.body).toEqual({ error: "Character not found" });
    expectValid("/characters/{character_id}", "get", "default", deleted.body);

    const corpIds = [...e.corporations.values()]
      .filter((c) => !c.npc)
      .slice(0, 10)
      .map((c) => c.id);
    for (const id of [...corpIds, 1_000_001, 1_000_127]) {
      const { res, body } = await call(`/corporations/${id}`);
      expect(res.status).toBe(200);
      expectValid("/corporations/{corporation_id}", "get", "200", body);
    }
    const list = await call("/alliances");
    expectValid("/alliances", "get", "200", list.body);
    expectCacheHeaders(list.res);
    for (const id of (list.body as number[]).slice(0, 8)) {
      const a = await call(`/alliances/${id}`);
      expectValid("/alliances/{alliance_id}", "get", "200", a.body);
      const corps = await call(`/alliances/${id}/corporations`);
      expectValid("/alliances/{alliance_id}/corporations", "get", "200", corps.body);
      expect((corps.body as number[]).length).toBeGreaterThan(0);
    }
    for (const path of ["/corporations/98999999999", "/alliances/1"]) {
      const r = await call(path);
      expect(r.res.status).toBe(404);
      expectValid("/alliances/{alliance_id}", "get", "default", r.body);
    }
  });

  it("universe types, groups and categories validate", async () => {
    for (const id of [587, 670, 33329, 3467, 34748, 11567, 23919, 35832, 691, 185, 2488]) {
      const { res, body } = await call(`/universe/types/${id}`);
      expect(res.status).toBe(200);
      expectValid("/universe/types/{type_id}", "get", "200", body);
      expectCacheHeaders(res);
      expect(res.headers.get("expires")).toMatch(/11:05:00 GMT$/);
      const groupId = (body as { group_id: number }).group_id;
      const g = await call(`/universe/groups/${groupId}`);
      expectValid("/universe/groups/{group_id}", "get", "200", g.body);
      expect((g.body as { types: number[] }).types).toContain(id);
      const c = await call(`/universe/categories/${(g.body as { category_id: number }).category_id}`);
      expectValid("/universe/categories/{category_id}", "get", "200", c.body);
      expect((c.body as { groups: number[] }).groups).toContain(groupId);
    }
    const missing = await call("/universe/types/999999999");
    expect(missing.res.status).toBe(404);
    expectValid("/universe/types/{type_id}", "get", "default", missing.body);
  });

  it("markets: prices and Forge history validate; non-market types are 404 with an error body", async () => {
    const prices = await call("/markets/prices");
    expect(prices.res.status).toBe(200);
    expectValid("/markets/prices", "get", "200", prices.body);
    expectCacheHeaders(prices.res);
    for (const id of [587, 2048, 185, 11567]) {
      const { res, body } = await call(`/markets/10000002/history?type_id=${id}`);
      expect(res.status).toBe(200);
      expectValid("/markets/{region_id}/history", "get", "200", body);
      // The world's dates plus ≥ 40 days before; rarely traded hulls (titans) skip many days.
      expect((body as unknown[]).length).toBeGreaterThan(id === 11567 ? 10 : 60);
    }
    for (const id of [34748, 670]) {
      const { res, body } = await call(`/markets/10000002/history?type_id=${id}`);
      expect(res.status).toBe(404);
      expectValid("/markets/{region_id}/history", "get", "default", body);
    }
  });

  it("POST /universe/names and /characters/affiliation validate, including their errors", async () => {
    const e = sim.world.entities;
    const ids = [587, 30000142, 10000002, 1_000_001, 500001, e.pilots[0]!, sim.world.allianceIds()[0]!, 60003760];
    const names = await call("/universe/names", { method: "POST", body: JSON.stringify(ids) });
    expect(names.res.status).toBe(200);
    expectValid("/universe/names", "post", "200", names.body);
    expect((names.body as { category: string }[]).map((n) => n.category)).toEqual([
      "inventory_type",
      "solar_system",
      "region",
      "corporation",
      "faction",
      "character",
      "alliance",
      "station",
    ]);
    expect(names.res.headers.get("etag")).toBeNull();
    const bad = await call("/universe/names", { method: "POST", body: JSON.stringify([587, 1]) });
    expect(bad.res.status).toBe(404);
    expectValid("/universe/names", "post", "default", bad.body);

    const chars = [...e.pilots.filter((id) => !e.characters.get(id)!.deleted).slice(0, 20), sim.world.deletedCharacterIds[0]!];
    const aff = await call("/characters/affiliation", { method: "POST", body: JSON.stringify(chars) });
    expect(aff.res.status).toBe(200);
    expectValid("/characters/affiliation", "post", "200", aff.body);
    expect((aff.body as { corporation_id: number }[]).at(-1)!.corporation_id).toBe(1_000_001);
    const tooMany = await call("/characters/affiliation", {
      method: "POST",
      body: JSON.stringify(Array.from({ length: 1001 }, (_, k) => 90_000_000 + k)),
    });
    expect(tooMany.res.status).toBe(400);
    expectValid("/characters/affiliation", "post", "default", tooMany.body);
  });

  it("GET /status validates, carries the status group's rate-limit headers, and answers 503 under a fault", async () => {
    const { res, body } = await call("/status");
    expect(res.status).toBe(200);
    expectValid("/status", "get", "200", body);
    expectCacheHeaders(res);
    expect(res.headers.get("x-ratelimit-group")).toBe("status");
    expect(res.headers.get("x-ratelimit-limit")).toBe("600/15m");
    expect(res.headers.get("x-esi-error-limit-remain")).toBeNull();
    // Tranquility down: ESI answers 503 to everything, /status included.
    sim.setFaults({ service: "esi", errorRate: 1, errorStatuses: [503] });
    const down = await call("/status");
    expect(down.res.status).toBe(503);
    expect(down.body).toEqual({ error: "The datasource tranquility is temporarily unavailable" });
    expectValid("/status", "get", "default", down.body);
    sim.setFaults([]);
    sim.reset();
  });

  it("420 and 429 bodies validate too", async () => {
    sim.forceErrorLimit(1);
    const r = await call("/alliances");
    expect(r.res.status).toBe(420);
    expectValid("/alliances", "get", "default", r.body);
    expectErrorLimitHeaders(r.res);
    sim.reset();
  });
});
