// Custom prices as zKillboard's fixed-price list: the migration seeds exactly server/prices/fixed-prices.ts
// (dated prices included), and `bun cli prices:custom list|set|remove` as a real process edits it,
// reprices the type's days and flags the kills whose values change; usage errors exit 2.
import { beforeAll, describe, expect, it } from "vitest";
import { sql } from "../server/db/client.ts";
import { ZKB_FIXED_PRICES } from "../server/prices/fixed-prices.ts";
import { refreshTypePrices } from "../server/prices/refresh.ts";
import { useTestDatabase } from "./support/database.ts";
import { run } from "./support/spawn.ts";

const database = useTestDatabase("prices_custom");
const cli = (...args: string[]) => run("cli.ts", args, { ...database.env, LOG_LEVEL: "silent" });

const VANQUISHER = 42_126;
const DAY = "2026-03-10";

beforeAll(async () => {
  await sql()`insert into categories (category_id, name) values (6, 'Ship')`;
  await sql()`insert into groups (group_id, name, category_id) values (30, 'Titan', 6)`;
  await sql()`insert into types (type_id, name, group_id) values (${VANQUISHER}, 'Vanquisher', 30)`;
  await refreshTypePrices({ typeIds: [VANQUISHER], fromDate: DAY, toDate: DAY });
  await sql()`insert into killmails (killmail_id, hash, killmail_time, solar_system_id, victim_ship_type_id,
                victim_damage_taken, attacker_count, is_npc)
              values (1, 'x', ${`${DAY}T12:00:00Z`}, 30000142, ${VANQUISHER}, 1, 1, false)`;
  await sql()`insert into killmail_values (killmail_id, total_value, destroyed_value, dropped_value, fitted_value,
                unpriced_count, is_solo, is_awox)
              values (1, 650000000000, 650000000000, 0, 650000000000, 0, false, false)`;
});

const priceOn = async (typeId: number, date: string) =>
  (await sql()<{ price: string; source: string }[]>`select price, source from type_prices where type_id = ${typeId} and date = ${date}`)[0];

describe("the seeded list", () => {
  it("is zKillboard's fixed-price list, dated prices split on the day zKillboard switches", async () => {
    const rows = await sql()<{ type_id: number; valid_from: string; valid_to: string | null; price: string }[]>`
      select type_id, valid_from::text, valid_to::text, price::text from custom_prices order by type_id, valid_from`;
    const want = [...ZKB_FIXED_PRICES]
      .sort((a, b) => a.typeId - b.typeId || a.validFrom.localeCompare(b.validFrom))
      .map((f) => ({ type_id: f.typeId, valid_from: f.validFrom, valid_to: f.validTo, price: Number(f.price).toFixed(2) }));
    expect(rows).toEqual(want);
    expect(rows.length).toBeGreaterThanOrEqual(80);
    expect(rows.filter((r) => r.type_id === 42_241).map((r) => [r.valid_to, r.price])).toEqual([
      ["2019-06-30", "350000000000.00"],
      [null, "650000000000.00"],
    ]);
  });

  it("prices a Vanquisher at 650b from the start (a fixed price outranks the titan rule)", async () => {
    expect(await priceOn(VANQUISHER, DAY)).toEqual({ price: "650000000000.00", source: "custom" });
  });
});

describe("bun cli prices:custom", () => {
  it("lists the prices with names, as a table and as JSON", async () => {
    const text = await cli("prices:custom", "list", String(VANQUISHER));
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/42126\s+Vanquisher\s+2003-01-01\s+-\s+650000000000\.00/);
    const json = await cli("prices:custom", "list", "--json");
    expect(JSON.parse(json.stdout)).toHaveLength(ZKB_FIXED_PRICES.length);
  });

  it("sets a price: reprices the days and flags the kills they change", async () => {
    const r = await cli("prices:custom", "set", String(VANQUISHER), "700000000000", "--from", DAY, "--note", "test");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("1 kills flagged");
    expect(await priceOn(VANQUISHER, DAY)).toEqual({ price: "700000000000.00", source: "custom" });
    const [v] = await sql()<{ revalue: boolean }[]>`select revalue from killmail_values where killmail_id = 1`;
    expect(v?.revalue).toBe(true);
  });

  it("removes a price: the older one applies again", async () => {
    const r = await cli("prices:custom", "remove", String(VANQUISHER), "--from", DAY);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("1 custom price(s) removed");
    expect(await priceOn(VANQUISHER, DAY)).toEqual({ price: "650000000000.00", source: "custom" });
  });

  it("refuses bad input with exit 2, and an unknown price with exit 1", async () => {
    expect((await cli("prices:custom", "set", String(VANQUISHER), "12abc")).code).toBe(2);
    expect((await cli("prices:custom", "frobnicate")).code).toBe(2);
    expect((await cli("prices:custom", "remove", "587")).code).toBe(1);
  });
});
