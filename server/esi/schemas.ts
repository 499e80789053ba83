// Response shapes of the ESI routes the killboard uses, written from openapi-2026-08-18.yaml (required
// fields as the spec lists them; unknown fields are dropped). The killmail body is in killmail-schema.ts.
import { z } from "zod";
import { killmailHashSchema } from "./killmail-schema.ts";

const int = z.number().int();
const num = z.number().finite();
const dateTime = z.iso.datetime({ offset: true });

/** GET /characters/{character_id} (CharactersDetail). */
export const characterSchema = z.object({
  achievement_score: int,
  alliance_id: int.optional(),
  birthday: dateTime,
  bloodline_id: int,
  character_title_id: z.string().optional(),
  corporation_id: int,
  corporation_title: z.string().optional(),
  description: z.string().optional(),
  faction_id: int.optional(),
  gender: z.enum(["male", "female"]),
  name: z.string(),
  race_id: int,
  security_status: num.optional(),
});
export type EsiCharacter = z.infer<typeof characterSchema>;

/** GET /corporations/{corporation_id} (CorporationsDetail). */
export const corporationSchema = z.object({
  alliance_id: int.optional(),
  ceo_id: int.optional(),
  creator_id: int.optional(),
  date_founded: dateTime.optional(),
  description: z.string(),
  enlisted_faction_id: int.optional(),
  friendly_fire: z.enum(["legal", "illegal"]),
  home_station_id: int,
  member_count: int,
  name: z.string(),
  palette: z.object({ main_color: z.string(), secondary_color: z.string().optional(), tertiary_color: z.string().optional() }).optional(),
  shares: int,
  state: z.enum(["active", "closed"]),
  tax_rates: z.object({ isk: num, loyalty_point: num }),
  ticker: z.string(),
  type: z.enum(["player_owned", "npc_owned"]),
  url: z.string().optional(),
  war_eligible: z.boolean(),
});
export type EsiCorporation = z.infer<typeof corporationSchema>;

/** GET /alliances/{alliance_id} (AllianceDetail). */
export const allianceSchema = z.object({
  creator_corporation_id: int,
  creator_id: int,
  date_founded: dateTime,
  executor_corporation_id: int.optional(),
  faction_id: int.optional(),
  name: z.string(),
  ticker: z.string(),
});
export type EsiAlliance = z.infer<typeof allianceSchema>;

/** GET /alliances and GET /alliances/{alliance_id}/corporations: ids. */
export const idListSchema = z.array(int);

/** GET /universe/types/{type_id}. */
export const typeSchema = z.object({
  capacity: num.optional(),
  description: z.string(),
  dogma_attributes: z.array(z.object({ attribute_id: int, value: num })).optional(),
  dogma_effects: z.array(z.object({ effect_id: int, is_default: z.boolean() })).optional(),
  graphic_id: int.optional(),
  group_id: int,
  icon_id: int.optional(),
  market_group_id: int.optional(),
  mass: num.optional(),
  name: z.string(),
  packaged_volume: num.optional(),
  portion_size: int.optional(),
  published: z.boolean(),
  radius: num.optional(),
  type_id: int,
  volume: num.optional(),
});
export type EsiType = z.infer<typeof typeSchema>;

/** GET /universe/groups/{group_id}. */
export const groupSchema = z.object({
  category_id: int,
  group_id: int,
  name: z.string(),
  published: z.boolean(),
  types: z.array(int),
});
export type EsiGroup = z.infer<typeof groupSchema>;

/** GET /universe/categories/{category_id}. */
export const categorySchema = z.object({
  category_id: int,
  groups: z.array(int),
  name: z.string(),
  published: z.boolean(),
});
export type EsiCategory = z.infer<typeof categorySchema>;

/** GET /markets/prices. */
export const marketPricesSchema = z.array(z.object({ type_id: int, average_price: num.optional(), adjusted_price: num.optional() }));
export type EsiMarketPrice = z.infer<typeof marketPricesSchema>[number];

/** GET /markets/{region_id}/history?type_id=. */
export const marketHistorySchema = z.array(
  z.object({ date: z.iso.date(), average: num, highest: num, lowest: num, order_count: int, volume: int }),
);
export type EsiMarketHistoryDay = z.infer<typeof marketHistorySchema>[number];

/** POST /universe/names. */
export const universeNamesSchema = z.array(
  z.object({
    id: int,
    name: z.string(),
    category: z.enum([
      "alliance",
      "character",
      "constellation",
      "corporation",
      "inventory_type",
      "region",
      "solar_system",
      "station",
      "faction",
    ]),
  }),
);
export type EsiUniverseName = z.infer<typeof universeNamesSchema>[number];

/** POST /characters/affiliation. */
export const affiliationSchema = z.array(
  z.object({ character_id: int, corporation_id: int, alliance_id: int.optional(), faction_id: int.optional() }),
);
export type EsiAffiliation = z.infer<typeof affiliationSchema>[number];

/** GET /status (Status): the cluster's state. */
export const statusSchema = z.object({
  players: int,
  server_version: z.string(),
  start_time: dateTime,
  vip: z.boolean().optional(),
});
export type EsiStatus = z.infer<typeof statusSchema>;

/** GET /characters|corporations/{id}/killmails/recent: the id/hash pairs of recent kills and losses. */
export const killmailRefsSchema = z.array(z.object({ killmail_id: int.positive(), killmail_hash: killmailHashSchema }));
export type EsiKillmailRef = z.infer<typeof killmailRefsSchema>[number];
