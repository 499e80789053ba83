// What columnList builds from a list of a drizzle table's columns, and that it refuses a field the table lacks.
import { describe, expect, it } from "vitest";
import { columnList, columnSql, quoteIdent } from "./columns.ts";
import { killmails } from "./schema.ts";

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
