CREATE TABLE "batch_ranges" (
	"run_id" text NOT NULL,
	"from_id" bigint NOT NULL,
	"to_id" bigint NOT NULL,
	"kills" integer NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"updated" integer DEFAULT 0 NOT NULL,
	"skipped" integer DEFAULT 0 NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"error" text,
	"finished_at" timestamp with time zone,
	CONSTRAINT "batch_ranges_run_id_from_id_pk" PRIMARY KEY("run_id","from_id")
);
