// Per-test-file databases: each file gets its own database cloned from a migrated template (built once
// per migration set by global-setup.ts), so files run in parallel and leave nothing behind.
import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll } from "vitest";
import { closeDb } from "../../server/db/client.ts";
import { setConfig } from "../../server/helpers/config.ts";

const ADMIN_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const MIGRATIONS = resolve(import.meta.dirname, "../../drizzle");

/** Name of the template database for the current migration files. */
export function templateName(): string {
  const hash = createHash("sha1");
  for (const file of readdirSync(MIGRATIONS)
    .filter((f) => f.endsWith(".sql"))
    .sort()) {
    hash.update(file).update(readFileSync(resolve(MIGRATIONS, file)));
  }
  return `kb_template_${hash.digest("hex").slice(0, 12)}`;
}

export function urlFor(database: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${database}`;
  return u.toString();
}

export interface TestDatabase {
  name: string;
  url: string;
  /** Environment for child processes pointing at this database. */
  env: Record<string, string>;
}

/** Creates this test file's database before its tests and drops it after. */
export function useTestDatabase(label: string): TestDatabase {
  const name = `kb_t_${label.replace(/\W/g, "_")}_${randomBytes(4).toString("hex")}`;
  const url = urlFor(name);
  beforeAll(async () => {
    const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`create database "${name}" template "${templateName()}"`);
    } finally {
      await admin.end();
    }
    setConfig({ databaseUrl: url });
  });
  afterAll(async () => {
    await closeDb();
    const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
    } finally {
      await admin.end();
    }
  });
  return { name, url, env: { DATABASE_URL: url } };
}
