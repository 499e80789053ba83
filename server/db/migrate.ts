// `bun run db:migrate`: applies the SQL migrations in drizzle/ to DATABASE_URL (idempotent), then
// makes sure kill partitions exist beyond the newest stored kill.
import { resolve } from "node:path";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import { config, exitOnConfigError, redactUrl } from "../helpers/config.ts";
import { closeDb, createSql } from "./client.ts";
import { ensureKillPartitions } from "./partitions.ts";

export const MIGRATIONS_DIR = resolve(import.meta.dirname, "../../drizzle");

/**
 * Applies pending migrations to the configured database. drizzle's migrator gets a client of its own:
 * wrapping a postgres.js client in drizzle swaps its date/time parsers for pass-through ones (drizzle
 * maps those values itself), which would turn the shared pool's timestamps into strings.
 */
export async function runMigrations(): Promise<void> {
  // No statement timeout: a migration may build an index over every stored kill.
  const own = createSql(config().databaseUrl, { max: 1, statementTimeoutSeconds: 0 });
  try {
    await own`set client_min_messages = warning`;
    await migrate(drizzle(own), { migrationsFolder: MIGRATIONS_DIR });
  } finally {
    await own.end({ timeout: 5 });
  }
  await ensureKillPartitions();
}

if (import.meta.main) {
  try {
    config();
  } catch (err) {
    exitOnConfigError(err);
  }
  try {
    await runMigrations();
    process.stdout.write(`migrations applied to ${redactUrl(config().databaseUrl)}\n`);
  } catch (err) {
    process.stderr.write(`migration failed on ${redactUrl(config().databaseUrl)}: ${(err as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    await closeDb();
  }
}
