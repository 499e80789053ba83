// The rows the store writes for a kill, read back the way Postgres would parse them, give the ESI body
// back exactly (unflatten: attackers in order, items nested and ordered as ESI sent them), and flag each
// kill's first attacker row of every corporation, alliance and ship type: on every real kill and a
// thousand simulated ones, without a database (store.test.ts does the same through Postgres).
import { getTableColumns } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import { describe, expect, it } from "vitest";
import { World } from "../../sim/world/index.ts";
import { loadCorpus } from "../../test/support/corpus.ts";
import { type CopyInto, CopyWriter } from "../db/copy.ts";
import { attackers as attackersTable, items as itemsTable } from "../db/schema.ts";
import type { EsiKillmail } from "../esi/killmail-schema.ts";
import {
  ATTACKER_COLUMNS,
  ATTACKER_COPY,
  type AttackerRow,
  ITEM_COPY,
  type ItemRow,
  killmailRow,
  unflattenKillmail,
  writeAttackerRows,
  writeItemRows,
} from "./flatten.ts";

type Value = number | boolean | null;

/** The schema keys of the columns a COPY statement names, in its order (read from its SQL text). */
function copyFields(copy: CopyInto, table: PgTable): string[] {
  const list = /\(([^)]*)\) from stdin$/.exec(copy.statement)?.[1];
  if (!list) throw new Error(`not a COPY column list: ${copy.statement}`);
  const keyOf = new Map(Object.entries(getTableColumns(table)).map(([key, column]) => [column.name, key]));
  return list.split(", ").map((quoted) => {
    const key = keyOf.get(quoted.replace(/^"|"$/g, ""));
    if (!key) throw new Error(`${quoted} is no column of the table`);
    return key;
  });
}

/**
 * The rows a writer function writes for one kill, parsed as Postgres parses them under the COPY
 * statement the store sends them with (text format, fields in its column order): field → value.
 */
function rowsWritten(write: (out: CopyWriter, esi: EsiKillmail) => void, esi: EsiKillmail, copy: CopyInto, table: PgTable) {
  const columns = copyFields(copy, table);
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

const attackerRows = (esi: EsiKillmail) => rowsWritten(writeAttackerRows, esi, ATTACKER_COPY, attackersTable);
const itemRows = (esi: EsiKillmail) => rowsWritten(writeItemRows, esi, ITEM_COPY, itemsTable) as unknown as ItemRow[];

/** An attacker row's body fields (its first-of-entity flags left out). */
function attackerRow(r: Record<string, Value>): AttackerRow {
  return Object.fromEntries(ATTACKER_COLUMNS.fields.map((f) => [f, r[f]])) as AttackerRow;
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
      const attackers = attackerRows(esi).map(attackerRow);
      const items = itemRows(esi);
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
    expect(itemRows(nestedTwice).map((r) => [r.itemIndex, r.parentIndex, r.containerDropped])).toEqual([
      [0, null, null],
      [1, 0, true],
      [2, 1, true],
      [3, null, null],
    ]);
    let contents = 0;
    for (const esi of [...all, nestedTwice]) {
      const items = itemRows(esi);
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
      const rows = attackerRows(esi);
      for (const [flag, column] of [
        ["corporationFirst", "corporationId"],
        ["allianceFirst", "allianceId"],
        ["shipFirst", "shipTypeId"],
      ] as const) {
        const expected = rows.map((r, i) => r[column] !== null && rows.findIndex((o) => o[column] === r[column]) === i);
        expect(
          rows.map((r) => r[flag]),
          `${flag} of ${esi.killmail_id}`,
        ).toEqual(expected);
      }
    }
  });

  it("put every field in the column the COPY statement names for it", () => {
    // Every value distinct, and each flag column true and false on different rows: a field written in
    // another column's place, or left unwritten, changes what the rows read as.
    const attacker = (i: number, corporation: number, alliance: number, ship: number) => ({
      character_id: 95_000_001 + i,
      corporation_id: corporation,
      alliance_id: alliance,
      faction_id: 500_001 + i,
      ship_type_id: ship,
      weapon_type_id: 2873 + i,
      damage_done: 100 + i,
      final_blow: i === 0,
      security_status: i - 1.5,
    });
    const esi: EsiKillmail = {
      killmail_id: 90_000_001,
      killmail_time: "2026-05-01T12:00:00Z",
      solar_system_id: 30_000_142,
      victim: {
        ship_type_id: 670,
        damage_taken: 500,
        items: [
          {
            flag: 5,
            item_type_id: 3465,
            singleton: 0,
            quantity_dropped: 1,
            items: [{ flag: 27, item_type_id: 2874, singleton: 1, quantity_dropped: 3, quantity_destroyed: 7 }],
          },
        ],
      },
      attackers: [
        attacker(0, 98_000_001, 99_000_001, 587),
        attacker(1, 98_000_001, 99_000_002, 587),
        attacker(2, 98_000_002, 99_000_002, 587),
        attacker(3, 98_000_002, 99_000_002, 588),
      ],
    };
    const firsts = [
      [true, true, true],
      [false, true, false],
      [true, false, false],
      [false, false, true],
    ];
    expect(attackerRows(esi)).toEqual(
      esi.attackers.map((a, i) => ({
        killmailId: 90_000_001,
        attackerIndex: i,
        characterId: a.character_id,
        corporationId: a.corporation_id,
        allianceId: a.alliance_id,
        factionId: a.faction_id,
        shipTypeId: a.ship_type_id,
        weaponTypeId: a.weapon_type_id,
        damageDone: a.damage_done,
        finalBlow: a.final_blow,
        securityStatus: a.security_status,
        corporationFirst: firsts[i]![0],
        allianceFirst: firsts[i]![1],
        shipFirst: firsts[i]![2],
      })),
    );
    expect(itemRows(esi)).toEqual([
      {
        killmailId: 90_000_001,
        itemIndex: 0,
        parentIndex: null,
        flag: 5,
        itemTypeId: 3465,
        singleton: 0,
        quantityDropped: 1,
        quantityDestroyed: null,
        containerDropped: null,
      },
      {
        killmailId: 90_000_001,
        itemIndex: 1,
        parentIndex: 0,
        flag: 27,
        itemTypeId: 2874,
        singleton: 1,
        quantityDropped: 3,
        quantityDestroyed: 7,
        containerDropped: true,
      },
    ]);
  });
});
