// Turns a validated ESI killmail into the rows we store — the killmail row, and the attacker rows (in
// order) and item rows (pre-order, with parent links) as COPY rows — and stored rows back into the ESI
// body exactly (unflatten), plus the ids a stored kill fans out to. Pure functions: no I/O.
import type { CopyWriter } from "../db/copy.ts";
import type { EsiItem, EsiKillmail } from "../esi/killmail-schema.ts";
import { isPlayerCharacter, isPlayerCorporation } from "../eve/ids.ts";

export interface KillmailRow {
  killmailId: number;
  hash: string;
  killmailTime: string;
  solarSystemId: number;
  moonId: number | null;
  warId: number | null;
  victimCharacterId: number | null;
  victimCorporationId: number | null;
  victimAllianceId: number | null;
  victimFactionId: number | null;
  victimShipTypeId: number;
  victimDamageTaken: number;
  positionX: number | null;
  positionY: number | null;
  positionZ: number | null;
  attackerCount: number;
  finalBlowCharacterId: number | null;
  finalBlowCorporationId: number | null;
  isNpc: boolean;
}

export interface AttackerRow {
  killmailId: number;
  attackerIndex: number;
  characterId: number | null;
  corporationId: number | null;
  allianceId: number | null;
  factionId: number | null;
  shipTypeId: number | null;
  weaponTypeId: number | null;
  damageDone: number;
  finalBlow: boolean;
  securityStatus: number;
}

export interface ItemRow {
  killmailId: number;
  itemIndex: number;
  parentIndex: number | null;
  flag: number;
  itemTypeId: number;
  singleton: number;
  quantityDropped: number | null;
  quantityDestroyed: number | null;
  /** Inside a container: whether the top-level row holding it was dropped. Null on top-level rows. */
  containerDropped: boolean | null;
}

export interface FlatKillmail {
  killmail: KillmailRow;
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
 * The attackers table's columns, in the order writeAttackerRows writes them: AttackerRow's fields, then
 * whether the row is the kill's first of its corporation, alliance and ship type (the attacker indexes
 * by those hold only such rows, so each kill once per entity).
 */
export const ATTACKER_COPY_COLUMNS = [
  "killmail_id",
  "attacker_index",
  "character_id",
  "corporation_id",
  "alliance_id",
  "faction_id",
  "ship_type_id",
  "weapon_type_id",
  "damage_done",
  "final_blow",
  "security_status",
  "corporation_first",
  "alliance_first",
  "ship_first",
] as const;

/** The items table's columns, in the order writeItemRows writes them (ItemRow's fields). */
export const ITEM_COPY_COLUMNS = [
  "killmail_id",
  "item_index",
  "parent_index",
  "flag",
  "item_type_id",
  "singleton",
  "quantity_dropped",
  "quantity_destroyed",
  "container_dropped",
] as const;

/**
 * Writes the kill's attacker rows as COPY rows (ATTACKER_COPY_COLUMNS), straight from the body (a
 * batch's hot path: no row objects, no strings). Each row goes through one values array and one writer
 * call: a small function the JIT compiles quickly (a chain of inlined writes took it ~0.2 s).
 */
export function writeAttackerRows(out: CopyWriter, esi: EsiKillmail): void {
  const corporations = new Set<number>();
  const alliances = new Set<number>();
  const ships = new Set<number>();
  const row: (number | boolean | undefined)[] = new Array(ATTACKER_COPY_COLUMNS.length);
  row[0] = esi.killmail_id;
  for (let i = 0; i < esi.attackers.length; i++) {
    const a = esi.attackers[i]!;
    row[1] = i;
    row[2] = a.character_id;
    row[3] = a.corporation_id;
    row[4] = a.alliance_id;
    row[5] = a.faction_id;
    row[6] = a.ship_type_id;
    row[7] = a.weapon_type_id;
    row[8] = a.damage_done;
    row[9] = a.final_blow;
    row[10] = a.security_status;
    row[11] = firstSeen(corporations, a.corporation_id);
    row[12] = firstSeen(alliances, a.alliance_id);
    row[13] = firstSeen(ships, a.ship_type_id);
    out.row(row);
  }
}

/**
 * Writes the kill's item rows as COPY rows (ITEM_COPY_COLUMNS) in pre-order: a container's contents
 * follow it and name its index as parent; contents carry whether their top-level container was dropped.
 */
export function writeItemRows(out: CopyWriter, esi: EsiKillmail): void {
  const row: (number | boolean | undefined)[] = new Array(ITEM_COPY_COLUMNS.length);
  row[0] = esi.killmail_id;
  let next = 0;
  const walk = (list: EsiItem[], parentIndex: number | undefined, containerDropped: boolean | undefined) => {
    for (const item of list) {
      const itemIndex = next++;
      row[1] = itemIndex;
      row[2] = parentIndex;
      row[3] = item.flag;
      row[4] = item.item_type_id;
      row[5] = item.singleton;
      row[6] = item.quantity_dropped;
      row[7] = item.quantity_destroyed;
      row[8] = containerDropped;
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
