// The database schema (drizzle). Postgres is the source of truth: kills, their attackers and items,
// the entities and types they name, market data, and the ledgers that let Redis be disposable
// (killmail_intake: kills we were told about and have not stored; outbox: fan-out written in the
// kill's own transaction and relayed to BullMQ). Migrations in drizzle/ are generated from this file
// by drizzle-kit; the three kill tables are then range-partitioned by killmail_id (see drizzle/README.md).
import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

const id = (name: string) => integer(name);
const isk = (name: string) => numeric(name, { precision: 20, scale: 2 });
const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/**
 * One row per killmail: the facts of the ESI body, written once and never updated (values, which
 * change with prices and rules, live in killmail_values).
 */
export const killmails = pgTable(
  "killmails",
  {
    killmailId: bigint("killmail_id", { mode: "number" }).primaryKey(),
    hash: text("hash").notNull(),
    killmailTime: tstz("killmail_time").notNull(),
    solarSystemId: id("solar_system_id").notNull(),
    moonId: id("moon_id"),
    warId: bigint("war_id", { mode: "number" }),
    victimCharacterId: id("victim_character_id"),
    victimCorporationId: id("victim_corporation_id"),
    victimAllianceId: id("victim_alliance_id"),
    victimFactionId: id("victim_faction_id"),
    victimShipTypeId: id("victim_ship_type_id").notNull(),
    victimDamageTaken: integer("victim_damage_taken").notNull(),
    positionX: doublePrecision("position_x"),
    positionY: doublePrecision("position_y"),
    positionZ: doublePrecision("position_z"),
    attackerCount: integer("attacker_count").notNull(),
    /** The attacker credited with the final blow (kill lists show it; awox needs its corporation). */
    finalBlowCharacterId: id("final_blow_character_id"),
    finalBlowCorporationId: id("final_blow_corporation_id"),
    /** zKillboard's NPC rule: no attacker is a player character, player corporation or alliance. */
    isNpc: boolean("is_npc").notNull(),
    storedAt: tstz("stored_at").notNull().defaultNow(),
  },
  (t) => [
    index("killmails_time_idx").on(t.killmailTime),
    index("killmails_victim_character_idx").on(t.victimCharacterId, t.killmailId).where(sql`victim_character_id is not null`),
    index("killmails_victim_corporation_idx").on(t.victimCorporationId, t.killmailId),
    index("killmails_victim_alliance_idx").on(t.victimAllianceId, t.killmailId).where(sql`victim_alliance_id is not null`),
    index("killmails_victim_ship_idx").on(t.victimShipTypeId, t.killmailId),
    index("killmails_system_idx").on(t.solarSystemId, t.killmailId),
  ],
);

/**
 * Values of a kill (zKillboard's rules, docs/valuation.md), exact numerics, recomputable at any time:
 * written with the kill and rewritten by value backfills. A narrow table so recomputing millions of
 * values never rewrites the wide, heavily indexed killmails rows.
 */
export const killmailValues = pgTable(
  "killmail_values",
  {
    killmailId: bigint("killmail_id", { mode: "number" }).primaryKey(),
    totalValue: isk("total_value").notNull(),
    destroyedValue: isk("destroyed_value").notNull(),
    droppedValue: isk("dropped_value").notNull(),
    fittedValue: isk("fitted_value").notNull(),
    /** zKillboard's totalDroppableValue: every item row but implants, rigs and subsystems (0 before id 21112472). */
    totalDroppableValue: isk("total_droppable_value").notNull().default("0"),
    /** Rows (ship included) without a known price or type: valued as 0 until prices/types arrive. */
    unpricedCount: integer("unpriced_count").notNull(),
    /** zKillboard's solo and awox labels (they exclude pods, shuttles, rookie ships: need the ship group). */
    isSolo: boolean("is_solo").notNull(),
    isAwox: boolean("is_awox").notNull(),
    /** Newest price date used, and when the values were computed. */
    pricesAsOf: date("prices_as_of"),
    valuedAt: tstz("valued_at").notNull().defaultNow(),
    /** Set when newer prices or types may change these values (cleared when revalued). */
    revalue: boolean("revalue").notNull().default(false),
  },
  (t) => [index("killmail_values_revalue_idx").on(t.killmailId).where(sql`revalue`)],
);

/**
 * zKillboard's own numbers for a kill, as its zkb block came with the kill (R2Z2 envelopes, the
 * zKillboard API): kept to prove value parity (`bun cli verify:zkb`) and for what a board shows
 * (points, npc/solo/awox, labels). Absent for kills that came without one (ESI, EVE Ref, SSO, HTTP).
 * Written on intake, updated when a newer block arrives.
 */
