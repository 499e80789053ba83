// The rows the store writes for a kill, read back the way Postgres would parse them, give the ESI body
// back exactly (unflatten: attackers in order, items nested and ordered as ESI sent them), and flag each
// kill's first attacker row of every corporation, alliance and ship type: on every real kill and a
// thousand simulated ones, without a database (store.test.ts does the same through Postgres).
import { describe, expect, it } from "vitest";
import { World } from "../../sim/world/index.ts";
import { loadCorpus } from "../../test/support/corpus.ts";
import { CopyWriter } from "../db/copy.ts";
import type { EsiKillmail } from "../esi/killmail-schema.ts";
import {
  ATTACKER_COPY_COLUMNS,
  type AttackerRow,
  ITEM_COPY_COLUMNS,
  type ItemRow,
  killmailRow,
  unflattenKillmail,
  writeAttackerRows,
  writeItemRows,
} from "./flatten.ts";

type Value = number | boolean | null;

/** The rows a writer function writes for one kill, parsed as COPY's text format: column name → value. */
function rowsWritten(write: (out: CopyWriter, esi: EsiKillmail) => void, esi: EsiKillmail, columns: readonly string[]) {
  const out = new CopyWriter(16); // tiny, so the tests also cover its growing
  write(out, esi);
  const text = new TextDecoder().decode(out.bytes());
  expect(text === "" || text.endsWith("\n")).toBe(true);
  return text
    .split("\n")
    .slice(0, -1)
    .map((line) => {
      const fields = line.split("\t");
      expect(fields).toHaveLength(columns.length);
      const parse = (f: string): Value => (f === "\\N" ? null : f === "t" ? true : f === "f" ? false : Number(f));
      return Object.fromEntries(columns.map((c, i) => [c, parse(fields[i]!)])) as Record<string, Value>;
    });
}

function attackerRow(r: Record<string, Value>): AttackerRow {
  return {
    killmailId: r.killmail_id as number,
    attackerIndex: r.attacker_index as number,
    characterId: r.character_id as number | null,
    corporationId: r.corporation_id as number | null,
    allianceId: r.alliance_id as number | null,
    factionId: r.faction_id as number | null,
    shipTypeId: r.ship_type_id as number | null,
    weaponTypeId: r.weapon_type_id as number | null,
    damageDone: r.damage_done as number,
    finalBlow: r.final_blow as boolean,
    securityStatus: r.security_status as number,
  };
}

function itemRow(r: Record<string, Value>): ItemRow {
  return {
    killmailId: r.killmail_id as number,
    itemIndex: r.item_index as number,
    parentIndex: r.parent_index as number | null,
    flag: r.flag as number,
    itemTypeId: r.item_type_id as number,
    singleton: r.singleton as number,
    quantityDropped: r.quantity_dropped as number | null,
    quantityDestroyed: r.quantity_destroyed as number | null,
    containerDropped: r.container_dropped as boolean | null,
  };
}

function kills(): EsiKillmail[] {
  const world = new World({ seed: 11, killmails: 1000, corpus: false });
  return [...loadCorpus().map((c) => c.esi), ...Array.from({ length: 1000 }, (_, i) => world.killmail(i).esi as EsiKillmail)];
}

describe("a kill's attacker and item rows", () => {
  const all = kills();

  it("read back, give the ESI body exactly", () => {
    let nested = 0;
    for (const esi of all) {
      const attackers = rowsWritten(writeAttackerRows, esi, ATTACKER_COPY_COLUMNS).map(attackerRow);
      const items = rowsWritten(writeItemRows, esi, ITEM_COPY_COLUMNS).map(itemRow);
      expect(attackers.every((a) => a.killmailId === esi.killmail_id) && items.every((i) => i.killmailId === esi.killmail_id)).toBe(true);
      expect(unflattenKillmail({ killmail: killmailRow(esi, "a".repeat(40)), attackers, items }), `killmail ${esi.killmail_id}`).toEqual(
        esi,
      );
      if (items.some((i) => i.parentIndex !== null)) nested++;
    }
    expect(nested).toBeGreaterThan(10); // containers with contents are among them
  });

  it("mark contents with whether their top-level container was dropped", () => {
    // A dropped container holding a destroyed one holding ammo: the ammo counts as in a dropped container.
    const nestedTwice: EsiKillmail = {
      ...all[0]!,
      killmail_id: 99_000_001,
      victim: {
        ...all[0]!.victim,
        items: [
          {
            flag: 5,
            item_type_id: 3465,
            singleton: 0,
            quantity_dropped: 1,
            items: [
              {
                flag: 5,
                item_type_id: 3293,
                singleton: 0,
                quantity_destroyed: 1,
                items: [{ flag: 5, item_type_id: 178, singleton: 0, quantity_destroyed: 500 }],
              },
            ],
          },
          { flag: 27, item_type_id: 2873, singleton: 0, quantity_destroyed: 1 },
        ],
      },
    };
    expect(
      rowsWritten(writeItemRows, nestedTwice, ITEM_COPY_COLUMNS).map((r) => [r.item_index, r.parent_index, r.container_dropped]),
    ).toEqual([
      [0, null, null],
      [1, 0, true],
      [2, 1, true],
      [3, null, null],
    ]);
    let contents = 0;
    for (const esi of [...all, nestedTwice]) {
      const items = rowsWritten(writeItemRows, esi, ITEM_COPY_COLUMNS).map(itemRow);
      const topOf = (row: ItemRow): ItemRow => (row.parentIndex === null ? row : topOf(items[row.parentIndex]!));
      for (const row of items) {
        const top = topOf(row);
        expect(row.containerDropped).toBe(row === top ? null : (top.quantityDropped ?? 0) > 0);
        if (row !== top) contents++;
      }
    }
    expect(contents).toBeGreaterThan(100);
  });

  it("flag the first attacker row of each corporation, alliance and ship type of a kill, and no other", () => {
    for (const esi of all) {
      const rows = rowsWritten(writeAttackerRows, esi, ATTACKER_COPY_COLUMNS);
      for (const [flag, column] of [
        ["corporation_first", "corporation_id"],
        ["alliance_first", "alliance_id"],
        ["ship_first", "ship_type_id"],
      ] as const) {
        const expected = rows.map((r, i) => r[column] !== null && rows.findIndex((o) => o[column] === r[column]) === i);
        expect(
          rows.map((r) => r[flag]),
          `${flag} of ${esi.killmail_id}`,
        ).toEqual(expected);
      }
    }
  });
});
