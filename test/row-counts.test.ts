// Kills stored and valued are counted by triggers (row_counts), not by scanning the kill tables: the
// counts /api/status and /metrics report stay equal to count(*) through inserts (some skipped by ON
// CONFLICT), concurrent writers, deletes and TRUNCATE.
import { describe, expect, it } from "vitest";
import { seedKills } from "../bench/backfill-seed.ts";
import { createSql, sql } from "../server/db/client.ts";
import { pipelineCounts } from "../server/routes/status.ts";
import { useTestDatabase } from "./support/database.ts";

useTestDatabase("rowcounts");

async function truth(): Promise<{ killmails: number; valued: number }> {
  const [row] = await sql()<{ killmails: number; valued: number }[]>`
    select (select count(*) from killmails)::int as killmails, (select count(*) from killmail_values)::int as valued`;
  return row!;
}

/** Values rows for the first `n` kills by id. */
const valueRows = (n: number) => sql()`
  insert into killmail_values (killmail_id, total_value, destroyed_value, dropped_value, fitted_value, unpriced_count, is_solo, is_awox)
  select killmail_id, 0, 0, 0, 0, 0, false, false from killmails order by killmail_id limit ${n}
  on conflict do nothing`;

describe("row_counts", () => {
  it("follows inserts, skipped duplicates, parallel writers, deletes and truncate", async () => {
    expect((await seedKills(sql(), { kills: 300, firstId: 100_000_000 })).kills).toBe(300);
    await valueRows(200);
    let counts = await pipelineCounts();
    expect({ killmails: counts.killmails, valued: counts.valued }).toEqual(await truth());
    expect(counts.killmails).toBe(300);
    expect(counts.valued).toBe(200);

    // Rows already there are skipped by ON CONFLICT and not counted again; two connections write at once.
    const other = createSql(undefined, { max: 1 });
    try {
      await Promise.all([
        valueRows(300),
        other`
        insert into killmail_values (killmail_id, total_value, destroyed_value, dropped_value, fitted_value, unpriced_count, is_solo, is_awox)
        select killmail_id, 0, 0, 0, 0, 0, false, false from killmails on conflict do nothing`,
      ]);
    } finally {
      await other.end();
    }
    await sql()`delete from killmails where killmail_id in (select killmail_id from killmails order by killmail_id limit 50)`;
    counts = await pipelineCounts();
    expect({ killmails: counts.killmails, valued: counts.valued }).toEqual({ killmails: 250, valued: 300 });
    expect(await truth()).toEqual({ killmails: 250, valued: 300 });

    await sql()`truncate killmail_values`;
    counts = await pipelineCounts();
    expect({ killmails: counts.killmails, valued: counts.valued }).toEqual({ killmails: 250, valued: 0 });
  });
});
