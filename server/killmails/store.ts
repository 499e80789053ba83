// Stores a batch of validated killmails in ONE transaction, set-based: one statement writes killmails,
// attackers, items and their values from unnest() arrays (a kill already stored is skipped whole, so
// a kill is never duplicated nor partial); then the fan-out goes to the outbox (fan-out.ts) and intake rows close. Safe under concurrency:
// rows are written in key order and deadlocks/serialization failures retry the whole batch.
import type { Sql, TransactionSql } from "postgres";
import type { EsiKillmail } from "../esi/killmail-schema.ts";
import { pgArray, type ArrayElement } from "../db/arrays.ts";
import { type FanOutKeys, fanOutChecked, writeFanOut } from "./fan-out.ts";
import { flattenKillmail, type ItemRow, type KillmailRow, type StoredAttackerRow } from "./flatten.ts";
import { RULES, valueColumns, valueTotals } from "./values.ts";

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

// The columns each table's rows go to Postgres in, one array literal each, in unnest() order.
const KILLMAIL_FIELDS = [
  "killmailId", "hash", "killmailTime", "solarSystemId", "moonId", "warId", "victimCharacterId",
  "victimCorporationId", "victimAllianceId", "victimFactionId", "victimShipTypeId", "victimDamageTaken",
  "positionX", "positionY", "positionZ", "attackerCount", "finalBlowCharacterId", "finalBlowCorporationId", "isNpc",
] as const satisfies readonly (keyof KillmailRow)[];
const ATTACKER_FIELDS = [
  "killmailId", "attackerIndex", "characterId", "corporationId", "allianceId", "factionId", "shipTypeId",
  "weaponTypeId", "damageDone", "finalBlow", "securityStatus", "corporationFirst", "allianceFirst", "shipFirst",
] as const satisfies readonly (keyof StoredAttackerRow)[];
const ITEM_FIELDS = [
  "killmailId", "itemIndex", "parentIndex", "flag", "itemTypeId", "singleton", "quantityDropped",
  "quantityDestroyed", "containerDropped",
] as const satisfies readonly (keyof ItemRow)[];

/**
 * One array literal per field. A loop, not one inline expression per column in the statement below:
 * the JIT compiles that hot async function in milliseconds instead of seconds.
 */
function columnArrays<R, F extends keyof R>(rows: readonly R[], fields: readonly F[]): Record<F, string> {
  const out = {} as Record<F, string>;
  for (const field of fields) {
    const values = new Array<ArrayElement>(rows.length);
    for (let i = 0; i < rows.length; i++) values[i] = rows[i]![field] as ArrayElement;
    out[field] = pgArray(values);
  }
  return out;
}

/** The statement's parameters: the kills flattened into one array literal per column. */
function statementArrays(kills: KillToStore[]) {
  const kms: KillmailRow[] = [];
  const atts: StoredAttackerRow[] = [];
  const its: ItemRow[] = [];
  for (const k of kills) {
    const flat = flattenKillmail(k.esi, k.hash);
    kms.push(flat.killmail);
    for (const a of flat.attackers) atts.push(a);
    for (const i of flat.items) its.push(i);
  }
  // Attackers matter to the values only for the solo rule, which needs exactly one player attacker:
  // only those kills' attackers go into the valuation (the rest count zero players, so not solo either).
  const solo = kills.filter((k) => countPlayers(k.esi) === 1).map((k) => k.esi.killmail_id);
  return {
    kCols: columnArrays(kms, KILLMAIL_FIELDS),
    aCols: columnArrays(atts, ATTACKER_FIELDS),
    iCols: columnArrays(its, ITEM_FIELDS),
    soloCandidates: pgArray(solo),
  };
}