export const killmailZkb = pgTable("killmail_zkb", {
  killmailId: bigint("killmail_id", { mode: "number" }).primaryKey(),
  totalValue: isk("total_value").notNull(),
  destroyedValue: isk("destroyed_value").notNull(),
  droppedValue: isk("dropped_value").notNull(),
  fittedValue: isk("fitted_value").notNull(),
  totalDroppableValue: isk("total_droppable_value"),
  points: integer("points"),
  npc: boolean("npc"),
  solo: boolean("solo"),
  awox: boolean("awox"),
  labels: text("labels").array(),
  /** Where the block came from: r2z2 | zkb-api. */
  source: text("source").notNull(),
  receivedAt: tstz("received_at").notNull().defaultNow(),
});

/** Attackers in ESI order (attacker_index 0…n-1). */
export const attackers = pgTable(
  "attackers",
  {
    killmailId: bigint("killmail_id", { mode: "number" }).notNull(),
    attackerIndex: smallint("attacker_index").notNull(),
    characterId: id("character_id"),
    corporationId: id("corporation_id"),
    allianceId: id("alliance_id"),
    factionId: id("faction_id"),
    shipTypeId: id("ship_type_id"),
    weaponTypeId: id("weapon_type_id"),
    damageDone: integer("damage_done").notNull(),
    finalBlow: boolean("final_blow").notNull(),
    securityStatus: doublePrecision("security_status").notNull(),
    /**
     * The kill's first attacker row of its corporation / alliance / ship type (set when stored). The
     * corporation, alliance and ship indexes hold only these rows: one entry per kill and entity (a
     * fleet of 40 from one corporation is one entry, not 40), so "kills of corporation X" is
     * `where corporation_id = X and corporation_first`, each kill once.
     */
    corporationFirst: boolean("corporation_first").notNull().default(false),
    allianceFirst: boolean("alliance_first").notNull().default(false),
    shipFirst: boolean("ship_first").notNull().default(false),
  },
  (t) => [
    primaryKey({ columns: [t.killmailId, t.attackerIndex] }),
    index("attackers_character_idx").on(t.characterId, t.killmailId).where(sql`character_id is not null`),
    index("attackers_corporation_idx").on(t.corporationId, t.killmailId).where(sql`corporation_first`),
    index("attackers_alliance_idx").on(t.allianceId, t.killmailId).where(sql`alliance_first`),
    index("attackers_ship_idx").on(t.shipTypeId, t.killmailId).where(sql`ship_first`),
  ],
);

/**
 * Victim items flattened in ESI order (pre-order: a container, then its contents). parent_index points
 * at the containing row; depth-0 rows have none. Absent quantities stay null (ESI omits them).
 */
export const items = pgTable(
  "items",
  {
    killmailId: bigint("killmail_id", { mode: "number" }).notNull(),
    itemIndex: integer("item_index").notNull(),
    parentIndex: integer("parent_index"),
    flag: smallint("flag").notNull(),
    itemTypeId: id("item_type_id").notNull(),
    singleton: smallint("singleton").notNull(),
    quantityDropped: bigint("quantity_dropped", { mode: "number" }),
    quantityDestroyed: bigint("quantity_destroyed", { mode: "number" }),
    /**
     * For a row inside a container: whether the top-level row holding it was dropped (its value goes
     * to that row's bucket). Null on top-level rows. Precomputed at insert so valuation needs no walk.
     */
    containerDropped: boolean("container_dropped"),
  },
  (t) => [primaryKey({ columns: [t.killmailId, t.itemIndex] })],
);

const cacheColumns = {
  /** ESI ETag of the last response (for If-None-Match) and when it may be asked again. */
  etag: text("etag"),
  expiresAt: tstz("expires_at"),
  updatedAt: tstz("updated_at").notNull().defaultNow(),
};

export const characters = pgTable("characters", {
  characterId: id("character_id").primaryKey(),
  name: text("name"),
  corporationId: id("corporation_id"),
  allianceId: id("alliance_id"),
  factionId: id("faction_id"),
  securityStatus: doublePrecision("security_status"),
  birthday: tstz("birthday"),
  /** ESI answered 404, or the affiliation put the character in Doomheim: biomassed (deleted). */
  deleted: boolean("deleted").notNull().default(false),
  ...cacheColumns,
  /** When the entity's own route was last read (null: only its name and affiliation are known, in bulk). */
  detailAt: tstz("detail_at"),
});

