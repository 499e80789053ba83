// Fan-out end to end against the simulator: kills stored → outbox → relayed jobs → character,
// corporation, alliance and type processors (real BullMQ workers) → rows in Postgres. Names come in
// bulk (/universe/names, /characters/affiliation: a few calls for every entity), biomassed characters
// are marked from their affiliation without a 404, each entity's own route follows as a detail job,
// NPCs are never asked for, detail refreshes are conditional (304) and never before expiry, bulk
// affiliation refreshes take one ESI call.
import type { Job, Worker } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import alliance from "../queue/alliance.ts";
import character from "../queue/character.ts";
import corporation from "../queue/corporation.ts";
import detail from "../queue/detail.ts";
import type from "../queue/type.ts";
import { sql } from "../server/db/client.ts";
import { type EsiKillmail, esiKillmailSchema } from "../server/esi/killmail-schema.ts";
import { config, setConfig } from "../server/helpers/config.ts";
import { referencesOf } from "../server/killmails/flatten.ts";
import { storeKillmails } from "../server/killmails/store.ts";
import { relayOutbox } from "../server/outbox/relay.ts";
import { enqueueJob } from "../server/queues/enqueue.ts";
import { Priority } from "../server/queues/priority.ts";
import { getQueue, getQueueStats } from "../server/queues/queue.ts";
import { type Simulator, startSimulator } from "../sim/server.ts";
import { useTestDatabase } from "./support/database.ts";
import { deleteKeys, useTestQueues } from "./support/isolation.ts";

useTestQueues("entities");
useTestDatabase("entities");

let sim: Simulator;
const workers: Worker[] = [];
let kills: EsiKillmail[] = [];

beforeAll(async () => {
  sim = await startSimulator({ port: 0, seed: 11, killmails: 300, feedRate: 0, zkbDelaySeconds: 0, corpus: false, quiet: true });
  const fast = { ratePerSecond: 1000 };
  setConfig({
    esiUrl: sim.url,
    esiUserAgent: "killboard-tests/1.0 tests@localhost",
    queues: { character: fast, corporation: fast, alliance: fast, type: fast, detail: fast },
  });
  kills = Array.from({ length: 40 }, (_, i) => esiKillmailSchema.parse(sim.world.killmail(i).esi));
  for (const mod of [character, corporation, alliance, type, detail]) {
    const worker = mod.createWorker();
    void worker.run();
    workers.push(worker);
  }
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  await sim.stop();
});

async function drained(): Promise<void> {
  const end = Date.now() + 60_000;
  for (;;) {
    const stats = await getQueueStats();
    const busy = stats
      .filter((s) => s.queue !== "price" && s.queue !== "killmail")
      .reduce((n, s) => n + s.waiting + s.prioritized + s.active + s.delayed, 0);
    if (busy === 0) return;
    if (Date.now() > end) throw new Error(`queues did not drain: ${JSON.stringify(stats)}`);
    await Bun.sleep(100);
  }
}

const ids = async (table: string, column: string) =>
  new Set((await sql().unsafe(`select ${column} as id from ${table} where not deleted`)).map((r) => Number(r.id)));