async function storeInTransaction(
  tx: TransactionSql,
  kills: KillToStore[],
): Promise<{ result: StoreResult; fanOutKeys: FanOutKeys }> {
  const { kCols, aCols, iCols, soloCandidates } = statementArrays(kills);
  const cols = valueColumns(tx);
  // JIT would compile this statement for seconds once a big batch pushes its cost estimate up.
  await tx`set local jit = off`;
  const inserted = await tx<{ killmail_id: number }[]>`
    with src_k as (
      select * from unnest(
        ${kCols.killmailId}::int8[], ${kCols.hash}::text[],
        ${kCols.killmailTime}::timestamptz[], ${kCols.solarSystemId}::int4[],
        ${kCols.moonId}::int4[], ${kCols.warId}::int8[],
        ${kCols.victimCharacterId}::int4[], ${kCols.victimCorporationId}::int4[],
        ${kCols.victimAllianceId}::int4[], ${kCols.victimFactionId}::int4[],
        ${kCols.victimShipTypeId}::int4[], ${kCols.victimDamageTaken}::int4[],
        ${kCols.positionX}::float8[], ${kCols.positionY}::float8[],
        ${kCols.positionZ}::float8[], ${kCols.attackerCount}::int4[],
        ${kCols.finalBlowCharacterId}::int4[], ${kCols.finalBlowCorporationId}::int4[],
        ${kCols.isNpc}::bool[]
      ) as u(killmail_id, hash, killmail_time, solar_system_id, moon_id, war_id, victim_character_id,
             victim_corporation_id, victim_alliance_id, victim_faction_id, victim_ship_type_id,
             victim_damage_taken, position_x, position_y, position_z, attacker_count,
             final_blow_character_id, final_blow_corporation_id, is_npc)
    ), k as (
      insert into killmails (killmail_id, hash, killmail_time, solar_system_id, moon_id, war_id,
        victim_character_id, victim_corporation_id, victim_alliance_id, victim_faction_id,
        victim_ship_type_id, victim_damage_taken, position_x, position_y, position_z,
        attacker_count, final_blow_character_id, final_blow_corporation_id, is_npc)
      select * from src_k
      on conflict (killmail_id) do nothing
      returning killmail_id, killmail_time, victim_ship_type_id, victim_character_id, victim_corporation_id,
                final_blow_corporation_id
    ), src_a as (
      select * from unnest(
        ${aCols.killmailId}::int8[], ${aCols.attackerIndex}::int2[],
        ${aCols.characterId}::int4[], ${aCols.corporationId}::int4[],
        ${aCols.allianceId}::int4[], ${aCols.factionId}::int4[],
        ${aCols.shipTypeId}::int4[], ${aCols.weaponTypeId}::int4[],
        ${aCols.damageDone}::int4[], ${aCols.finalBlow}::bool[],
        ${aCols.securityStatus}::float8[], ${aCols.corporationFirst}::bool[],
        ${aCols.allianceFirst}::bool[], ${aCols.shipFirst}::bool[]
      ) as u(killmail_id, attacker_index, character_id, corporation_id, alliance_id, faction_id,
             ship_type_id, weapon_type_id, damage_done, final_blow, security_status, corporation_first,
             alliance_first, ship_first)
      where u.killmail_id in (select killmail_id from k)
    ), att as (
      insert into attackers (killmail_id, attacker_index, character_id, corporation_id, alliance_id,
        faction_id, ship_type_id, weapon_type_id, damage_done, final_blow, security_status, corporation_first,
        alliance_first, ship_first)
      select * from src_a
    ), src_i as (
      select * from unnest(
        ${iCols.killmailId}::int8[], ${iCols.itemIndex}::int4[],
        ${iCols.parentIndex}::int4[], ${iCols.flag}::int2[],
        ${iCols.itemTypeId}::int4[], ${iCols.singleton}::int2[],
        ${iCols.quantityDropped}::int8[], ${iCols.quantityDestroyed}::int8[],
        ${iCols.containerDropped}::bool[]
      ) as u(killmail_id, item_index, parent_index, flag, item_type_id, singleton, quantity_dropped,
             quantity_destroyed, container_dropped)
      where u.killmail_id in (select killmail_id from k)
    ), itm as (
      insert into items (killmail_id, item_index, parent_index, flag, item_type_id, singleton,
        quantity_dropped, quantity_destroyed, container_dropped)
      select * from src_i
    ),
    -- Values are written with the kill, from the same arrays (no second pass over the tables).
    value_kills as (select * from k),
    value_items as (
      select killmail_id, parent_index, flag, item_type_id, singleton, quantity_dropped, quantity_destroyed,
             container_dropped
      from src_i
    ),
    value_attackers as (
      select killmail_id, character_id, ship_type_id from src_a
      where killmail_id in (select unnest(${soloCandidates}::int8[])) -- hashed, not a scan per row
    ),
    ${valueTotals(tx)},
    val as (
      insert into killmail_values ${cols.names}
      select ${cols.values} from totals t
      on conflict (killmail_id) do update set ${cols.update}
    )
    select killmail_id from k`;

  const stored = inserted.map((r) => r.killmail_id).sort((x, y) => x - y);
  const storedSet = new Set(stored);
  const existing = kills.map((k) => k.esi.killmail_id).filter((id) => !storedSet.has(id));

  let fanOut: { rows: number; keys: FanOutKeys } = { rows: 0, keys: { queues: [], ids: [] } };
  if (stored.length > 0) {
    fanOut = await writeFanOut(
      tx,
      kills.filter((k) => storedSet.has(k.esi.killmail_id)).map((k) => k.esi),
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

