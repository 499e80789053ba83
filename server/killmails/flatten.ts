// Turns a validated ESI killmail into the rows we store — the killmail row, and the attacker rows (in
// order) and item rows (pre-order, with parent links) as COPY rows — and stored rows back into the ESI
// body exactly (unflatten), plus the ids a stored kill fans out to. The rows' columns are lists of the
// schema's (server/db/columns.ts), the one order the writers, the store's statements and the reads
// share. Pure functions: no I/O.
import { columnList, type RowOf } from "../db/columns.ts";
import { type CopyWriter, copyInto } from "../db/copy.ts";
import { attackers, items, killmails } from "../db/schema.ts";
import type { EsiItem, EsiKillmail } from "../esi/killmail-schema.ts";
import { isPlayerCharacter, isPlayerCorporation } from "../eve/ids.ts";

/** The killmails columns of a kill's row: all but stored_at, which the database sets. */
export const KILLMAIL_COLUMNS = columnList(killmails, [
  "killmailId",
  "hash",
  "killmailTime",
  "solarSystemId",
  "moonId",
  "warId",
  "victimCharacterId",
  "victimCorporationId",
  "victimAllianceId",
  "victimFactionId",
  "victimShipTypeId",
  "victimDamageTaken",
  "positionX",
  "positionY",
  "positionZ",
  "attackerCount",
  "finalBlowCharacterId",
  "finalBlowCorporationId",
  "isNpc",
]);

/** The attackers columns that carry the ESI body (an AttackerRow). */
export const ATTACKER_COLUMNS = columnList(attackers, [
  "killmailId",
  "attackerIndex",
  "characterId",
  "corporationId",
  "allianceId",
  "factionId",
  "shipTypeId",
  "weaponTypeId",
  "damageDone",
  "finalBlow",
  "securityStatus",
]);

/**
 * The attackers columns in the order writeAttackerRows writes them (it places each field by this
 * list's positions): the body's, then whether the row is the kill's first of its corporation, alliance
 * and ship type (the attacker indexes by those hold only such rows, so each kill once per entity).
 */
export const ATTACKER_COPY_COLUMNS = columnList(attackers, [...ATTACKER_COLUMNS.fields, "corporationFirst", "allianceFirst", "shipFirst"]);

/** The items columns: what writeItemRows writes (in this order, by its positions) and an ItemRow holds. */
export const ITEM_COLUMNS = columnList(items, [
  "killmailId",
  "itemIndex",
  "parentIndex",
  "flag",
  "itemTypeId",
  "singleton",
  "quantityDropped",
  "quantityDestroyed",
  "containerDropped",
]);

/** The COPY statements for the rows writeAttackerRows and writeItemRows write: their columns in the writers' order. */
export const ATTACKER_COPY = copyInto(ATTACKER_COPY_COLUMNS.table, ATTACKER_COPY_COLUMNS.names);
export const ITEM_COPY = copyInto(ITEM_COLUMNS.table, ITEM_COLUMNS.names);

/** A killmails row as read back (killmail_time a Date). */
export type StoredKillmailRow = RowOf<typeof killmails, (typeof KILLMAIL_COLUMNS.fields)[number]>;
/** A killmails row as the store writes it: the time as ESI's text, which its unnest() array carries as is. */
export type KillmailRow = Omit<StoredKillmailRow, "killmailTime"> & { killmailTime: string };
export type AttackerRow = RowOf<typeof attackers, (typeof ATTACKER_COLUMNS.fields)[number]>;
export type ItemRow = RowOf<typeof items, (typeof ITEM_COLUMNS.fields)[number]>;

export interface FlatKillmail {
  killmail: KillmailRow | StoredKillmailRow;
  attackers: AttackerRow[];
  items: ItemRow[];
}