export const corporations = pgTable("corporations", {
  corporationId: id("corporation_id").primaryKey(),
  name: text("name"),
  ticker: text("ticker"),
  allianceId: id("alliance_id"),
  factionId: id("faction_id"),
  ceoId: id("ceo_id"),
  memberCount: integer("member_count"),
  dateFounded: tstz("date_founded"),
  deleted: boolean("deleted").notNull().default(false),
  ...cacheColumns,
  detailAt: tstz("detail_at"),
});

export const alliances = pgTable("alliances", {
  allianceId: id("alliance_id").primaryKey(),
  name: text("name"),
  ticker: text("ticker"),
  executorCorporationId: id("executor_corporation_id"),
  factionId: id("faction_id"),
  dateFounded: tstz("date_founded"),
  deleted: boolean("deleted").notNull().default(false),
  ...cacheColumns,
  detailAt: tstz("detail_at"),
});

export const categories = pgTable("categories", {
  categoryId: id("category_id").primaryKey(),
  name: text("name").notNull(),
  published: boolean("published").notNull().default(true),
  ...cacheColumns,
});

export const groups = pgTable("groups", {
  groupId: id("group_id").primaryKey(),
  name: text("name").notNull(),
  categoryId: id("category_id").notNull(),
  published: boolean("published").notNull().default(true),
  ...cacheColumns,
});

export const types = pgTable(
  "types",
  {
    typeId: id("type_id").primaryKey(),
    name: text("name").notNull(),
    groupId: id("group_id").notNull(),
    marketGroupId: id("market_group_id"),
    published: boolean("published").notNull().default(true),
    /** Deleted/unknown upstream (ESI 404): kept so kills naming it stay valued as unpriced. */
    deleted: boolean("deleted").notNull().default(false),
    ...cacheColumns,
  },
  (t) => [index("types_group_idx").on(t.groupId)],
);

/** ESI /markets/{region}/history rows (The Forge = 10000002 for valuation). */
export const marketHistory = pgTable(
  "market_history",
  {
    typeId: id("type_id").notNull(),
    regionId: id("region_id").notNull(),
    date: date("date").notNull(),
    average: numeric("average", { precision: 20, scale: 2 }).notNull(),
    highest: numeric("highest", { precision: 20, scale: 2 }).notNull(),
    lowest: numeric("lowest", { precision: 20, scale: 2 }).notNull(),
    volume: bigint("volume", { mode: "number" }).notNull(),
    orderCount: bigint("order_count", { mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.typeId, t.regionId, t.date] })],
);

/**
 * When the Forge history of a type was last fetched, with ESI's ETag and Expires: the price processor
 * asks again only after Expires, conditionally. `market` is false for types ESI has no market for (404).
 */
export const priceFetches = pgTable("price_fetches", {
  typeId: id("type_id").primaryKey(),
  market: boolean("market").notNull().default(true),
  rows: integer("rows").notNull().default(0),
  ...cacheColumns,
});

/** ESI /markets/prices (average/adjusted, no history): a last-resort price. */
export const marketPrices = pgTable("market_prices", {
  typeId: id("type_id").primaryKey(),
  averagePrice: numeric("average_price", { precision: 20, scale: 2 }),
  adjustedPrice: numeric("adjusted_price", { precision: 20, scale: 2 }),
  updatedAt: tstz("updated_at").notNull().defaultNow(),
});

/**
 * The price of one type for the kills of one day, by zKillboard's rule, materialized (one row per type
 * and day, gaps filled) so valuation is a join: `price` for kills at 01:00 or later (window of Forge
 * averages ending that day, capped by the day's own average), `price_early` for kills before 01:00
 * (window ending the day before, capped by the day's average). Custom prices are folded in.
 */
export const typePrices = pgTable(
  "type_prices",
  {
    typeId: id("type_id").notNull(),
    date: date("date").notNull(),
    price: numeric("price", { precision: 20, scale: 2 }).notNull(),
    priceEarly: numeric("price_early", { precision: 20, scale: 2 }).notNull(),
    /** Where the price came from: history | custom | build | gantry | esi-average | build-missing (a build cost was wanted, data missing). */
    source: text("source").notNull(),
  },
  (t) => [primaryKey({ columns: [t.typeId, t.date] })],
);

/** Hand-set prices (rare hulls, capitals) valid over a date window, as zKillboard and EVE-KILL keep. */
export const customPrices = pgTable(
  "custom_prices",
  {
    typeId: id("type_id").notNull(),
    validFrom: date("valid_from").notNull(),
    validTo: date("valid_to"),
    price: numeric("price", { precision: 20, scale: 2 }).notNull(),
    note: text("note"),
  },
  (t) => [primaryKey({ columns: [t.typeId, t.validFrom] })],
);

