CREATE TABLE "alliance_snapshots" (
	"alliance_id" integer NOT NULL,
	"date" date NOT NULL,
	"member_count" integer NOT NULL,
	"corporation_count" integer NOT NULL,
	CONSTRAINT "alliance_snapshots_alliance_id_date_pk" PRIMARY KEY("alliance_id","date")
);
--> statement-breakpoint
CREATE TABLE "alliances" (
	"alliance_id" integer PRIMARY KEY NOT NULL,
	"name" text,
	"ticker" text,
	"executor_corporation_id" integer,
	"faction_id" integer,
	"date_founded" timestamp with time zone,
	"deleted" boolean DEFAULT false NOT NULL,
	"etag" text,
	"expires_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "attackers" (
	"killmail_id" bigint NOT NULL,
	"attacker_index" smallint NOT NULL,
	"character_id" integer,
	"corporation_id" integer,
	"alliance_id" integer,
	"faction_id" integer,
	"ship_type_id" integer,
	"weapon_type_id" integer,
	"damage_done" integer NOT NULL,
	"final_blow" boolean NOT NULL,
	"security_status" double precision NOT NULL,
	CONSTRAINT "attackers_killmail_id_attacker_index_pk" PRIMARY KEY("killmail_id","attacker_index")
) PARTITION BY RANGE ("killmail_id");
--> statement-breakpoint
CREATE TABLE "batch_runs" (
	"run_id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"params" jsonb NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"total" bigint DEFAULT 0 NOT NULL,
	"done" bigint DEFAULT 0 NOT NULL,
	"updated" bigint DEFAULT 0 NOT NULL,
	"skipped" bigint DEFAULT 0 NOT NULL,
	"errors" bigint DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "categories" (
	"category_id" integer PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"published" boolean DEFAULT true NOT NULL,
	"etag" text,
	"expires_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "characters" (
	"character_id" integer PRIMARY KEY NOT NULL,
	"name" text,
	"corporation_id" integer,
	"alliance_id" integer,
	"faction_id" integer,
	"security_status" double precision,
	"birthday" timestamp with time zone,
	"deleted" boolean DEFAULT false NOT NULL,
	"etag" text,
	"expires_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "corporations" (
	"corporation_id" integer PRIMARY KEY NOT NULL,
	"name" text,
	"ticker" text,
	"alliance_id" integer,
	"faction_id" integer,
	"ceo_id" integer,
	"member_count" integer,
	"date_founded" timestamp with time zone,
	"deleted" boolean DEFAULT false NOT NULL,
	"etag" text,
	"expires_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cursors" (
	"name" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "custom_prices" (
	"type_id" integer NOT NULL,
	"valid_from" date NOT NULL,
	"valid_to" date,
	"price" numeric(20, 2) NOT NULL,
	"note" text,
	CONSTRAINT "custom_prices_type_id_valid_from_pk" PRIMARY KEY("type_id","valid_from")
);
--> statement-breakpoint
CREATE TABLE "groups" (
	"group_id" integer PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"category_id" integer NOT NULL,
	"published" boolean DEFAULT true NOT NULL,
	"etag" text,
	"expires_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "items" (
	"killmail_id" bigint NOT NULL,
	"item_index" integer NOT NULL,
	"parent_index" integer,
	"flag" smallint NOT NULL,
	"item_type_id" integer NOT NULL,
	"singleton" smallint NOT NULL,
	"quantity_dropped" bigint,
	"quantity_destroyed" bigint,
	"container_dropped" boolean,
	CONSTRAINT "items_killmail_id_item_index_pk" PRIMARY KEY("killmail_id","item_index")
) PARTITION BY RANGE ("killmail_id");
--> statement-breakpoint
CREATE TABLE "killmail_intake" (
	"killmail_id" bigint PRIMARY KEY NOT NULL,
	"hash" text NOT NULL,
	"source" text NOT NULL,
	"priority" smallint NOT NULL,
	"body" jsonb,
	"status" text DEFAULT 'pending' NOT NULL,
	"error" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "killmail_values" (
	"killmail_id" bigint PRIMARY KEY NOT NULL,
	"total_value" numeric(20, 2) NOT NULL,
	"destroyed_value" numeric(20, 2) NOT NULL,
	"dropped_value" numeric(20, 2) NOT NULL,
	"fitted_value" numeric(20, 2) NOT NULL,
	"unpriced_count" integer NOT NULL,
	"is_solo" boolean NOT NULL,
	"is_awox" boolean NOT NULL,
	"prices_as_of" date,
	"valued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revalue" boolean DEFAULT false NOT NULL
) PARTITION BY RANGE ("killmail_id");
--> statement-breakpoint
CREATE TABLE "killmails" (
	"killmail_id" bigint PRIMARY KEY NOT NULL,
	"hash" text NOT NULL,
	"killmail_time" timestamp with time zone NOT NULL,
	"solar_system_id" integer NOT NULL,
	"moon_id" integer,
	"war_id" bigint,
	"victim_character_id" integer,
	"victim_corporation_id" integer,
	"victim_alliance_id" integer,
	"victim_faction_id" integer,
	"victim_ship_type_id" integer NOT NULL,
	"victim_damage_taken" integer NOT NULL,
	"position_x" double precision,
	"position_y" double precision,
	"position_z" double precision,
	"attacker_count" integer NOT NULL,
	"final_blow_character_id" integer,
	"final_blow_corporation_id" integer,
	"is_npc" boolean NOT NULL,
	"stored_at" timestamp with time zone DEFAULT now() NOT NULL
) PARTITION BY RANGE ("killmail_id");
--> statement-breakpoint
CREATE TABLE "market_history" (
	"type_id" integer NOT NULL,
	"region_id" integer NOT NULL,
	"date" date NOT NULL,
	"average" numeric(20, 2) NOT NULL,
	"highest" numeric(20, 2) NOT NULL,
	"lowest" numeric(20, 2) NOT NULL,
	"volume" bigint NOT NULL,
	"order_count" bigint NOT NULL,
	CONSTRAINT "market_history_type_id_region_id_date_pk" PRIMARY KEY("type_id","region_id","date")
);
--> statement-breakpoint
CREATE TABLE "market_prices" (
	"type_id" integer PRIMARY KEY NOT NULL,
	"average_price" numeric(20, 2),
	"adjusted_price" numeric(20, 2),
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"queue" text NOT NULL,
	"job_key" text NOT NULL,
	"payload" jsonb NOT NULL,
	"priority" smallint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"relayed_at" timestamp with time zone,
	"failed_at" timestamp with time zone,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "type_prices" (
	"type_id" integer NOT NULL,
	"date" date NOT NULL,
	"price" numeric(20, 2) NOT NULL,
	"price_early" numeric(20, 2) NOT NULL,
	"source" text NOT NULL,
	CONSTRAINT "type_prices_type_id_date_pk" PRIMARY KEY("type_id","date")
);
--> statement-breakpoint
CREATE TABLE "types" (
	"type_id" integer PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"group_id" integer NOT NULL,
	"market_group_id" integer,
	"published" boolean DEFAULT true NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"etag" text,
	"expires_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "attackers_character_idx" ON "attackers" USING btree ("character_id","killmail_id") WHERE character_id is not null;--> statement-breakpoint
CREATE INDEX "attackers_corporation_idx" ON "attackers" USING btree ("corporation_id","killmail_id") WHERE corporation_id is not null;--> statement-breakpoint
CREATE INDEX "attackers_alliance_idx" ON "attackers" USING btree ("alliance_id","killmail_id") WHERE alliance_id is not null;--> statement-breakpoint
CREATE INDEX "attackers_ship_idx" ON "attackers" USING btree ("ship_type_id","killmail_id") WHERE ship_type_id is not null;--> statement-breakpoint
CREATE INDEX "killmail_intake_status_idx" ON "killmail_intake" USING btree ("status","killmail_id");--> statement-breakpoint
CREATE INDEX "killmails_time_idx" ON "killmails" USING btree ("killmail_time");--> statement-breakpoint
CREATE INDEX "killmails_victim_character_idx" ON "killmails" USING btree ("victim_character_id","killmail_id") WHERE victim_character_id is not null;--> statement-breakpoint
CREATE INDEX "killmails_victim_corporation_idx" ON "killmails" USING btree ("victim_corporation_id","killmail_id");--> statement-breakpoint
CREATE INDEX "killmails_victim_alliance_idx" ON "killmails" USING btree ("victim_alliance_id","killmail_id") WHERE victim_alliance_id is not null;--> statement-breakpoint
CREATE INDEX "killmails_victim_ship_idx" ON "killmails" USING btree ("victim_ship_type_id","killmail_id");--> statement-breakpoint
CREATE INDEX "killmails_system_idx" ON "killmails" USING btree ("solar_system_id","killmail_id");--> statement-breakpoint
CREATE UNIQUE INDEX "outbox_queue_key_idx" ON "outbox" USING btree ("queue","job_key");--> statement-breakpoint
CREATE INDEX "outbox_unrelayed_idx" ON "outbox" USING btree ("id") WHERE relayed_at is null;--> statement-breakpoint
CREATE INDEX "types_group_idx" ON "types" USING btree ("group_id");