/** ESI writes `2026-03-25T14:26:36Z`; normalise any other valid ISO form to that. */
export function esiTime(value: string | Date): string {
  const d = typeof value === "string" ? new Date(value) : value;
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * zKillboard's NPC rule (cron/3.queueProcess.nolock.php): a kill is NPC when no attacker is a player
 * character or in a player corporation, or when the victim itself is an NPC (no character, an NPC
 * corporation).
 */
export function isNpcKill(esi: EsiKillmail): boolean {
  const v = esi.victim;
  if (v.character_id === undefined && v.corporation_id !== undefined && !isPlayerCorporation(v.corporation_id)) return true;
  return !esi.attackers.some((a) => isPlayerCharacter(a.character_id) || isPlayerCorporation(a.corporation_id));
}

const orNull = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

/** True the first time `id` is seen in `seen` (undefined ids never count). */
function firstSeen(seen: Set<number>, id: number | undefined): boolean {
  if (id === undefined || seen.has(id)) return false;
  seen.add(id);
  return true;
}

/** The killmails table row of a kill. */
export function killmailRow(esi: EsiKillmail, hash: string): KillmailRow {
  const v = esi.victim;
  const finalBlow = esi.attackers.find((a) => a.final_blow);
  return {
    killmailId: esi.killmail_id,
    hash,
    killmailTime: esiTime(esi.killmail_time),
    solarSystemId: esi.solar_system_id,
    moonId: orNull(esi.moon_id),
    warId: orNull(esi.war_id),
    victimCharacterId: orNull(v.character_id),
    victimCorporationId: orNull(v.corporation_id),
    victimAllianceId: orNull(v.alliance_id),
    victimFactionId: orNull(v.faction_id),
    victimShipTypeId: v.ship_type_id,
    victimDamageTaken: v.damage_taken,
    positionX: v.position ? v.position.x : null,
    positionY: v.position ? v.position.y : null,
    positionZ: v.position ? v.position.z : null,
    attackerCount: esi.attackers.length,
    finalBlowCharacterId: orNull(finalBlow?.character_id),
    finalBlowCorporationId: orNull(finalBlow?.corporation_id),
    isNpc: isNpcKill(esi),
  };
}

/**
 * Writes the kill's attacker rows as COPY rows (ATTACKER_COPY_COLUMNS, each field at its position there),
 * straight from the body (a batch's hot path: no row objects, no strings). Each row goes through one
 * values array and one writer call: a small function the JIT compiles quickly (a chain of inlined
 * writes compiles slowly).
 */
export function writeAttackerRows(out: CopyWriter, esi: EsiKillmail): void {
  const at = ATTACKER_COPY_COLUMNS.at;
  const corporations = new Set<number>();
  const alliances = new Set<number>();
  const ships = new Set<number>();
  const row: (number | boolean | undefined)[] = new Array(ATTACKER_COPY_COLUMNS.fields.length);
  row[at.killmailId] = esi.killmail_id;
  for (let i = 0; i < esi.attackers.length; i++) {
    const a = esi.attackers[i]!;
    row[at.attackerIndex] = i;
    row[at.characterId] = a.character_id;
    row[at.corporationId] = a.corporation_id;
    row[at.allianceId] = a.alliance_id;
    row[at.factionId] = a.faction_id;
    row[at.shipTypeId] = a.ship_type_id;
    row[at.weaponTypeId] = a.weapon_type_id;
    row[at.damageDone] = a.damage_done;
    row[at.finalBlow] = a.final_blow;
    row[at.securityStatus] = a.security_status;
    row[at.corporationFirst] = firstSeen(corporations, a.corporation_id);
    row[at.allianceFirst] = firstSeen(alliances, a.alliance_id);
    row[at.shipFirst] = firstSeen(ships, a.ship_type_id);
    out.row(row);
  }
}

/**
 * Writes the kill's item rows as COPY rows (ITEM_COLUMNS, each field at its position there) in
 * pre-order: a container's contents follow it and name its index as parent; contents carry whether
 * their top-level container was dropped.
 */
export function writeItemRows(out: CopyWriter, esi: EsiKillmail): void {
  const at = ITEM_COLUMNS.at;
  const row: (number | boolean | undefined)[] = new Array(ITEM_COLUMNS.fields.length);
  row[at.killmailId] = esi.killmail_id;
  let next = 0;
  const walk = (list: EsiItem[], parentIndex: number | undefined, containerDropped: boolean | undefined) => {
    for (const item of list) {
      const itemIndex = next++;
      row[at.itemIndex] = itemIndex;
      row[at.parentIndex] = parentIndex;
      row[at.flag] = item.flag;
      row[at.itemTypeId] = item.item_type_id;
      row[at.singleton] = item.singleton;
      row[at.quantityDropped] = item.quantity_dropped;
      row[at.quantityDestroyed] = item.quantity_destroyed;
      row[at.containerDropped] = containerDropped;
      out.row(row);
      if (item.items) walk(item.items, itemIndex, containerDropped ?? (item.quantity_dropped ?? 0) > 0);
    }
  };
  walk(esi.victim.items ?? [], undefined, undefined);
}

/**
 * Rebuilds the ESI body from stored rows. ESI always sends `victim.items` (possibly empty) and a
 * nested `items` array only on rows that hold something; optional fields are omitted, never null.
 */
export function unflattenKillmail(flat: FlatKillmail): EsiKillmail {
  const k = flat.killmail;
  const set = <T extends object, K extends string>(obj: T, key: K, value: unknown) => {
    if (value !== null && value !== undefined) (obj as Record<string, unknown>)[key] = value;
  };
  const victim: EsiKillmail["victim"] = { ship_type_id: k.victimShipTypeId, damage_taken: k.victimDamageTaken };
  set(victim, "character_id", k.victimCharacterId);
  set(victim, "corporation_id", k.victimCorporationId);
  set(victim, "alliance_id", k.victimAllianceId);
  set(victim, "faction_id", k.victimFactionId);
  if (k.positionX !== null && k.positionY !== null && k.positionZ !== null) {
    victim.position = { x: k.positionX, y: k.positionY, z: k.positionZ };
  }
  const built: EsiItem[] = [];
  const byIndex = new Map<number, EsiItem>();
  for (const row of [...flat.items].sort((a, b) => a.itemIndex - b.itemIndex)) {
    const item: EsiItem = { flag: row.flag, item_type_id: row.itemTypeId, singleton: row.singleton };
    set(item, "quantity_dropped", row.quantityDropped);
    set(item, "quantity_destroyed", row.quantityDestroyed);
    byIndex.set(row.itemIndex, item);
    if (row.parentIndex === null) built.push(item);
    else {
      const parent = byIndex.get(row.parentIndex);
      if (!parent) throw new Error(`killmail ${k.killmailId}: item ${row.itemIndex} names missing parent ${row.parentIndex}`);
      parent.items ??= [];
      parent.items.push(item);
    }
  }
  victim.items = built;
  const attackers = [...flat.attackers]
    .sort((a, b) => a.attackerIndex - b.attackerIndex)
    .map((a) => {
      const out: EsiKillmail["attackers"][number] = {
        damage_done: a.damageDone,
        final_blow: a.finalBlow,
        security_status: a.securityStatus,
      };
      set(out, "character_id", a.characterId);
      set(out, "corporation_id", a.corporationId);
      set(out, "alliance_id", a.allianceId);
      set(out, "faction_id", a.factionId);
      set(out, "ship_type_id", a.shipTypeId);
      set(out, "weapon_type_id", a.weaponTypeId);
      return out;
    });
  const body: EsiKillmail = {
    killmail_id: k.killmailId,
    killmail_time: esiTime(k.killmailTime),
    solar_system_id: k.solarSystemId,
    victim,
    attackers,
  };
  set(body, "moon_id", k.moonId);
  set(body, "war_id", k.warId);
  return body;
}

/** Entities and types a kill names, NPCs filtered out: what the fan-out may need to refresh. */
export interface KillReferences {
  characters: number[];
  corporations: number[];
  alliances: number[];
  types: number[];
}

/** The same as sets, filled by collectReferences across many kills. */
export interface KillReferenceSets {
  character: Set<number>;
  corporation: Set<number>;
  alliance: Set<number>;
  type: Set<number>;
}

export function emptyReferenceSets(): KillReferenceSets {
  return { character: new Set(), corporation: new Set(), alliance: new Set(), type: new Set() };
}

/** Adds what a kill names (NPCs filtered out) to `into`. */
export function collectReferences(esi: EsiKillmail, into: KillReferenceSets): void {
  const involve = (p: { character_id?: number; corporation_id?: number; alliance_id?: number }) => {
    if (isPlayerCharacter(p.character_id)) into.character.add(p.character_id);
    if (isPlayerCorporation(p.corporation_id)) into.corporation.add(p.corporation_id);
    if (p.alliance_id !== undefined) into.alliance.add(p.alliance_id);
  };
  into.type.add(esi.victim.ship_type_id);
  involve(esi.victim);
  for (const a of esi.attackers) {
    involve(a);
    if (a.ship_type_id !== undefined) into.type.add(a.ship_type_id);
    if (a.weapon_type_id !== undefined) into.type.add(a.weapon_type_id);
  }
  const walk = (list: EsiItem[]) => {
    for (const item of list) {
      into.type.add(item.item_type_id);
      if (item.items) walk(item.items);
    }
  };
  walk(esi.victim.items ?? []);
}

export function referencesOf(esi: EsiKillmail): KillReferences {
  const sets = emptyReferenceSets();
  collectReferences(esi, sets);
  return {
    characters: [...sets.character],
    corporations: [...sets.corporation],
    alliances: [...sets.alliance],
    types: [...sets.type],
  };
}
