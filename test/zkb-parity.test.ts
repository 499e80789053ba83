// zKillboard value parity on the simulator: kills imported with their zkb blocks (kept at intake) and
// priced from the simulator's ESI are valued exactly as an independent computation of zKillboard's rules
// (test/support/zkb-reference.ts, written from ../shared/valuation.md) — total, destroyed, dropped, fitted
// and totalDroppableValue to the cent, over generated kills that include first-hour kills, fixed-price
// hulls, titans and supercarriers with blueprints, structures with category-66 modules, nested containers,
// BPCs, frigate-bay ships and golden pods. verify:zkb then reports 100.00 % equal, an operator's custom
// price as the rule behind the difference it makes, and kills whose build data is missing.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyZkb } from "../server/backfill/verify-zkb.ts";
import { sql } from "../server/db/client.ts";
import { setConfig } from "../server/helpers/config.ts";
import { valueRange } from "../server/killmails/values.ts";
import { setCustomPrice } from "../server/prices/custom.ts";
import { ZKB_FIXED_PRICES } from "../server/prices/fixed-prices.ts";
import { refreshTypePrices } from "../server/prices/refresh.ts";
import { type Simulator, startSimulator } from "../sim/server.ts";
import { useTestDatabase } from "./support/database.ts";
import { useTestQueues } from "./support/isolation.ts";
import { run } from "./support/spawn.ts";
import { importWithPrices, OLD_KILL_ID, type ParityKill, parityKills } from "./support/zkb-parity.ts";
import { type RefItem, ZkbReference } from "./support/zkb-reference.ts";

const queues = useTestQueues("zkb_parity");
const database = useTestDatabase("zkb_parity");
let sim: Simulator;
let kills: ParityKill[];
const VANQUISHER = 42_126;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, seed: 11, killmails: 500, days: 6, feedRate: 0, corpus: false, quiet: true, catalog: "builtin" });
  setConfig({ esiUrl: sim.url, esiUserAgent: "killboard-tests/1.0 tests@localhost" });
  kills = parityKills(sim, 500);
  await importWithPrices(sim, kills);
}, 240_000);
afterAll(() => sim?.stop());

interface Stored {
  killmail_id: number;
  total: string;
  destroyed: string;
  dropped: string;
  fitted: string;
  droppable: string;
  unpriced: number;
}

async function reference(): Promise<ZkbReference> {
  const history = new Map<number, Map<number, number>>();
  for (const r of await sql()<{ type_id: number; day: number; average: string }[]>`
    select type_id, (date - date '1970-01-01') as day, average::text from market_history where region_id = 10000002`) {
    if (!history.has(r.type_id)) history.set(r.type_id, new Map());
    history.get(r.type_id)!.set(r.day, Number(r.average));
  }
  const types = new Map(
    (
      await sql()<{ type_id: number; group_id: number; category_id: number; name: string }[]>`
      select t.type_id, t.group_id, g.category_id, t.name from types t join groups g on g.group_id = t.group_id`
    ).map((t) => [t.type_id, { groupId: t.group_id, categoryId: t.category_id, name: t.name }]),
  );
  const file = JSON.parse(readFileSync(resolve(import.meta.dirname, "../data/blueprints.json"), "utf8")) as {
    products: Record<string, [number, [number, number][]]>;
  };
  const blueprints = new Map(Object.entries(file.products).map(([id, [units, materials]]) => [Number(id), { units, materials }]));
  return new ZkbReference({ history, types, fixed: ZKB_FIXED_PRICES, blueprints });
}

const stored = async () =>
  new Map(
    (
      await sql()<Stored[]>`
      select killmail_id, total_value::text as total, destroyed_value::text as destroyed, dropped_value::text as dropped,
             fitted_value::text as fitted, total_droppable_value::text as droppable, unpriced_count as unpriced
      from killmail_values`
    ).map((r) => [r.killmail_id, r]),
  );

const anyItem = (items: RefItem[] | undefined, test: (i: RefItem) => boolean): boolean =>
  (items ?? []).some((i) => test(i) || anyItem(i.items, test));

