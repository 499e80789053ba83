// Names in bulk against the simulator and the real Postgres: many ids resolved by one /universe/names
// and one /characters/affiliation call; biomassed characters marked deleted from their affiliation;
// an id ESI does not know found by halving the request and marked deleted, the others still named;
// living entities get a detail job, deleted ones none.
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../../test/support/database.ts";
import { useTestQueues } from "../../test/support/isolation.ts";
import { useSimulator } from "../../test/support/upstream.ts";
import { sql } from "../db/client.ts";
import { getQueue } from "../queues/queue.ts";
import { NameCollector } from "./names.ts";

useTestQueues("names");
useTestDatabase("names");
const { sim } = await useSimulator({ seed: 21, killmails: 200, corpus: false });
const w = sim.world;
const alive = w.entities.pilots.filter((id) => !w.entities.characters.get(id)!.deleted);
const living = alive.slice(0, 30);
const others = alive.slice(30, 45);
const biomassed = w.deletedCharacterIds.slice(0, 3);
const corporations = [...new Set(living.map((id) => w.entities.characters.get(id)!.corporationId))].slice(0, 5);

describe("NameCollector", () => {
  it("names many entities with one call each for names and affiliations, and marks the biomassed", async () => {
    const collector = new NameCollector({ maxWaitMs: 50 });
    const outcomes = await Promise.all([
      ...living.map((id) => collector.submit("character", id)),
      ...biomassed.map((id) => collector.submit("character", id)),
      ...corporations.map((id) => collector.submit("corporation", id)),
    ]);
    expect(outcomes).toEqual([...living.map(() => "named"), ...biomassed.map(() => "deleted"), ...corporations.map(() => "named")]);
    expect(sim.requests().map((r) => `${r.method} ${new URL(r.url, sim.url).pathname} ${r.status}`)).toEqual([
      "POST /universe/names 200",
      "POST /characters/affiliation 200",
    ]);
    const chars = await sql()<{ id: number; name: string; corporation_id: number; deleted: boolean; detail: boolean }[]>`
      select character_id as id, name, corporation_id, deleted, detail_at is not null as detail from characters order by 1`;
    expect(chars).toHaveLength(living.length + biomassed.length);
    for (const c of chars) {
      const truth = w.entities.characters.get(c.id)!;
      expect(c).toMatchObject({ name: truth.name, deleted: truth.deleted, detail: false });
      expect(c.corporation_id).toBe(truth.deleted ? 1_000_001 : truth.corporationId);
    }
    // Detail follows for the living only.
    const details = (await getQueue("detail").getJobs(["prioritized", "waiting"])).map((j) => j.data as { kind: string; id: number });
    expect(
      details
        .filter((d) => d.kind === "character")
        .map((d) => d.id)
        .sort(),
    ).toEqual([...living].sort());
    expect(details.filter((d) => d.kind === "corporation")).toHaveLength(corporations.length);
    expect(collector.stats).toMatchObject({ batches: 1, ids: living.length + biomassed.length + corporations.length, esiCalls: 2 });
  });

  it("finds an id ESI does not know by halving the request; the others are named", async () => {
    sim.reset();
    const unknown = 97_900_000;
    expect(w.character(unknown)).toBeUndefined();
    const collector = new NameCollector({ maxWaitMs: 50 });
    const ids = [...others, unknown];
    const outcomes = await Promise.all(ids.map((id) => collector.submit("character", id)));
    expect(outcomes).toEqual([...others.map(() => "named"), "deleted"]);
    const names = sim.requests().filter((r) => r.url.endsWith("/universe/names"));
    // 16 ids: the whole, then halves down to the one id: a few 404s, not one per id.
    expect(names.filter((r) => r.status === 404).length).toBeLessThanOrEqual(5);
    expect(names.length).toBeLessThanOrEqual(9);
    const [row] = await sql()<{ deleted: boolean }[]>`select deleted from characters where character_id = ${unknown}`;
    expect(row).toEqual({ deleted: true });
  });

  it("leaves fresh and deleted entities alone: no ESI call", async () => {
    sim.reset();
    const collector = new NameCollector({ maxWaitMs: 50 });
    const outcomes = await Promise.all([...living.slice(0, 5), biomassed[0]!, 97_900_000].map((id) => collector.submit("character", id)));
    expect(outcomes).toEqual(["fresh", "fresh", "fresh", "fresh", "fresh", "fresh", "fresh"]);
    expect(sim.requests()).toEqual([]);
  });
});
