CREATE TABLE "killmail_intake_batches" (
	"job_key" text PRIMARY KEY NOT NULL,
	"bodies" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "killmail_intake" ADD COLUMN "job_key" text;--> statement-breakpoint
CREATE INDEX "killmail_intake_job_key_idx" ON "killmail_intake" USING btree ("job_key") WHERE job_key is not null;--> statement-breakpoint
-- Batch bodies are written once and read only by reconcile or a job that lacks a body: lz4 (as for
-- killmail_intake.body in 0002). Builds of Postgres without lz4 keep the default compression.
DO $$ BEGIN
  ALTER TABLE "killmail_intake_batches" ALTER COLUMN "bodies" SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
  RAISE NOTICE 'lz4 is not available: killmail_intake_batches.bodies keeps the default compression';
END $$;
