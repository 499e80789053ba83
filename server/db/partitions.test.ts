// Kill partitions under concurrency, against the real Postgres: processes that start together create
// each missing partition once, none of them failing with "relation already exists".
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../../test/support/database.ts";

const database = useTestDatabase("partitions");

describe("ensure_kill_partitions", () => {
  it("creates each partition once when three connections ask at once", async () => {
    // Three separate connections, as three starting processes would use.
    const clients = Array.from({ length: 3 }, () => postgres(database.url, { max: 1, onnotice: () => {} }));
    try {
      const results = await Promise.all(
        clients.map((c) => c<{ created: number }[]>`select ensure_kill_partitions(${449_999_999}) as created`),
      );
      const created = results.map((r) => r[0]!.created);
      // 200M → 450M: 25 new ranges of 10M ids, for each of the four kill tables.
      expect(created.reduce((a, b) => a + b, 0)).toBe(25 * 4);
      const [row] = await clients[0]!<{ n: number }[]>`
        select count(*)::int as n from pg_class where relname ~ '^(killmails|attackers|items|killmail_values)_p(2[0-9]|3[0-9]|4[0-4])$'`;
      expect(row!.n).toBe(25 * 4);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });
});
