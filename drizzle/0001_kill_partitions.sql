-- Range partitions of the four kill tables (killmails, attackers, items, killmail_values) by killmail_id, 10,000,000 ids each. Ids grow with time
-- (2003: ~1, 2026: ~134M), so a partition holds a period of history and a lookup by id touches one.
-- ensure_kill_partitions(max_id) creates every missing partition up to max_id; migrations call it up to
-- 200M and `bun queue`/imports call it again whenever kills approach the last one. A default partition
-- catches anything beyond, so an insert never fails for want of a partition.
CREATE OR REPLACE FUNCTION ensure_kill_partitions(max_id bigint) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  step constant bigint := 10000000;
  lo bigint := 0;
  created integer := 0;
  t text;
BEGIN
  WHILE lo <= max_id LOOP
    FOREACH t IN ARRAY ARRAY['killmails', 'attackers', 'items', 'killmail_values'] LOOP
      IF to_regclass(format('%s_p%s', t, lo / step)) IS NULL THEN
        EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%s) TO (%s)',
                       format('%s_p%s', t, lo / step), t, lo, lo + step);
        created := created + 1;
      END IF;
    END LOOP;
    lo := lo + step;
  END LOOP;
  RETURN created;
END $$;
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "killmails_default" PARTITION OF "killmails" DEFAULT;
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "attackers_default" PARTITION OF "attackers" DEFAULT;
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "items_default" PARTITION OF "items" DEFAULT;
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "killmail_values_default" PARTITION OF "killmail_values" DEFAULT;
--> statement-breakpoint
SELECT ensure_kill_partitions(199999999);
