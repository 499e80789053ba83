// `bun run db:migrate`: applies the SQL migrations in drizzle/ to DATABASE_URL (idempotent), then
// makes sure kill partitions exist beyond the newest stored kill.
import { resolve } from "node:path";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import { config, exitOnConfigError, redactUrl } from "../helpers/config.ts";
import { closeDb, db, sql } from "./client.ts";
import { ensureKillPartitions } from "./partitions.ts";

export const MIGRATIONS_DIR = resolve(import.meta.dirname, "../../drizzle");

/** Applies pending migrations to the configured database. */
export async function runMigrations(): Promise<void> {
  await sql()`set client_min_messages = warning`;
  await migrate(db(), { migrationsFolder: MIGRATIONS_DIR });
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