/**
 * Manufacturing blueprints for zKillboard's build cost (titans, supercarriers, structure modules, types
 * without a market): per product, each material's quantity per run as the SDE gives it and the units a
 * run makes. Loaded from data/blueprints.json (server/prices/blueprints.ts), or by an operator.
 */
export const blueprintMaterials = pgTable(
  "blueprint_materials",
  {
    productTypeId: id("product_type_id").notNull(),
    materialTypeId: id("material_type_id").notNull(),
    quantity: integer("quantity").notNull(),
    productQuantity: integer("product_quantity").notNull(),
  },
  (t) => [primaryKey({ columns: [t.productTypeId, t.materialTypeId] }), index("blueprint_materials_material_idx").on(t.materialTypeId)],
);

/**
 * Intake ledger: every killmail we were told about (feed, HTTP, imports) and have not stored yet.
 * Written before/with the enqueue; the kill's store transaction deletes the row. Reconcile re-enqueues
 * pending rows whose job Redis no longer holds. `body` keeps the ESI body when the source gave one,
 * so a flushed Redis never forces an ESI fetch. status: pending | failed (with error). `job_key` is
 * the work key of the batch job carrying the kill (null: its own job, `killmail-<id>`); a batched
 * kill's body is kept with its batch's, in killmail_intake_batches.
 */
export const killmailIntake = pgTable(
  "killmail_intake",
  {
    killmailId: bigint("killmail_id", { mode: "number" }).primaryKey(),
    hash: text("hash").notNull(),
    source: text("source").notNull(),
    priority: smallint("priority").notNull(),
    /** JSON text, lz4-compressed by Postgres (see drizzle/0002): cheaper to write than jsonb. */
    body: text("body"),
    jobKey: text("job_key"),
    status: text("status").notNull().default("pending"),
    error: text("error"),
    receivedAt: tstz("received_at").notNull().defaultNow(),
  },
  (t) => [
    index("killmail_intake_status_idx").on(t.status, t.killmailId),
    index("killmail_intake_job_key_idx").on(t.jobKey).where(sql`job_key is not null`),
  ],
);

/**
 * The bodies of a batch job's kills, as one JSON array (lz4): one row per batch is far cheaper to write
 * than a body per ledger row. Kept while a ledger row names the batch; read back only by reconcile
 * and by a job that lacks a body.
 */
export const killmailIntakeBatches = pgTable("killmail_intake_batches", {
  jobKey: text("job_key").primaryKey(),
  bodies: text("bodies").notNull(),
  createdAt: tstz("created_at").notNull().defaultNow(),
});

/**
 * Outbox: jobs a stored kill causes (entity refreshes, …), written in the kill's transaction, one row
 * per (queue, job_key) while outstanding. The relay enqueues unrelayed rows and marks them; the job's
 * processor deletes its row when done; reconcile re-enqueues relayed rows whose job Redis lost.
 */
export const outbox = pgTable(
  "outbox",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    queue: text("queue").notNull(),
    jobKey: text("job_key").notNull(),
    payload: jsonb("payload").notNull(),
    priority: smallint("priority").notNull(),
    createdAt: tstz("created_at").notNull().defaultNow(),
    relayedAt: tstz("relayed_at"),
    failedAt: tstz("failed_at"),
    error: text("error"),
  },
  (t) => [
    // One outstanding row per work key; a failed row (kept for the operator) does not block a new one.
    uniqueIndex("outbox_queue_key_idx").on(t.queue, t.jobKey).where(sql`failed_at is null`),
    index("outbox_unrelayed_idx").on(t.id).where(sql`relayed_at is null`),
  ],
);

/**
 * Cursors of long-running readers (the R2Z2 feed, imports): resume points that survive restarts.
 * `fence`: the fencing token of the lease whose holder may move the cursor (server/feeds/cursor.ts): a
 * write bearing a lower one than stored is refused, so a listener that lost its lease cannot move it.
 */
export const cursors = pgTable("cursors", {
  name: text("name").primaryKey(),
  value: jsonb("value").notNull(),
  fence: bigint("fence", { mode: "number" }).notNull().default(0),
  updatedAt: tstz("updated_at").notNull().defaultNow(),
});

/**
 * Row counts of the big kill tables (killmails, killmail_values), kept exact by statement-level triggers
 * (drizzle/0011_row_counts.sql) so /api/status and /metrics never count whole tables: the sum of a
 * table's rows is its count. Sharded by backend (pg_backend_pid() % 64) so concurrent store
 * transactions do not queue on one row.
 */
