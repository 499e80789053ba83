CREATE TABLE "row_counts" (
	"table_name" text NOT NULL,
	"shard" smallint NOT NULL,
	"n" bigint NOT NULL,
	CONSTRAINT "row_counts_table_name_shard_pk" PRIMARY KEY("table_name","shard")
);
--> statement-breakpoint
-- Hand edit (drizzle-kit has no syntax for triggers): statement-level triggers on the partitioned
-- tables keep row_counts exact for every writer (the store's INSERT … ON CONFLICT DO NOTHING counts
-- only rows inserted; COPY, seeds and deletes too; TRUNCATE of the table resets it).
CREATE OR REPLACE FUNCTION row_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  delta bigint;
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM row_counts WHERE table_name = TG_TABLE_NAME;
    RETURN NULL;
  ELSIF TG_OP = 'INSERT' THEN
    SELECT count(*) INTO delta FROM new_rows;
  ELSE
    SELECT -count(*) INTO delta FROM old_rows;
  END IF;
  IF delta <> 0 THEN
    INSERT INTO row_counts (table_name, shard, n) VALUES (TG_TABLE_NAME, pg_backend_pid() % 64, delta)
    ON CONFLICT (table_name, shard) DO UPDATE SET n = row_counts.n + excluded.n;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER killmails_count_insert AFTER INSERT ON killmails REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION row_counts_track();
--> statement-breakpoint
CREATE TRIGGER killmails_count_delete AFTER DELETE ON killmails REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION row_counts_track();
--> statement-breakpoint
CREATE TRIGGER killmails_count_truncate AFTER TRUNCATE ON killmails
  FOR EACH STATEMENT EXECUTE FUNCTION row_counts_track();
--> statement-breakpoint
CREATE TRIGGER killmail_values_count_insert AFTER INSERT ON killmail_values REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION row_counts_track();
--> statement-breakpoint
CREATE TRIGGER killmail_values_count_delete AFTER DELETE ON killmail_values REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION row_counts_track();
--> statement-breakpoint
CREATE TRIGGER killmail_values_count_truncate AFTER TRUNCATE ON killmail_values
  FOR EACH STATEMENT EXECUTE FUNCTION row_counts_track();
--> statement-breakpoint
-- The rows stored before the triggers, counted once.
INSERT INTO row_counts (table_name, shard, n)
  SELECT 'killmails', 0, count(*) FROM killmails
  UNION ALL SELECT 'killmail_values', 0, count(*) FROM killmail_values
ON CONFLICT (table_name, shard) DO UPDATE SET n = row_counts.n + excluded.n;
