-- ensure_kill_partitions takes a transaction-level advisory lock first: processes starting together (several
-- `bun queue`s, a migration) create each partition once instead of failing with "relation already exists".
CREATE OR REPLACE FUNCTION ensure_kill_partitions(max_id bigint) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  step constant bigint := 10000000;
  lo bigint := 0;
  created integer := 0;
  t text;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('ensure_kill_partitions'));
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