describe("fan-out processors", () => {
  it("fetch every player entity and type the kills name, mark deleted characters, skip NPCs", async () => {
    await storeKillmails(
      sql(),
      kills.map((esi, i) => ({ esi, hash: sim.world.killmail(i).hash })),
    );
    const wanted = {
      characters: new Set<number>(),
      corporations: new Set<number>(),
      alliances: new Set<number>(),
      types: new Set<number>(),
    };
    for (const k of kills) {
      const r = referencesOf(k);
      for (const x of r.characters) wanted.characters.add(x);
      for (const x of r.corporations) wanted.corporations.add(x);
      for (const x of r.alliances) wanted.alliances.add(x);
      for (const x of r.types) wanted.types.add(x);
    }
    while ((await relayOutbox()).relayed > 0);
    await drained();

    const deleted = new Set(sim.world.deletedCharacterIds.filter((id) => wanted.characters.has(id)));
    const live = [...wanted.characters].filter((id) => !deleted.has(id));
    expect(await ids("characters", "character_id")).toEqual(new Set(live));
    const markedDeleted = (await sql()<{ id: number }[]>`select character_id as id from characters where deleted`).map((r) => r.id);
    expect(new Set(markedDeleted)).toEqual(deleted);
    expect(await ids("corporations", "corporation_id")).toEqual(wanted.corporations);
    expect(await ids("alliances", "alliance_id")).toEqual(wanted.alliances);
    expect(await ids("types", "type_id")).toEqual(wanted.types);
    const [orphans] = await sql()`select count(*)::int as n from types t left join groups g using (group_id)
                                  left join categories c using (category_id) where c.category_id is null`;
    expect(orphans).toEqual({ n: 0 });
    // Every outbox row was closed by the job that did the work.
    expect((await sql()`select count(*)::int as n from outbox`)[0]).toEqual({ n: 0 });
    // NPC characters and corporations were never asked for.
    const npc = sim.requests().filter((r) => /\/characters\/[1-3]\d{6}$|\/corporations\/1\d{6}$/.test(r.url));
    expect(npc).toEqual([]);
    for (const q of ["character", "corporation", "alliance", "detail"] as const) expect((await getQueueStats(q)).failed).toBe(0);
    // Names in bulk: a handful of /universe/names and /characters/affiliation calls for every entity;
    // biomassed characters known from their affiliation, never asked for one by one (no 404 spent).
    const named = wanted.characters.size + wanted.corporations.size + wanted.alliances.size;
    const bulk = sim.requests().filter((r) => r.url.endsWith("/universe/names") || r.url.endsWith("/characters/affiliation"));
    expect(bulk.length).toBeGreaterThan(0);
    expect(bulk.length).toBeLessThanOrEqual(Math.ceil(named / 20));
    expect(bulk.every((r) => r.status === 200)).toBe(true);
    const askedDeleted = sim.requests().filter((r) => [...deleted].some((id) => r.url.endsWith(`/characters/${id}`)));
    expect(askedDeleted).toEqual([]);
    expect(sim.requests().filter((r) => r.status === 404)).toEqual([]);
    // Every living entity got its detail: birthdays, tickers.
    const [noDetail] = await sql()`
      select (select count(*) from characters where not deleted and (detail_at is null or birthday is null))::int
           + (select count(*) from corporations where not deleted and (detail_at is null or ticker is null))::int
           + (select count(*) from alliances where not deleted and (detail_at is null or ticker is null))::int as n`;
    expect(noDetail).toEqual({ n: 0 });
  });

  it("refreshes an entity's detail conditionally (304) and never before it expires", async () => {
    const [row] = await sql()<{ id: number }[]>`select character_id as id from characters where not deleted limit 1`;
    const id = row!.id;
    const asked = () => sim.requests().filter((r) => r.url.endsWith(`/characters/${id}`));
    const before = asked().length;
    const detailWorker = workers[4]!;
    const done = new Promise<Job>((resolve) => detailWorker.once("completed", (job) => resolve(job)));
    await enqueueJob("detail", { kind: "character", id }, { priority: Priority.user });
    expect((await done).data).toEqual({ kind: "character", id });
    expect(asked().length).toBe(before); // still fresh: not asked
    // Expired in our table but ESI's own Expires not reached: the shared memo answers, ESI is not asked.
    const rerun = async () => {
      await sql()`update characters set expires_at = now() - interval '1 minute' where character_id = ${id}`;
      const result = new Promise<unknown>((resolve) => detailWorker.once("completed", (_job, r) => resolve(r)));
      await enqueueJob("detail", { kind: "character", id }, { priority: Priority.user });
      return result;
    };
    expect(await rerun()).toBe("not-modified");
    expect(asked().length).toBe(before);
    // Past ESI's Expires too (memo gone): asked with If-None-Match, answered 304, expiry moved forward.
    await deleteKeys(`${config().queuePrefix}:esi:memo*`);
    expect(await rerun()).toBe("not-modified");
    expect(asked().length).toBe(before + 1);
    expect(asked().at(-1)?.status).toBe(304);
    const [fresh] = await sql()<
      { later: boolean }[]
    >`select expires_at > now() + interval '1 hour' as later from characters where character_id = ${id}`;
    expect(fresh).toEqual({ later: true });
  });

  it("refreshes affiliations of many characters in one ESI call and stores the changes", async () => {
    const characters = (await sql()<{ id: number }[]>`select character_id as id from characters where not deleted order by 1`).map(
      (r) => r.id,
    );
    await sql()`update characters set corporation_id = 1000001, alliance_id = null where character_id = any(${characters.slice(0, 5)})`;
    const posts = () => sim.requests().filter((r) => r.url.includes("/characters/affiliation")).length;
    const before = posts();
    const done = new Promise<unknown>((resolve) => workers[0]!.once("completed", (_job, result) => resolve(result)));
    await enqueueJob("character", { affiliation: characters }, { priority: Priority.routine });
    expect(await done).toEqual({ checked: characters.length, changed: 5, added: 0 });
    expect(posts() - before).toBe(1);
    const restored =
      await sql()`select count(*)::int as n from characters where character_id = any(${characters.slice(0, 5)}) and corporation_id <> 1000001`;
    expect(restored[0]).toEqual({ n: 5 });
    await getQueue("price").obliterate({ force: true });
  });
});
