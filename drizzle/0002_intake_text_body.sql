ALTER TABLE "killmail_intake" ALTER COLUMN "body" SET DATA TYPE text;--> statement-breakpoint
CREATE INDEX "killmail_values_revalue_idx" ON "killmail_values" USING btree ("killmail_id") WHERE revalue;--> statement-breakpoint
-- Intake bodies are written once and read only by reconcile: lz4 makes them ~3x smaller and cheaper
-- to write than pglz/jsonb. Builds of Postgres without lz4 keep the default compression.
DO $$ BEGIN
  ALTER TABLE "killmail_intake" ALTER COLUMN "body" SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
  RAISE NOTICE 'lz4 is not available: killmail_intake.body keeps the default compression';
END $$;
