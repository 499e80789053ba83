CREATE TABLE "price_fetches" (
	"type_id" integer PRIMARY KEY NOT NULL,
	"market" boolean DEFAULT true NOT NULL,
	"rows" integer DEFAULT 0 NOT NULL,
	"etag" text,
	"expires_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
