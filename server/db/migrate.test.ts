// The migrator against a real (already migrated) database: running it again changes nothing, and it
// leaves the process's shared pool as it was (timestamps still come back as Dates).
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../../test/support/database.ts";
import { sql } from "./client.ts";
import { runMigrations } from "./migrate.ts";

useTestDatabase("migrate");

describe("runMigrations", () => {
  it("is idempotent and does not change how the shared pool parses dates", async () => {
    const before = await sql()<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`;
    await runMigrations();
    const after = await sql()<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`;
    expect(after[0]!.n).toBe(before[0]!.n);
    const [row] = await sql()<{ at: unknown; day: unknown }[]>`select now() as at, current_date as day`;
    expect(row!.at).toBeInstanceOf(Date);
    expect(row!.day).toBeInstanceOf(Date);
  });
});