export const rowCounts = pgTable(
  "row_counts",
  {
    tableName: text("table_name").notNull(),
    shard: smallint("shard").notNull(),
    n: bigint("n", { mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.tableName, t.shard] })],
);

/** Per-alliance daily member and corporation counts. */
export const allianceSnapshots = pgTable(
  "alliance_snapshots",
  {
    allianceId: id("alliance_id").notNull(),
    date: date("date").notNull(),
    memberCount: integer("member_count").notNull(),
    corporationCount: integer("corporation_count").notNull(),
  },
  (t) => [primaryKey({ columns: [t.allianceId, t.date] })],
);

/** Progress of batch runs (value backfills, imports): resumable after a crash. */
export const batchRuns = pgTable("batch_runs", {
  runId: text("run_id").primaryKey(),
  kind: text("kind").notNull(),
  params: jsonb("params").notNull(),
  status: text("status").notNull().default("running"),
  total: bigint("total", { mode: "number" }).notNull().default(0),
  done: bigint("done", { mode: "number" }).notNull().default(0),
  updated: bigint("updated", { mode: "number" }).notNull().default(0),
  skipped: bigint("skipped", { mode: "number" }).notNull().default(0),
  errors: bigint("errors", { mode: "number" }).notNull().default(0),
  startedAt: tstz("started_at").notNull().defaultNow(),
  finishedAt: tstz("finished_at"),
});

/**
 * The id ranges of a batch run (one job each): planned with the number of matching kills, marked done
 * in the same transaction that writes the range's results, so a rerun after a crash skips exactly the
 * ranges already done. status: pending | done | failed (with the last error).
 */
export const batchRanges = pgTable(
  "batch_ranges",
  {
    runId: text("run_id").notNull(),
    fromId: bigint("from_id", { mode: "number" }).notNull(),
    toId: bigint("to_id", { mode: "number" }).notNull(),
    /** Matching kills when the range was planned. */
    kills: integer("kills").notNull(),
    status: text("status").notNull().default("pending"),
    updated: integer("updated").notNull().default(0),
    skipped: integer("skipped").notNull().default(0),
    attempts: integer("attempts").notNull().default(0),
    error: text("error"),
    finishedAt: tstz("finished_at"),
  },
  (t) => [primaryKey({ columns: [t.runId, t.fromId] })],
);

/**
 * Characters logged in through the EVE SSO (server/sso): the refresh token, encrypted (AES-256-GCM,
 * server/sso/crypto.ts; never stored, logged or returned in clear), its owner hash (a changed one means
 * the character moved to another account: the token is dropped) and scopes. token_state: valid |
 * revoked (with the reason: invalid_grant, owner changed, an operator). Access tokens live in Redis only,
 * until they expire.
 */
export const ssoCharacters = pgTable("sso_characters", {
  characterId: bigint("character_id", { mode: "number" }).primaryKey(),
  name: text("name").notNull(),
  ownerHash: text("owner_hash").notNull(),
  scopes: text("scopes").array().notNull(),
  corporationId: integer("corporation_id"),
  refreshToken: text("refresh_token").notNull(),
  tokenState: text("token_state").notNull().default("valid"),
  revokedReason: text("revoked_reason"),
  revokedAt: tstz("revoked_at"),
  refreshedAt: tstz("refreshed_at"),
  accessExpiresAt: tstz("access_expires_at"),
  createdAt: tstz("created_at").notNull().defaultNow(),
  updatedAt: tstz("updated_at").notNull().defaultNow(),
});

/**
 * One sync of recent kills per character (its own token) or corporation (a director's token), polled
 * by a `sync` job. status: active | no-role (403: the character is not a director; not polled again) |
 * forbidden (another 403: scope or character) | stopped (token revoked). `etag`/`expires_at` of the
 * first page make most polls a 304 that costs nothing new.
 */
export const ssoSyncs = pgTable(
  "sso_syncs",
  {
    kind: text("kind").notNull(),
    entityId: bigint("entity_id", { mode: "number" }).notNull(),
    characterId: bigint("character_id", { mode: "number" }).notNull(),
    status: text("status").notNull().default("active"),
    etag: text("etag"),
    expiresAt: tstz("expires_at"),
    lastSyncAt: tstz("last_sync_at"),
    nextSyncAt: tstz("next_sync_at"),
    lastError: text("last_error"),
    /** Kill ids the route listed, and of those the ones handed to the intake as new, over all syncs. */
    killmailsSeen: integer("killmails_seen").notNull().default(0),
    killmailsNew: integer("killmails_new").notNull().default(0),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.entityId] }), index("sso_syncs_character_idx").on(t.characterId)],
);
