// Prices against the simulator: `bun cli prices:update` and the price processor fetch /markets/prices and
// the Forge history of the market types kills name (never again before ESI's Expires; non-market types
// remembered), reprice them, and flag the kills whose values change; the flagged value pass then values
// those kills from the new prices.
import type { Worker } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import price from "../queue/price.ts";
import { sql } from "../server/db/client.ts";
import { esiKillmailSchema } from "../server/esi/killmail-schema.ts";
import { setConfig } from "../server/helpers/config.ts";
import { referencesOf } from "../server/killmails/flatten.ts";
import { storeKillmails } from "../server/killmails/store.ts";
import { valueRange } from "../server/killmails/values.ts";
import { buildInputs } from "../server/prices/blueprints.ts";
import { enqueueJob } from "../server/queues/enqueue.ts";
import { Priority } from "../server/queues/priority.ts";
import { getQueue, getQueueStats } from "../server/queues/queue.ts";
import { type Simulator, startSimulator } from "../sim/server.ts";
import { useTestDatabase } from "./support/database.ts";
import { useTestQueues } from "./support/isolation.ts";
import { run } from "./support/spawn.ts";

const queues = useTestQueues("prices");
const database = useTestDatabase("prices");
let sim: Simulator;
let env: Record<string, string>;
const marketTypes: number[] = [];
const otherTypes: number[] = [];
/** What prices:update fetches: the market types kills name and what their build costs read (materials, gantry parts). */
let pricedTypes: number[] = [];

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    seed: 3,
    killmails: 200,
    feedRate: 0,
    zkbDelaySeconds: 0,
    corpus: false,
    quiet: true,
    catalog: "builtin",
  });
  setConfig({ esiUrl: sim.url, esiUserAgent: "killboard-tests/1.0 tests@localhost" });
  env = { ...queues.env, ...database.env, ESI_URL: sim.url, ESI_USER_AGENT: "killboard-tests/1.0 tests@localhost" };
  // Twenty kills, with their types known (as the type processor would have stored them).
  const kills = Array.from({ length: 20 }, (_, i) => ({
    esi: esiKillmailSchema.parse(sim.world.killmail(i).esi),
    hash: sim.world.killmail(i).hash,
  }));
  await storeKillmails(sql(), kills);
  const typeIds = [...new Set(kills.flatMap((k) => referencesOf(k.esi).types))];
  for (const id of typeIds) {
    const t = sim.world.type(id) as { name: string; group_id: number; market_group_id?: number; published: boolean };
    const g = sim.world.group(t.group_id) as { name: string; category_id: number };
    const c = sim.world.category(g.category_id) as { name: string };
    await sql()`insert into categories (category_id, name) values (${g.category_id}, ${c.name}) on conflict do nothing`;
    await sql()`insert into groups (group_id, name, category_id) values (${t.group_id}, ${g.name}, ${g.category_id}) on conflict do nothing`;
    await sql()`insert into types (type_id, name, group_id, market_group_id, published)
                values (${id}, ${t.name}, ${t.group_id}, ${t.market_group_id ?? null}, ${t.published})`;
    (t.market_group_id !== undefined ? marketTypes : otherTypes).push(id);
  }
  marketTypes.sort((a, b) => a - b);
  pricedTypes = [...new Set([...marketTypes, ...buildInputs(typeIds)])].sort((a, b) => a - b);
  expect(pricedTypes.length).toBeGreaterThan(marketTypes.length); // titans and the gantry are among the kills
});
afterAll(() => sim.stop());

const historyCalls = () => sim.requests().filter((r) => r.url.includes("/history")).length;

