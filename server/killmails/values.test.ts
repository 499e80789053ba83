// Valuation rules against the real Postgres, one test per rule, on hand-built kills stored through the
// ingest path (values written with the kill) and revalued through valueRange. Prices are hand-set in
// type_prices (the window rule that fills it is tested in server/prices/refresh.test.ts).
import { beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "../../test/support/database.ts";
import { sql } from "../db/client.ts";
import type { EsiItem, EsiKillmail } from "../esi/killmail-schema.ts";
import { refreshTypePrices } from "../prices/refresh.ts";
import { storeKillmails } from "./store.ts";
import { valueRange } from "./values.ts";

useTestDatabase("values");

const DAY = "2026-05-01";
const T = {
  rifter: 587, // Frigate (25)
  capsule: 670, // Capsule (29)
  shuttle: 672, // Shuttle (31)
  rookie: 588, // Rookie ship (237)
  autocannon: 2889, // module (cat 7)
  hail: 12608, // charge (cat 8)
  hobgoblin: 2456, // drone (cat 18)
  skin: 34000, // SKIN (cat 91)
  blueprint: 691, // blueprint (cat 9), name has "Blueprint"
  container: 3293, // cargo container (cat 2)
  goldenPod: 33329, // implant (cat 20)
  implant: 9899, // another implant
  astrahus: 35832, // structure (cat 65)
  unpriced: 99001, // known type without a price
  unknown: 99999, // not in types at all
} as const;

/** Price on DAY for kills at 01:00 or later, and for kills in the first hour. */
const PRICES: Record<number, [string, string]> = {
  [T.rifter]: ["500000.00", "400000.00"],
  [T.shuttle]: ["20000.00", "20000.00"],
  [T.rookie]: ["5000.00", "5000.00"],
  [T.autocannon]: ["1000000.00", "900000.00"],
  [T.hail]: ["10.00", "10.00"],
  [T.hobgoblin]: ["300000.00", "300000.00"],
  [T.skin]: ["5000000.00", "5000000.00"],
  [T.blueprint]: ["2000000.00", "2000000.00"],
  [T.container]: ["10000.00", "10000.00"],
  [T.goldenPod]: ["5000000000.00", "5000000000.00"],
  [T.implant]: ["30000000.00", "30000000.00"],
  [T.astrahus]: ["1500000000.00", "1500000000.00"],
};

beforeAll(async () => {
  const db = sql();
  await db`insert into categories (category_id, name) values
           (2, 'Celestial'), (6, 'Ship'), (7, 'Module'), (8, 'Charge'), (9, 'Blueprint'), (18, 'Drone'),
           (20, 'Implant'), (65, 'Structure'), (91, 'SKINs')`;
  await db`insert into groups (group_id, name, category_id) values
           (25, 'Frigate', 6), (29, 'Capsule', 6), (31, 'Shuttle', 6), (237, 'Rookie ship', 6),
           (55, 'Projectile Weapon', 7), (83, 'Projectile Ammo', 8), (100, 'Combat Drone', 18),
           (1950, 'Permanent SKIN', 91), (105, 'Frigate Blueprint', 9), (12, 'Cargo Container', 2),
           (300, 'Cyberimplant', 20), (1657, 'Citadel', 65)`;
  await db`insert into types (type_id, name, group_id) values
           (587, 'Rifter', 25), (670, 'Capsule', 29), (672, 'Caldari Shuttle', 31), (588, 'Reaper', 237),
           (2889, '200mm AutoCannon II', 55), (12608, 'Hail S', 83), (2456, 'Hobgoblin II', 100),
           (34000, 'Rifter Firewall SKIN', 1950), (691, 'Rifter Blueprint', 105),
           (3293, 'Medium Standard Container', 12), (33329, 'Genolution ''Auroral'' AU-79', 300),
           (9899, 'Ocular Filter - Basic', 300), (35832, 'Astrahus', 1657), (99001, 'Unpriced Thing', 55)`;
  // All of them are market types (a market group): their prices come from type_prices.
  await db`update types set market_group_id = 1`;
  for (const [typeId, [price, early]] of Object.entries(PRICES)) {
    await db`insert into type_prices (type_id, date, price, price_early, source)
             values (${Number(typeId)}, ${DAY}, ${price}, ${early}, 'history')`;
  }
});

let nextId = 100_000_000;
const PILOT = 95_000_001;
const CORP = 98_000_001;

interface KillSpec {
  id?: number;
  time?: string;
  ship?: number;
  items?: EsiItem[];
  victim?: Partial<EsiKillmail["victim"]>;
  attackers?: EsiKillmail["attackers"];
}

function kill(spec: KillSpec = {}): EsiKillmail {
  return {
    killmail_id: spec.id ?? nextId++,
    killmail_time: spec.time ?? `${DAY}T12:00:00Z`,
    solar_system_id: 30000142,
    victim: {
      ship_type_id: spec.ship ?? T.rifter,
      damage_taken: 1000,
      character_id: 95_500_001,
      corporation_id: 98_500_001,
      items: spec.items ?? [],
      ...spec.victim,
    },
    attackers: spec.attackers ?? [
      { damage_done: 1000, final_blow: true, security_status: 0, character_id: PILOT, corporation_id: CORP, ship_type_id: T.rifter },
    ],
  };
}

const item = (flag: number, type: number, dropped: number, destroyed: number, extra: Partial<EsiItem> = {}): EsiItem => ({
  flag,
  item_type_id: type,
  singleton: 0,
  ...(dropped ? { quantity_dropped: dropped } : {}),
  ...(destroyed ? { quantity_destroyed: destroyed } : {}),
  ...extra,
});

interface Values {
  total: string;
  destroyed: string;
  dropped: string;
  fitted: string;
  unpriced: number;
  solo: boolean;
  awox: boolean;
  revalue: boolean;
}

async function values(id: number): Promise<Values> {
  const [row] = await sql()<Values[]>`
    select total_value as total, destroyed_value as destroyed, dropped_value as dropped, fitted_value as fitted,
           unpriced_count as unpriced, is_solo as solo, is_awox as awox, revalue
    from killmail_values where killmail_id = ${id}`;
  if (!row) throw new Error(`kill ${id} has no values`);
  return row;
}

async function storeOne(spec: KillSpec): Promise<Values> {
  const esi = kill(spec);
  await storeKillmails(sql(), [{ esi, hash: "a".repeat(40) }]);
  return values(esi.killmail_id);
}

describe("prices of a kill's rows", () => {
  it("splits destroyed and dropped rows, adds the ship to destroyed, totals exactly", async () => {
    const v = await storeOne({
      items: [item(27, T.autocannon, 0, 1), item(28, T.autocannon, 1, 0), item(5, T.hail, 100, 50), item(87, T.hobgoblin, 0, 2)],
    });
    // destroyed: ship 500,000 + autocannon 1,000,000 + 50 Hail 500 + 2 Hobgoblins 600,000
    expect(v).toMatchObject({ destroyed: "2100500.00", dropped: "1001000.00", total: "3101500.00", unpriced: 0, revalue: false });
  });

  it("uses the price of the day before for kills in the first hour (up to 01:00:00 UTC included)", async () => {
    const early = await storeOne({ time: `${DAY}T00:59:59Z`, items: [item(27, T.autocannon, 0, 1)] });
    // zKillboard's anchor day is the date of (kill time - 3601 s): 01:00:00 still belongs to the day before.
    const onTheHour = await storeOne({ time: `${DAY}T01:00:00Z`, items: [item(27, T.autocannon, 0, 1)] });
    const after = await storeOne({ time: `${DAY}T01:00:01Z`, items: [item(27, T.autocannon, 0, 1)] });
    expect(early.total).toBe("1300000.00"); // 400,000 + 900,000 (price_early)
    expect(onTheHour.total).toBe("1300000.00");
    expect(after.total).toBe("1500000.00"); // 500,000 + 1,000,000
  });

  it("values capsules at 10,000 without any market price", async () => {
    const v = await storeOne({ ship: T.capsule, items: [item(89, T.implant, 0, 1)] });
    expect(v).toMatchObject({ total: "30010000.00", destroyed: "30010000.00", unpriced: 0 });
  });

  it("values SKINs at 0.01 whatever their market price", async () => {
    const v = await storeOne({ items: [item(5, T.skin, 0, 1), item(5, T.skin, 2, 0)] });
    expect(v).toMatchObject({ destroyed: "500000.01", dropped: "0.02", total: "500000.03" });
  });

  it("values blueprint copies (singleton 2) at 0.01 and originals at market", async () => {
    const v = await storeOne({
      items: [item(5, T.blueprint, 0, 1, { singleton: 2 }), item(5, T.blueprint, 0, 1)],
    });
    expect(v.total).toBe("2500000.01");
  });

  it("takes nested blueprints of kills before id 21,112,472 as copies (old mails did not mark them)", async () => {
    const nested = (id: number) =>
      storeOne({ id, items: [item(5, T.container, 1, 0, { singleton: 1, items: [item(5, T.blueprint, 1, 0)] })] });
    const old = await nested(21_000_000);
    const recent = await nested(21_112_472);
    expect(old.total).toBe("510000.01"); // ship + container + BPC
    expect(recent.total).toBe("2510000.00"); // ship + container + BPO
  });

  it("values ships in the frigate escape bay (flag 179) at 0.01", async () => {
    const v = await storeOne({ items: [item(179, T.rifter, 0, 1, { singleton: 1 })] });
    expect(v.total).toBe("500000.01");
  });

  it("values the Golden Pod implant at 0.01 only in the implant slot (flag 89)", async () => {
    const inHead = await storeOne({ ship: T.capsule, items: [item(89, T.goldenPod, 0, 1)] });
    const inCargo = await storeOne({ items: [item(5, T.goldenPod, 1, 0)] });
    expect(inHead.total).toBe("10000.01");
    expect(inCargo.dropped).toBe("5000000000.00");
  });

  it("counts a container and its contents, two levels deep, in the bucket of the top-level row", async () => {
    const contents = (): EsiItem[] => [
      item(5, T.autocannon, 0, 1), // own quantities say destroyed…
      item(5, T.container, 1, 0, { singleton: 1, items: [item(5, T.hail, 0, 10), item(5, T.hobgoblin, 1, 0)] }),
    ];
    const dropped = await storeOne({ items: [item(5, T.container, 1, 0, { singleton: 1, items: contents() })] });
    const destroyed = await storeOne({ items: [item(5, T.container, 0, 1, { singleton: 1, items: contents() })] });
    // container 10,000 + autocannon 1,000,000 + inner container 10,000 + 10 Hail 100 + Hobgoblin 300,000
    expect(dropped).toMatchObject({ dropped: "1320100.00", destroyed: "500000.00", total: "1820100.00" });
    expect(destroyed).toMatchObject({ dropped: "0.00", destroyed: "1820100.00", total: "1820100.00" });
  });

  it("fits slots, rigs, subsystems and fighter tubes at market price, nothing else", async () => {
    const v = await storeOne({
      items: [
        item(11, T.autocannon, 0, 1), // low slot
        item(19, T.autocannon, 1, 0), // mid slot
        item(34, T.autocannon, 0, 1), // last high slot
        item(92, T.autocannon, 0, 1), // rig
        item(125, T.autocannon, 0, 1), // subsystem
        item(159, T.hobgoblin, 0, 1), // fighter tube
        item(27, T.hail, 0, 100), // charges in a high slot count too
        item(5, T.autocannon, 0, 1), // cargo
        item(87, T.hobgoblin, 0, 1), // drone bay
        item(89, T.implant, 0, 1), // implant
        item(27, T.blueprint, 0, 1, { singleton: 2 }), // a copy in a slot: 0.01 in the totals, market in fitted
      ],
    });
    // fitted: ship 500,000 + 5 autocannons 5,000,000 + Hobgoblin 300,000 + 100 Hail 1,000 + BPC at market 2,000,000
    expect(v.fitted).toBe("7801000.00");
    // total: ship + 6 autocannons + 2 Hobgoblins + Hail + implant + BPC 0.01
    expect(v.total).toBe("37101000.01");
    expect(Number(v.fitted)).toBeLessThanOrEqual(Number(v.total));
  });
});

describe("unknown prices and types", () => {
  it("counts rows without a price as unpriced, flags the kill, and completes it when prices arrive", async () => {
    const esi = kill({ items: [item(5, T.unpriced, 0, 3), item(5, T.unknown, 1, 0), item(27, T.autocannon, 0, 1)] });
    await storeKillmails(sql(), [{ esi, hash: "b".repeat(40) }]);
    expect(await values(esi.killmail_id)).toMatchObject({ total: "1500000.00", unpriced: 2, revalue: true });

    await sql()`insert into type_prices (type_id, date, price, price_early, source) values (${T.unpriced}, ${DAY}, 7, 7, 'history')`;
    await sql()`insert into types (type_id, name, group_id, market_group_id) values (${T.unknown}, 'Late Type', 55, 1)`;
    await sql()`insert into type_prices (type_id, date, price, price_early, source) values (${T.unknown}, ${DAY}, 1000, 1000, 'history')`;
    const written = await valueRange(sql(), { fromId: esi.killmail_id, toId: esi.killmail_id, mode: "flagged" });
    expect(written).toBe(1);
    expect(await values(esi.killmail_id)).toMatchObject({ total: "1501021.00", dropped: "1000.00", unpriced: 0, revalue: false });
    // Nothing flagged any more: a second flagged run writes nothing.
    expect(await valueRange(sql(), { fromId: esi.killmail_id, toId: esi.killmail_id, mode: "flagged" })).toBe(0);
  });

  it("values types without a market at 0.01 (settled: the kill is not flagged)", async () => {
    const noMarketGroup = 99_003;
    const forgeSaid404 = 99_004;
    await sql()`insert into types (type_id, name, group_id, market_group_id) values
                (${noMarketGroup}, 'Not Sold Anywhere', 55, null), (${forgeSaid404}, 'Delisted Thing', 55, 7)`;
    await sql()`insert into price_fetches (type_id, market, rows) values (${forgeSaid404}, false, 0)`;
    const v = await storeOne({ items: [item(5, noMarketGroup, 0, 2), item(5, forgeSaid404, 1, 0), item(27, T.autocannon, 0, 1)] });
    expect(v).toMatchObject({ total: "1500000.03", dropped: "0.01", unpriced: 0, revalue: false });
  });

  it("counts an unknown ship type as unpriced", async () => {
    const v = await storeOne({ ship: 99_998, items: [item(27, T.autocannon, 0, 1)] });
    expect(v).toMatchObject({ total: "1000000.00", unpriced: 1, revalue: true });
  });

  it("prices a kill end to end from Forge history after a refresh (window of the day before in the first hour)", async () => {
    const type = 99_002;
    await sql()`insert into types (type_id, name, group_id, market_group_id) values (${type}, 'Windowed Module', 55, 1)`;
    // Averages 100, 200, 300 on the three days before 2026-06-10 and 1,000 on the day itself.
    await sql()`insert into market_history (type_id, region_id, date, average, highest, lowest, volume, order_count)
                select ${type}, 10000002, d::date, a, a, a, 1, 1
                from (values ('2026-06-07', 100), ('2026-06-08', 200), ('2026-06-09', 300), ('2026-06-10', 1000)) v(d, a)`;
    await refreshTypePrices({ typeIds: [type, T.rifter], fromDate: "2026-06-09", toDate: "2026-06-11" });
    await sql()`insert into type_prices (type_id, date, price, price_early, source) values (${T.rifter}, '2026-06-10', 0, 0, 'custom')`;
    const early = await storeOne({ time: "2026-06-10T00:30:00Z", items: [item(27, type, 0, 1)] });
    const late = await storeOne({ time: "2026-06-10T13:00:00Z", items: [item(27, type, 0, 1)] });
    expect(early.total).toBe("200.00"); // window ending 06-09: (100 + 200 + 300) / 3
    expect(late.total).toBe("400.00"); // window ending 06-10: (100 + 200 + 300 + 1,000) / 4, below the day's 1,000
  });
});

describe("valueRange modes", () => {
  it("revalues never-valued kills (null), zero-valued kills (zero) or every kill (all) of an id range", async () => {
    const ids = [20_000_001, 20_000_002, 20_000_003];
    await storeKillmails(
      sql(),
      ids.map((id) => ({ esi: kill({ id, items: [item(27, T.autocannon, 0, 1)] }), hash: "c".repeat(40) })),
    );
    await sql()`delete from killmail_values where killmail_id = ${ids[0]!}`;
    await sql()`update killmail_values set total_value = 0, destroyed_value = 0 where killmail_id = ${ids[1]!}`;
    const range = { fromId: ids[0]!, toId: ids[2]! };

    expect(await valueRange(sql(), { ...range, mode: "null" })).toBe(1);
    expect((await values(ids[0]!)).total).toBe("1500000.00");
    expect(await valueRange(sql(), { ...range, mode: "zero" })).toBe(1);
    expect((await values(ids[1]!)).total).toBe("1500000.00");
    expect(await valueRange(sql(), { ...range, mode: "null" })).toBe(0);
    expect(await valueRange(sql(), { ...range, mode: "all" })).toBe(3);
    expect(await valueRange(sql(), { ...range, mode: "all", fromDate: "2026-05-02" })).toBe(0);
    expect(await valueRange(sql(), { ...range, mode: "all", fromDate: DAY, toDate: DAY })).toBe(3);
  });
});

describe("solo and awox", () => {
  const player = (n: number, corp = CORP, extra: Partial<EsiKillmail["attackers"][number]> = {}) => ({
    damage_done: 100,
    final_blow: n === 0,
    security_status: 0,
    character_id: PILOT + n,
    corporation_id: corp,
    ship_type_id: T.rifter,
    ...extra,
  });
  const npc = { damage_done: 50, final_blow: false, security_status: 0, corporation_id: 1_000_125, ship_type_id: 23_707 };

  it("is solo with exactly one player attacker, NPCs allowed", async () => {
    expect((await storeOne({ attackers: [player(0)] })).solo).toBe(true);
    expect((await storeOne({ attackers: [player(0), npc] })).solo).toBe(true);
    expect((await storeOne({ attackers: [player(0), player(1)] })).solo).toBe(false);
    expect((await storeOne({ attackers: [{ ...npc, final_blow: true }] })).solo).toBe(false);
  });

  it("is never solo for capsules, shuttles, rookie ships, or with a structure on the attackers", async () => {
    for (const ship of [T.capsule, T.shuttle, T.rookie]) {
      expect((await storeOne({ ship, attackers: [player(0)] })).solo, `ship ${ship}`).toBe(false);
    }
    expect((await storeOne({ attackers: [player(0), { ...npc, ship_type_id: T.astrahus }] })).solo).toBe(false);
  });

  it("is awox when the final blow comes from the victim's own player corporation, except for capsules and rookie ships", async () => {
    const own = (ship: number) => storeOne({ ship, victim: { corporation_id: CORP }, attackers: [player(0, CORP), player(1, 98_000_009)] });
    expect((await own(T.rifter)).awox).toBe(true);
    expect((await own(T.shuttle)).awox).toBe(true);
    expect((await own(T.capsule)).awox).toBe(false);
    expect((await own(T.rookie)).awox).toBe(false);
    // The corporation of another attacker (not the final blow) does not count.
    const other = await storeOne({ victim: { corporation_id: CORP }, attackers: [player(0, 98_000_009), player(1, CORP)] });
    expect(other.awox).toBe(false);
    // NPC corporations never count.
    const npcCorp = await storeOne({ victim: { corporation_id: 1_000_125 }, attackers: [player(0, 1_000_125)] });
    expect(npcCorp.awox).toBe(false);
  });
});