describe("values equal an independent computation of zKillboard's rules", () => {
  it("covers every case the rules name", () => {
    const types = sim.world.catalog.types;
    const has = (test: (k: ParityKill) => boolean) => kills.filter(test).length;
    const items = (k: ParityKill) => k.esi.victim.items as RefItem[] | undefined;
    const coverage = {
      firstHour: has((k) => {
        const t = k.esi.killmail_time.slice(11, 19);
        return t <= "01:00:00";
      }),
      fixedHull: has((k) => ZKB_FIXED_PRICES.some((f) => f.typeId === k.esi.victim.ship_type_id)),
      titanOrSuper: has((k) => [30, 659].includes(types.get(k.esi.victim.ship_type_id)?.groupId ?? 0)),
      structureModule: has((k) => anyItem(items(k), (i) => types.get(i.item_type_id)?.categoryId === 66)),
      nested: has((k) => anyItem(items(k), (i) => (i.items?.length ?? 0) > 0)),
      bpc: has((k) => anyItem(items(k), (i) => i.singleton === 2)),
      frigateBay: has((k) => anyItem(items(k), (i) => i.flag === 179)),
      goldenPod: has((k) => anyItem(items(k), (i) => i.item_type_id === 33329 && i.flag === 89)),
      gantry: has((k) => k.esi.victim.ship_type_id === 2233),
    };
    for (const [what, n] of Object.entries(coverage)) expect(n, what).toBeGreaterThan(0);
  });

  it("every kill's total, destroyed, dropped, fitted and droppable, to the cent", async () => {
    const ref = await reference();
    const rows = await stored();
    let compared = 0;
    const differ: string[] = [];
    for (const k of kills) {
      const ours = rows.get(k.esi.killmail_id);
      expect(ours, `kill ${k.esi.killmail_id} valued`).toBeDefined();
      expect(ours!.unpriced, `kill ${k.esi.killmail_id} fully priced`).toBe(0);
      const want = ref.values(k.esi as never);
      const got = {
        total: Number(ours!.total),
        destroyed: Number(ours!.destroyed),
        dropped: Number(ours!.dropped),
        fitted: Number(ours!.fitted),
        droppable: Number(ours!.droppable),
      };
      for (const f of ["total", "destroyed", "dropped", "fitted", "droppable"] as const) {
        if (Math.round(got[f] * 100) !== Math.round(want[f] * 100))
          differ.push(`${k.esi.killmail_id} ${f}: ours ${got[f]}, reference ${want[f]}`);
      }
      compared++;
    }
    expect(differ).toEqual([]);
    expect(compared).toBe(kills.length);
  });

  it("prices the rare hulls at zKillboard's fixed prices, titans at build cost, old kills' droppable at 0", async () => {
    const rows = await stored();
    const vanquisher = kills.find((k) => k.esi.victim.ship_type_id === VANQUISHER)!;
    expect(Number(rows.get(vanquisher.esi.killmail_id)!.destroyed)).toBeGreaterThanOrEqual(650e9);
    expect(rows.get(OLD_KILL_ID)!.droppable).toBe("0.00");
    const [titan] = await sql()<{ source: string }[]>`
      select source from type_prices where type_id = 11567 order by date desc limit 1`;
    expect(titan?.source).toBe("build");
  });
});

describe("verify:zkb", () => {
  it("reports 100.00 % equal with zKillboard's numbers kept at intake", async () => {
    const report = await verifyZkb(sql());
    expect(report).toMatchObject({ withZkb: kills.length, compared: kills.length, equal: kills.length, equalPercent: 100 });
    expect(report.largest).toEqual([]);
    expect(report.buildMissing.kills).toBe(0);
    const cli = await run("cli.ts", ["verify:zkb"], { ...queues.env, ...database.env, LOG_LEVEL: "silent" });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain(`equal to the cent (total, destroyed, dropped, fitted): ${kills.length} of ${kills.length} = 100.00 %`);
  });

  it("reports an operator's custom price as the rule behind the difference it makes", async () => {
    const result = await setCustomPrice({ typeId: VANQUISHER, price: "700000000000", note: "operator" });
    expect(result.marked).toBeGreaterThan(0);
    await valueRange(sql(), { fromId: 1, toId: 2_000_000_000, mode: "flagged" });
    const report = await verifyZkb(sql());
    expect(report.equal).toBe(kills.length - 1);
    expect(report.equalPercent).toBeLessThan(100);
    const vanquisher = kills.find((k) => k.esi.victim.ship_type_id === VANQUISHER)!;
    expect(report.largest[0]).toMatchObject({ killmailId: vanquisher.esi.killmail_id, difference: "50000000000.00" });
    expect(report.largest[0]!.rules).toEqual([
      "custom price: Vanquisher (42126) at 700000000000.00 ISK, zKillboard's list says 650000000000.00 (bun cli prices:custom)",
    ]);
    const cli = await run("cli.ts", ["verify:zkb", "--json"], { ...queues.env, ...database.env, LOG_LEVEL: "silent" });
    expect(JSON.parse(cli.stdout).largest[0].rules[0]).toContain("custom price: Vanquisher (42126)");
  });

  it("lists the kills whose build data is missing", async () => {
    const module = kills.find((k) => anyItem(k.esi.victim.items as RefItem[], (i) => i.item_type_id === 35_949));
    expect(module, "a kill with a Standup Focused Warp Disruptor I").toBeDefined();
    await sql()`delete from blueprint_materials where product_type_id = 35949`;
    await refreshTypePrices({ typeIds: [35_949] });
    const report = await verifyZkb(sql(), { limit: 1000 });
    expect(report.buildMissing.killmailIds).toContain(module!.esi.killmail_id);
  });
});
