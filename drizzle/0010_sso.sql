CREATE TABLE "sso_characters" (
	"character_id" bigint PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"owner_hash" text NOT NULL,
	"scopes" text[] NOT NULL,
	"corporation_id" integer,
	"refresh_token" text NOT NULL,
	"token_state" text DEFAULT 'valid' NOT NULL,
	"revoked_reason" text,
	"revoked_at" timestamp with time zone,
	"refreshed_at" timestamp with time zone,
	"access_expires_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sso_syncs" (
	"kind" text NOT NULL,
	"entity_id" bigint NOT NULL,
	"character_id" bigint NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"etag" text,
	"expires_at" timestamp with time zone,
	"last_sync_at" timestamp with time zone,
	"next_sync_at" timestamp with time zone,
	"last_error" text,
	"killmails_seen" integer DEFAULT 0 NOT NULL,
	"killmails_new" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sso_syncs_kind_entity_id_pk" PRIMARY KEY("kind","entity_id")
);
--> statement-breakpoint
CREATE INDEX "sso_syncs_character_idx" ON "sso_syncs" USING btree ("character_id");