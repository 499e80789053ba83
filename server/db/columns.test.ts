// The column lists the raw-SQL paths use (derived from the drizzle schema by columns.ts) against a
// migrated database: every column they name exists in its table with the type and nullability the
// schema declares, and a list that writes whole rows leaves out only columns the database can fill.
// Also what columnList builds from a list, and that it refuses a field the table lacks.
import { beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "../../test/support/database.ts";
import { ATTACKER_COLUMNS, ATTACKER_COPY_COLUMNS, ITEM_COLUMNS, KILLMAIL_COLUMNS } from "../killmails/flatten.ts";
import { VALUE_READ_COLUMNS } from "../killmails/read.ts";
import { VALUE_INPUTS, VALUE_WRITE_COLUMNS } from "../killmails/values.ts";
import { sql } from "./client.ts";
import { type ColumnList, columnList, columnSql, quoteIdent } from "./columns.ts";
import { killmails } from "./schema.ts";

useTestDatabase("columns");

/** Every list the code builds SQL from; `rows`: it writes whole rows (insert, COPY, upsert). */
const LISTS: { use: string; list: ColumnList<string>; rows: boolean }[] = [
  { use: "killmails: the store's unnest() insert, the read", list: KILLMAIL_COLUMNS, rows: true },
  { use: "attackers: the store's COPY", list: ATTACKER_COPY_COLUMNS, rows: true },
  { use: "items: the store's COPY, the read", list: ITEM_COLUMNS, rows: true },
  { use: "killmail_values: the values upsert", list: VALUE_WRITE_COLUMNS, rows: true },
  { use: "values: value_kills", list: VALUE_INPUTS.kills, rows: false },
  { use: "values: value_items", list: VALUE_INPUTS.items, rows: false },
  { use: "values: value_attackers", list: VALUE_INPUTS.attackers, rows: false },
  { use: "attackers: the read", list: ATTACKER_COLUMNS, rows: false },
  { use: "killmail_values: the read", list: VALUE_READ_COLUMNS, rows: false },
];

interface DbColumn {
  table_name: string;
  column_name: string;
  data_type: string;
  numeric_precision: number | null;
  numeric_scale: number | null;
  is_nullable: "YES" | "NO";
  column_default: string | null;
}

/** table → column → what the database says of it. */
const database = new Map<string, Map<string, DbColumn>>();

beforeAll(async () => {
  const tables = [...new Set(LISTS.map((l) => l.list.table))];
  const rows = await sql()<DbColumn[]>`
    select table_name, column_name, data_type, numeric_precision, numeric_scale, is_nullable, column_default
    from information_schema.columns
    where table_schema = 'public' and table_name = any(${tables})`;
  for (const row of rows) {
    if (!database.has(row.table_name)) database.set(row.table_name, new Map());
    database.get(row.table_name)!.set(row.column_name, row);
  }
  expect([...database.keys()].sort()).toEqual(tables.sort());
});

/** The database's type of a column, spelled as drizzle's getSQLType() spells it. */
function typeOf(c: DbColumn): string {
  return c.data_type === "numeric" && c.numeric_precision !== null ? `numeric(${c.numeric_precision}, ${c.numeric_scale})` : c.data_type;
}

describe("the column lists of the raw-SQL paths, against the migrated database", () => {
  it.each(LISTS)("$use: every column exists with the schema's type and nullability", ({ list }) => {
    const table = database.get(list.table)!;
    for (const [i, name] of list.names.entries()) {
      const column = table.get(name);
      expect(column, `${list.table}.${name}`).toBeDefined();
      expect(typeOf(column!), `${list.table}.${name}`).toBe(list.types[i]);
      expect(column!.is_nullable === "NO", `${list.table}.${name} not null`).toBe(list.notNull[i]);
    }
  });

  it.each(LISTS.filter((l) => l.rows))("$use: leaves out only columns that are nullable or have a default", ({ list }) => {
    const left = [...database.get(list.table)!.values()].filter((c) => !list.names.includes(c.column_name));
    expect(left.filter((c) => c.is_nullable === "NO" && c.column_default === null).map((c) => c.column_name)).toEqual([]);
  });
});

describe("columnList", () => {
  const list = columnList(killmails, ["killmailId", "killmailTime", "isNpc"]);

  it("gives the SQL names, types and positions of the listed fields, and SQL text built from them", () => {
    expect(list.table).toBe("killmails");
    expect(list.names).toEqual(["killmail_id", "killmail_time", "is_npc"]);
    expect(list.types).toEqual(["bigint", "timestamp with time zone", "boolean"]);
    expect(list.notNull).toEqual([true, true, true]);
    expect(list.at).toEqual({ killmailId: 0, killmailTime: 1, isNpc: 2 });
    expect(list.sql("isNpc")).toBe('"is_npc"');
    expect(list.list()).toBe('"killmail_id", "killmail_time", "is_npc"');
    expect(list.qualified("k")).toBe('k."killmail_id", k."killmail_time", k."is_npc"');
    expect(list.selectAs({ killmailTime: "text" })).toBe(
      '"killmail_id" as "killmailId", "killmail_time"::text as "killmailTime", "is_npc" as "isNpc"',
    );
    expect(list.unnestArgs()).toBe("$1::bigint[], $2::timestamp with time zone[], $3::boolean[]");
    expect(columnSql(killmails, "victimShipTypeId")).toBe('"victim_ship_type_id"');
    expect(quoteIdent('a"b')).toBe('"a""b"');
  });

  it("refuses a field the table lacks, or one listed twice", () => {
    expect(() => columnList(killmails, ["nope" as "hash"])).toThrow(/killmails has no column nope/);
    expect(() => columnList(killmails, ["hash", "hash"])).toThrow(/listed twice/);
  });
});
