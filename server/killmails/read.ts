// Reads a stored kill back: the ESI body exactly as ESI sent it (rebuilt from the rows) and its values.
import { sql } from "../db/client.ts";
import type { EsiKillmail } from "../esi/killmail-schema.ts";
import { type AttackerRow, type ItemRow, type KillmailRow, unflattenKillmail } from "./flatten.ts";

export interface KillmailValues {
  total: string;
  destroyed: string;
  dropped: string;
  fitted: string;
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

export async function loadKillmail(killmailId: number): Promise<StoredKillmail | null> {
  const db = sql();
  const [[k], attackers, items, [v]] = await Promise.all([
    db<(KillmailRow & { isNpc: boolean })[]>`
      select killmail_id as "killmailId", hash, killmail_time as "killmailTime", solar_system_id as "solarSystemId",
             moon_id as "moonId", war_id as "warId", victim_character_id as "victimCharacterId",
             victim_corporation_id as "victimCorporationId", victim_alliance_id as "victimAllianceId",
             victim_faction_id as "victimFactionId", victim_ship_type_id as "victimShipTypeId",
             victim_damage_taken as "victimDamageTaken", position_x as "positionX", position_y as "positionY",
             position_z as "positionZ", attacker_count as "attackerCount",
             final_blow_character_id as "finalBlowCharacterId", final_blow_corporation_id as "finalBlowCorporationId",
             is_npc as "isNpc"
      from killmails where killmail_id = ${killmailId}`,
    db<AttackerRow[]>`
      select killmail_id as "killmailId", attacker_index as "attackerIndex", character_id as "characterId",
             corporation_id as "corporationId", alliance_id as "allianceId", faction_id as "factionId",
             ship_type_id as "shipTypeId", weapon_type_id as "weaponTypeId", damage_done as "damageDone",
             final_blow as "finalBlow", security_status as "securityStatus"
      from attackers where killmail_id = ${killmailId} order by attacker_index`,
    db<ItemRow[]>`
      select killmail_id as "killmailId", item_index as "itemIndex", parent_index as "parentIndex", flag,
             item_type_id as "itemTypeId", singleton, quantity_dropped as "quantityDropped",
             quantity_destroyed as "quantityDestroyed", container_dropped as "containerDropped"
      from items where killmail_id = ${killmailId} order by item_index`,
    db<
      {
        total: string;
        destroyed: string;
        dropped: string;
        fitted: string;
        unpriced: number;
        solo: boolean;
        awox: boolean;
        prices_as_of: string | null;
        valued_at: Date;
      }[]
    >`
      select total_value as total, destroyed_value as destroyed, dropped_value as dropped, fitted_value as fitted,
             unpriced_count as unpriced, is_solo as solo, is_awox as awox, prices_as_of::text, valued_at
      from killmail_values where killmail_id = ${killmailId}`,
  ]);
  if (!k) return null;
  return {
    hash: k.hash,
    killmail: unflattenKillmail({ killmail: k, attackers, items }),
    values: v
      ? {
          total: v.total,
          destroyed: v.destroyed,
          dropped: v.dropped,
          fitted: v.fitted,
          unpriced: v.unpriced,
          solo: v.solo,
          awox: v.awox,
          npc: k.isNpc,
          pricesAsOf: v.prices_as_of,
          valuedAt: v.valued_at.toISOString(),
        }
      : null,
  };
}
