// Reads a stored kill back: the ESI body exactly as ESI sent it (rebuilt from the rows) and its values.
// The selects name the columns of flatten.ts' row lists (and of the values the API shows), from the schema.
import { sql } from "../db/client.ts";
import { columnList, columnSql, type RowOf } from "../db/columns.ts";
import { killmailValues } from "../db/schema.ts";
import type { EsiKillmail } from "../esi/killmail-schema.ts";
import {
  ATTACKER_COLUMNS,
  type AttackerRow,
  ITEM_COLUMNS,
  type ItemRow,
  KILLMAIL_COLUMNS,
  type StoredKillmailRow,
  unflattenKillmail,
} from "./flatten.ts";

export interface KillmailValues {
  total: string;
  destroyed: string;
  dropped: string;
  fitted: string;
  /** zKillboard's totalDroppableValue: every item row but implants, rigs and subsystems. */
  totalDroppable: string;
  /** Rows without a known price (valued as 0 until prices arrive). */
  unpriced: number;
  solo: boolean;
  awox: boolean;
  npc: boolean;
  pricesAsOf: string | null;
  valuedAt: string;
}

export interface StoredKillmail {
  hash: string;
  killmail: EsiKillmail;
  /** Null when the kill has not been valued yet. */
  values: KillmailValues | null;
}

/** The values the API shows. prices_as_of is read as text, as the schema types it (postgres.js would make it a Date). */
export const VALUE_READ_COLUMNS = columnList(killmailValues, [
  "totalValue",
  "destroyedValue",
  "droppedValue",
  "fittedValue",
  "totalDroppableValue",
  "unpricedCount",
  "isSolo",
  "isAwox",
  "pricesAsOf",
  "valuedAt",
]);
type ValueRow = RowOf<typeof killmailValues, (typeof VALUE_READ_COLUMNS.fields)[number]>;

// One kill's rows, keyed by the schema's field names. Built once: the same text every call.
const SELECT_KILLMAIL = `select ${KILLMAIL_COLUMNS.selectAs()} from ${KILLMAIL_COLUMNS.tableSql}
  where ${KILLMAIL_COLUMNS.sql("killmailId")} = $1`;
const SELECT_ATTACKERS = `select ${ATTACKER_COLUMNS.selectAs()} from ${ATTACKER_COLUMNS.tableSql}
  where ${ATTACKER_COLUMNS.sql("killmailId")} = $1 order by ${ATTACKER_COLUMNS.sql("attackerIndex")}`;
const SELECT_ITEMS = `select ${ITEM_COLUMNS.selectAs()} from ${ITEM_COLUMNS.tableSql}
  where ${ITEM_COLUMNS.sql("killmailId")} = $1 order by ${ITEM_COLUMNS.sql("itemIndex")}`;
const SELECT_VALUES = `select ${VALUE_READ_COLUMNS.selectAs({ pricesAsOf: "text" })} from ${VALUE_READ_COLUMNS.tableSql}
  where ${columnSql(killmailValues, "killmailId")} = $1`;

export async function loadKillmail(killmailId: number): Promise<StoredKillmail | null> {
  const db = sql();
  const prepare = { prepare: true };
  const [[k], attackers, items, [v]] = await Promise.all([
    db.unsafe<StoredKillmailRow[]>(SELECT_KILLMAIL, [killmailId], prepare),
    db.unsafe<AttackerRow[]>(SELECT_ATTACKERS, [killmailId], prepare),
    db.unsafe<ItemRow[]>(SELECT_ITEMS, [killmailId], prepare),
    db.unsafe<ValueRow[]>(SELECT_VALUES, [killmailId], prepare),
  ]);
  if (!k) return null;
  return {
    hash: k.hash,
    killmail: unflattenKillmail({ killmail: k, attackers, items }),
    values: v
      ? {
          total: v.totalValue,
          destroyed: v.destroyedValue,
          dropped: v.droppedValue,
          fitted: v.fittedValue,
          totalDroppable: v.totalDroppableValue,
          unpriced: v.unpricedCount,
          solo: v.isSolo,
          awox: v.isAwox,
          npc: k.isNpc,
          pricesAsOf: v.pricesAsOf,
          valuedAt: v.valuedAt.toISOString(),
        }
      : null,
  };
}
