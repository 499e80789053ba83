// Stores a batch of validated killmails in ONE transaction, set-based: the killmail rows from unnest()
// arrays (a kill already stored is skipped whole, so a kill is never duplicated nor partial), their
// attackers and items by COPY, their values (values.ts), the fan-out to the outbox (fan-out.ts), and
// the intake rows closed. Safe under concurrency: killmail rows are written in key order, and
// deadlocks/serialization failures retry the whole batch.
import type { Sql, TransactionSql } from "postgres";
import { type ArrayElement, pgArray } from "../db/arrays.ts";
import { CopyWriter, copyIn } from "../db/copy.ts";
import type { EsiKillmail } from "../esi/killmail-schema.ts";
import { type FanOutKeys, fanOutChecked, writeFanOut } from "./fan-out.ts";
import { ATTACKER_COPY, ITEM_COPY, KILLMAIL_COLUMNS, type KillmailRow, killmailRow, writeAttackerRows, writeItemRows } from "./flatten.ts";
import { RULES, valueStoredKills } from "./values.ts";

export interface KillToStore {
  esi: EsiKillmail;
  hash: string;
}

export interface StoreResult {
  /** Ids written by this call. */
  stored: number[];
  /** Ids that were already stored (nothing written). */
  existing: number[];
  /** Outbox rows (entity/type refreshes) this batch created. */
  fanOut: number;
}

const RETRYABLE = new Set(["40P01", "40001"]); // deadlock_detected, serialization_failure

/** Stores kills (duplicates within the batch collapse); retries the transaction on deadlock. */
export async function storeKillmails(sql: Sql, kills: KillToStore[], attempts = 5): Promise<StoreResult> {
  const unique = new Map<number, KillToStore>();
  for (const k of kills) unique.set(k.esi.killmail_id, k);
  const sorted = [...unique.values()].sort((a, b) => a.esi.killmail_id - b.esi.killmail_id);
  for (let attempt = 1; ; attempt++) {
    try {
      const { result, fanOutKeys } = await sql.begin((tx) => storeInTransaction(tx, sorted));
      fanOutChecked(fanOutKeys); // only once committed
      return result;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (!code || !RETRYABLE.has(code) || attempt >= attempts) throw err;
      await Bun.sleep(5 * attempt + Math.random() * 20);
    }
  }
}

/**
 * Inserts the killmail rows from one array parameter per column (KILLMAIL_COLUMNS, in order) through
 * unnest(), skipping kills already stored, and returns the ids it inserted. Raw SQL built once from the
 * schema: the same text on every call, so each connection prepares it once and reuses the plan.
 */
const INSERT_KILLMAILS = `insert into ${KILLMAIL_COLUMNS.tableSql} (${KILLMAIL_COLUMNS.list()})
    select * from unnest(${KILLMAIL_COLUMNS.unnestArgs()})
    on conflict (${KILLMAIL_COLUMNS.sql("killmailId")}) do nothing
    returning ${KILLMAIL_COLUMNS.sql("killmailId")} as "killmailId"`;

/**
 * One array literal per field, in the fields' order. A loop, not one inline expression per column in
 * the statement's call: the JIT spends seconds compiling the hot async function when it holds them all.
 */
function columnArrays<R, F extends keyof R>(rows: readonly R[], fields: readonly F[]): string[] {
  const out = new Array<string>(fields.length);
  for (let f = 0; f < fields.length; f++) {
    const field = fields[f]!;
    const values = new Array<ArrayElement>(rows.length);
    for (let i = 0; i < rows.length; i++) values[i] = rows[i]![field] as ArrayElement;
    out[f] = pgArray(values);
  }
  return out;
}

/**
 * A batch encoded once: the killmail rows as column arrays, the attacker and item rows as COPY bytes
 * (kill i's rows between offsets i and i + 1 of its table's `ends`).
 */