describe("prices:update", () => {
  it("fetches prices and the Forge history of every market type, reprices, flags kills", async () => {
    const [before] = await sql()<{ unpriced: number }[]>`select sum(unpriced_count)::int as unpriced from killmail_values`;
    expect(before!.unpriced).toBeGreaterThan(0);
    const result = await run("cli.ts", ["prices:update", "--json"], env);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as { types: number; asked: number; rows: number; prices: number; notMarket: number };
    expect(summary.types).toBe(pricedTypes.length);
    expect(summary.asked).toBe(pricedTypes.length);
    expect(summary.rows).toBeGreaterThan(pricedTypes.length * 30);
    expect(summary.prices).toBeGreaterThan(0);
    const [mp] = await sql()`select count(*)::int as n from market_prices`;
    expect(mp!.n).toBeGreaterThan(100);
    const histories = await sql()<{ type_id: number }[]>`select distinct type_id from market_history order by 1`;
    const withHistory = histories.map((r) => r.type_id);
    const fetched = await sql()<{ type_id: number; market: boolean }[]>`select type_id, market from price_fetches order by 1`;
    expect(fetched.map((f) => f.type_id)).toEqual(pricedTypes);
    expect(withHistory.every((id) => pricedTypes.includes(id))).toBe(true);
    expect(fetched.filter((f) => !f.market).length).toBe(summary.notMarket);
  });

  it("does not ask for history again before ESI's Expires", async () => {
    const before = historyCalls();
    const result = await run("cli.ts", ["prices:update", "--json"], env);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ asked: 0, fresh: pricedTypes.length });
    expect(historyCalls()).toBe(before);
  });

  it("values the flagged kills from the new prices", async () => {
    const [ids] = await sql()<
      { lo: number; hi: number }[]
    >`select min(killmail_id)::int8 as lo, max(killmail_id)::int8 as hi from killmails`;
    await valueRange(sql(), { fromId: ids!.lo, toId: ids!.hi, mode: "flagged" });
    const [after] = await sql()<{ priced: number; total: string }[]>`
      select count(*) filter (where unpriced_count = 0)::int as priced, sum(total_value)::text as total from killmail_values`;
    expect(after!.priced).toBeGreaterThan(0);
    expect(Number(after!.total)).toBeGreaterThan(0);
  });

  it("--reprice recomputes every daily price and flags the kills whose prices changed", async () => {
    // A rule change stands in here as a stored price that no longer matches the rules.
    await sql()`update type_prices set price = price + 1 where type_id = (select min(type_id) from type_prices)`;
    const result = await run("cli.ts", ["prices:update", "--reprice", "--json"], env);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as { reprice: { written: number; marked: number } };
    expect(summary.reprice.written).toBeGreaterThan(0);
    const again = JSON.parse((await run("cli.ts", ["prices:update", "--reprice", "--json"], env)).stdout) as typeof summary;
    expect(again.reprice).toMatchObject({ written: 0, marked: 0 });
  });

  it("rejects bad --types with exit code 2", async () => {
    const result = await run("cli.ts", ["prices:update", "--types", "587,x"], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--types must be positive integer ids");
  });
});

describe("price processor", () => {
  let worker: Worker;
  beforeAll(() => {
    worker = price.createWorker();
    void worker.run();
  });
  afterAll(() => worker.close());

  it("fans an update out into history jobs of at most 100 types", async () => {
    await sql()`update price_fetches set expires_at = now() - interval '1 minute'`;
    const done = new Promise<unknown>((resolve) => worker.once("completed", (_job, result) => resolve(result)));
    await enqueueJob("price", { task: "update" }, { priority: Priority.user });
    expect(await done).toMatchObject({ types: pricedTypes.length, historyJobs: Math.ceil(pricedTypes.length / 100) });
    const end = Date.now() + 60_000;
    while (Date.now() < end) {
      const s = await getQueueStats("price");
      if (s.waiting + s.prioritized + s.active === 0) break;
      await Bun.sleep(100);
    }
    const completed = await getQueue("price").getCompleted();
    const history = completed.filter((j) => j.data.task === "history");
    expect(history.length).toBe(Math.ceil(pricedTypes.length / 100));
    expect(history.reduce((n, j) => n + (j.returnvalue as { asked: number; notModified: number }).asked, 0)).toBe(pricedTypes.length);
    expect((await getQueueStats("price")).failed).toBe(0);
  });

  it("fetches the history of market types never fetched, in one de-duplicated job", async () => {
    const forgotten = pricedTypes.slice(0, 3);
    await sql()`delete from price_fetches where type_id = any(${forgotten})`;
    const before = historyCalls();
    const done = new Promise<unknown>((resolve) => worker.once("completed", (_job, result) => resolve(result)));
    const first = await enqueueJob("price", { task: "new-types" }, { priority: Priority.backfill, delay: 200 });
    const second = await enqueueJob("price", { task: "new-types" }, { priority: Priority.backfill, delay: 200 });
    expect(second).toEqual({ jobId: first.jobId, added: false });
    expect(await done).toMatchObject({ asked: 3, rounds: 1 });
    expect(historyCalls() - before).toBe(3);
    const [row] = await sql()`select count(*)::int as n from price_fetches where type_id = any(${forgotten})`;
    expect(row).toEqual({ n: 3 });
  });
});
