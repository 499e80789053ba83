// The generated world: deterministic from the seed, ids in the real ranges, and killmails with every
// shape real ones have (heavy-tailed attacker counts, NPC attackers, structures, pods, slots, bays,
// nested containers, split stacks, blueprint copies), with zkb values that add up.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BUILTIN_BUILD_TYPES, BUILTIN_TYPES } from "./world/catalog-builtin.ts";
import type { EsiItem, EsiKillmail } from "./world/generate.ts";
import { defaultSharedDir, World } from "./world/index.ts";

const world = new World({ seed: 21, killmails: 3000, catalog: "builtin", corpus: false });
const kills = Array.from({ length: world.generatedCount }, (_, i) => world.killmail(i));
const esi = (i: number) => kills[i]!.esi as EsiKillmail;
const allItems = (items: EsiItem[] | undefined, depth = 1, out: { it: EsiItem; depth: number }[] = []) => {
  for (const it of items ?? []) {
    out.push({ it, depth });
    allItems(it.items, depth + 1, out);
  }
  return out;
};

describe("world", () => {
  it("is deterministic: same seed, same bytes; another seed, another world", () => {
    const again = new World({ seed: 21, killmails: 3000, catalog: "builtin", corpus: false });
    for (const i of [0, 1, 500, 1234, 2999]) expect(JSON.stringify(again.killmail(i))).toBe(JSON.stringify(kills[i]));
    expect(JSON.stringify(again.character(again.entities.pilots[7]!))).toBe(JSON.stringify(world.character(world.entities.pilots[7]!)));
    expect(JSON.stringify(again.market.history(587, 10_000_002))).toBe(JSON.stringify(world.market.history(587, 10_000_002)));
    const other = new World({ seed: 22, killmails: 3000, catalog: "builtin", corpus: false });
    expect(JSON.stringify(other.killmail(5).esi)).not.toBe(JSON.stringify(kills[5]!.esi));
  });

  it("orders kills by time and id; ids, hashes and lookups round-trip", () => {
    for (let i = 1; i < kills.length; i++) {
      expect(kills[i]!.killmail_id).toBeGreaterThan(kills[i - 1]!.killmail_id);
      expect(kills[i]!.timeMs).toBeGreaterThanOrEqual(kills[i - 1]!.timeMs);
    }
    for (const k of kills.slice(0, 50)) {
      expect(k.hash).toMatch(/^[0-9a-f]{40}$/);
      expect(world.killmailById(k.killmail_id)).toBe(k);
    }
    // An id between two kills is not a kill.
    const gap = kills[1]!.killmail_id - 1;
    if (gap !== kills[0]!.killmail_id) expect(world.killmailById(gap)).toBeUndefined();
    expect([...world.killmailIds()]).toHaveLength(world.killmailCount);
  });

  it("uses the real id ranges for pilots, corporations, alliances and NPCs; some pilots are deleted", () => {
    const inChar = (id: number) =>
      (id >= 90_000_000 && id < 98_000_000) || (id >= 100_000_000 && id < 2_100_000_000) || (id >= 2_100_000_000 && id < 2_130_000_000);
    for (const id of world.entities.pilots) expect(inChar(id)).toBe(true);
    for (const c of world.entities.corporations.values())
      expect(
        c.npc
          ? c.id >= 1_000_000 && c.id < 2_000_000
          : (c.id >= 98_000_000 && c.id < 99_000_000) || (c.id >= 100_000_000 && c.id < 2_100_000_000),
      ).toBe(true);
    for (const a of world.entities.alliances.values())
      expect((a.id >= 99_000_000 && a.id < 100_000_000) || (a.id >= 100_000_000 && a.id < 2_100_000_000)).toBe(true);
    for (const id of world.entities.npcCharacterIds) expect(id >= 3_000_000 && id < 4_000_000).toBe(true);
    expect(world.deletedCharacterIds.length).toBeGreaterThan(10);
    expect(world.character(world.deletedCharacterIds[0]!)).toBeUndefined();
    expect(world.affiliation([world.deletedCharacterIds[0]!])).toEqual([
      { character_id: world.deletedCharacterIds[0], corporation_id: 1_000_001 },
    ]);
  });

  it("has heavy-tailed attacker counts and NPC attackers", () => {
    const counts = kills.map((_, i) => esi(i).attackers.length);
    const small = counts.filter((n) => n <= 15).length / counts.length;
    expect(small).toBeGreaterThan(0.75);
    expect(counts.filter((n) => n >= 100).length).toBeGreaterThan(5);
    expect(Math.max(...counts)).toBeGreaterThanOrEqual(1000);
    const npcOnly = kills.filter((_, i) => esi(i).attackers.every((a) => a.character_id === undefined));
    expect(npcOnly.length).toBeGreaterThan(50);
    expect(npcOnly.every((k) => k.zkb.npc)).toBe(true);
    for (let i = 0; i < kills.length; i++) {
      const a = esi(i).attackers;
      expect(a.filter((x) => x.final_blow)).toHaveLength(1);
      expect(a.reduce((s, x) => s + x.damage_done, 0)).toBe(esi(i).victim.damage_taken);
    }
  });

  it("covers every item shape real killmails have", () => {
    const rows = kills.flatMap((_, i) => allItems(esi(i).victim.items));
    const flags = new Set(rows.filter((r) => r.depth === 1).map((r) => r.it.flag));
    for (const f of [5, 11, 19, 27, 87, 89, 90, 92, 125, 179]) expect(flags.has(f), `flag ${f}`).toBe(true);
    expect(rows.some((r) => r.depth === 2 && r.it.flag === 0)).toBe(true);
    expect(rows.some((r) => r.it.singleton === 2)).toBe(true);
    expect(rows.some((r) => r.it.item_type_id === 33329 && r.it.flag === 89)).toBe(true);
    expect(rows.some((r) => world.catalog.types.get(r.it.item_type_id)?.categoryId === 91)).toBe(true);
    // A stack split into a dropped row and a destroyed row of the same type and flag.
    const split = kills.some((_, i) => {
      const items = esi(i).victim.items ?? [];
      return items.some(
        (a, k) =>
          a.quantity_dropped &&
          items.some((b, m) => m !== k && b.quantity_destroyed && b.item_type_id === a.item_type_id && b.flag === a.flag),
      );
    });
    expect(split).toBe(true);
    const victims = kills.map((_, i) => esi(i).victim);
    expect(victims.some((v) => v.ship_type_id === 670)).toBe(true);
    expect(victims.some((v) => v.character_id === undefined && world.catalog.types.get(v.ship_type_id)?.categoryId === 65)).toBe(true);
    for (const g of [30, 659])
      expect(
        victims.some((v) => world.catalog.types.get(v.ship_type_id)?.groupId === g),
        `group ${g}`,
      ).toBe(true);
  });

  it("zkb values add up and follow the fixed cases", () => {
    for (const k of kills) {
      expect(Math.abs(k.zkb.totalValue - k.zkb.droppedValue - k.zkb.destroyedValue)).toBeLessThan(0.011 + k.zkb.totalValue * 1e-12);
      expect(k.zkb.attackerCount).toBe((k.esi as EsiKillmail).attackers.length);
      expect(k.zkb.href).toBe(`https://esi.evetech.net/killmails/${k.killmail_id}/${k.hash}/`);
    }
    const t = kills[10]!.timeMs;
    expect(world.market.valuationPrice(670, t)).toBe(10_000);
    expect(world.market.valuationPrice(34748, t)).toBe(0.01);
    // Titans at build cost from their blueprint's materials, priced for a kill at the kill day's 00:00:00.
    const avatar = world.market.buildCost(11567, Math.floor(t / 86_400_000));
    expect(avatar).toBeGreaterThan(1e9);
    expect(world.market.valuationPrice(11567, t)).toBe(avatar);
    // zKillboard's fixed prices, by date: a Molok at 350b before 2019-07-01, 650b from that day.
    expect(world.market.fixedPrice(42241, Date.UTC(2019, 5, 30) / 86_400_000)).toBe(350_000_000_000);
    expect(world.market.fixedPrice(42241, Date.UTC(2019, 6, 1) / 86_400_000)).toBe(650_000_000_000);
    const rifter = world.market.valuationPrice(587, t);
    expect(rifter).toBeGreaterThan(400_000);
    expect(rifter).toBeLessThan(700_000);
  });

  it("the built-in catalog has real types (checked against the SDE in ../shared when present)", () => {
    expect(BUILTIN_TYPES.length).toBeLessThanOrEqual(200);
    const sdePath = join(defaultSharedDir(), "sde", "types.json");
    let sde: { type_id: number; name: string; group_id: number }[] = [];
    try {
      sde = JSON.parse(readFileSync(sdePath, "utf8"));
    } catch {
      return; // fresh clone without ../shared: nothing to compare with
    }
    const byId = new Map(sde.map((t) => [t.type_id, t]));
    for (const [id, name, groupId] of [...BUILTIN_TYPES, ...BUILTIN_BUILD_TYPES]) {
      expect(byId.get(id)?.name, `type ${id}`).toBe(name);
      expect(byId.get(id)?.group_id, `type ${id}`).toBe(groupId);
    }
  });
});
