// Runs once before all test files: checks Redis and Postgres are reachable (one clear message instead
// of a hundred timeouts) and builds the migrated template database the test databases are cloned from.
import { Redis } from "ioredis";
import postgres from "postgres";
import { closeDb } from "../../server/db/client.ts";
import { runMigrations } from "../../server/db/migrate.ts";
import { setConfig } from "../../server/helpers/config.ts";
import { templateName, urlFor } from "./database.ts";

export default async function setup(): Promise<void> {
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000, retryStrategy: () => null });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    throw new Error(`tests need Redis at ${redisUrl}: ${(err as Error).message}`);
  } finally {
    client.disconnect();
  }

  const admin = postgres(databaseUrl, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await admin`select 1`;
  } catch (err) {
    throw new Error(`tests need PostgreSQL at ${databaseUrl}: ${(err as Error).message}`);
  }
  try {
    const template = templateName();
    const [exists] = await admin`select 1 from pg_database where datname = ${template}`;
    if (!exists) {
      // Templates of earlier migration sets are dropped, but the few newest are kept: another checkout
      // (a branch with other migrations) may be running its tests from one right now.
      const old = await admin<{ datname: string }[]>`
        select datname from pg_database where datname like 'kb_template_%' and datname not like '%_building'
        order by oid desc offset 4`;
      for (const row of old) await admin.unsafe(`drop database if exists "${row.datname}" with (force)`);
      const building = `${template}_building`;
      await admin.unsafe(`drop database if exists "${building}" with (force)`);
      await admin.unsafe(`create database "${building}"`);
      setConfig({ databaseUrl: urlFor(building), logLevel: "silent" });
      await runMigrations();
      await closeDb();
      await admin.unsafe(`alter database "${building}" rename to "${template}"`);
    }
  } finally {
    await admin.end();
  }
}
