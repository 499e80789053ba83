ALTER TABLE "alliances" ADD COLUMN "detail_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "characters" ADD COLUMN "detail_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "corporations" ADD COLUMN "detail_at" timestamp with time zone;--> statement-breakpoint
-- Rows stored before names were resolved in bulk came from the entities' own routes: their detail is known.
UPDATE "alliances" SET "detail_at" = "updated_at" WHERE NOT "deleted" AND "name" IS NOT NULL;--> statement-breakpoint
UPDATE "characters" SET "detail_at" = "updated_at" WHERE NOT "deleted" AND "name" IS NOT NULL;--> statement-breakpoint
UPDATE "corporations" SET "detail_at" = "updated_at" WHERE NOT "deleted" AND "name" IS NOT NULL;