interface EncodedBatch {
  /** One array literal per KILLMAIL_COLUMNS column, in its order: INSERT_KILLMAILS' parameters. */
  kCols: string[];
  attackers: { rows: CopyWriter; ends: number[] };
  items: { rows: CopyWriter; ends: number[] };
  /** Kills with exactly one player attacker: the only ones the solo rule can apply to. */
  soloCandidates: number[];
}

function encodeBatch(kills: KillToStore[]): EncodedBatch {
  const kms: KillmailRow[] = [];
  // Sized for a typical batch up front (an attacker row is ~50-90 bytes, a kill's items ~1 KB): growing
  // by doubling would copy the bytes written so far several times per batch.
  let attackerRows = 0;
  for (const k of kills) attackerRows += k.esi.attackers.length;
  const attackers = { rows: new CopyWriter(attackerRows * 96), ends: [0] };
  const items = { rows: new CopyWriter(kills.length * 1024), ends: [0] };
  const soloCandidates: number[] = [];
  for (const k of kills) {
    kms.push(killmailRow(k.esi, k.hash));
    writeAttackerRows(attackers.rows, k.esi);
    attackers.ends.push(attackers.rows.length);
    writeItemRows(items.rows, k.esi);
    items.ends.push(items.rows.length);
    if (countPlayers(k.esi) === 1) soloCandidates.push(k.esi.killmail_id);
  }
  return { kCols: columnArrays(kms, KILLMAIL_COLUMNS.fields), attackers, items, soloCandidates };
}

/** The COPY bytes of the kills marked new (all of them, in the usual case: one view, no copy). */
function rowsOf(table: EncodedBatch["attackers"], isNew: boolean[]): Uint8Array {
  if (isNew.every(Boolean)) return table.rows.bytes();
  return Buffer.concat(isNew.flatMap((keep, i) => (keep ? [table.rows.bytes(table.ends[i], table.ends[i + 1])] : [])));
}

/**
 * The kills' rows go in by one statement and two COPYs: the killmail rows first (`ON CONFLICT DO
 * NOTHING`: a kill already stored, or being stored by a concurrent transaction, which this one then
 * waits for, is skipped whole), then the attackers and items of the kills this statement inserted (no
 * other transaction can insert those), then their values, fan-out and intake rows. All or nothing.
 */
async function storeInTransaction(tx: TransactionSql, kills: KillToStore[]): Promise<{ result: StoreResult; fanOutKeys: FanOutKeys }> {
  const { kCols, attackers, items, soloCandidates } = encodeBatch(kills);
  // JIT would compile these statements for seconds once a big batch pushes their cost estimate up.
  await tx`set local jit = off`;
  const inserted = await tx.unsafe<{ killmailId: number }[]>(INSERT_KILLMAILS, kCols, { prepare: true });

  const stored = inserted.map((r) => r.killmailId).sort((x, y) => x - y);
  const storedSet = new Set(stored);
  const existing = kills.map((k) => k.esi.killmail_id).filter((id) => !storedSet.has(id));

  let fanOut: { rows: number; keys: FanOutKeys } = { rows: 0, keys: { queues: [], ids: [] } };
  if (stored.length > 0) {
    const isNew = kills.map((k) => storedSet.has(k.esi.killmail_id));
    await copyIn(tx, ATTACKER_COPY, rowsOf(attackers, isNew));
    await copyIn(tx, ITEM_COPY, rowsOf(items, isNew));
    await valueStoredKills(
      tx,
      stored,
      soloCandidates.filter((id) => storedSet.has(id)),
    );
    fanOut = await writeFanOut(
      tx,
      kills.filter((_, i) => isNew[i]).map((k) => k.esi),
    );
  }
  await tx`delete from killmail_intake where killmail_id = any(${pgArray(kills.map((k) => k.esi.killmail_id))}::int8[])`;
  return { result: { stored, existing, fanOut: fanOut.rows }, fanOutKeys: fanOut.keys };
}

function countPlayers(esi: EsiKillmail): number {
  let n = 0;
  for (const att of esi.attackers) if ((att.character_id ?? 0) > RULES.npcCharacterMax) n++;
  return n;
}
