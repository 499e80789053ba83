// Database clients, lazily created from DATABASE_URL: one postgres.js pool per process, through which
// every query runs as raw SQL (tagged templates, and statements built once from the drizzle schema's
// column lists: columns.ts). drizzle-orm runs no queries of ours: its instance over the pool (db())
// serves only the migrator (migrate.ts), and schema.ts feeds drizzle-kit, which generates drizzle/.
// Beware: wrapping the pool in drizzle swaps its date/time parsers for pass-through ones (drizzle maps
// those values itself), so in a process that called db(), queries first sent after that through sql()
// return timestamps and dates as strings, not Dates.
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres, { type Sql } from "postgres";
import { config } from "../helpers/config.ts";
import * as schema from "./schema.ts";

export type Db = PostgresJsDatabase<typeof schema>;

let client: Sql | undefined;
let database: Db | undefined;

export interface SqlOptions {
  /** Pool size (default 10). */
  max?: number;
}

export function createSql(url: string = config().databaseUrl, opts: SqlOptions = {}): Sql {
  return postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    // int8 (ids, counts) as numbers: every id ESI issues fits a double exactly. numeric (ISK) stays a string.
    types: {
      int8: { to: 20, from: [20], serialize: (v: number | bigint) => String(v), parse: (v: string) => Number(v) },
    },
    transform: { undefined: null },
    connection: { application_name: "killboard" },
  });
}

/** The process-wide postgres.js client. */
export function sql(): Sql {
  client ??= createSql();
  return client;
}

/** The process-wide drizzle database over sql(): the migrator's (see above for what it does to sql()). */
export function db(): Db {
  database ??= drizzle(sql(), { schema });
  return database;
}

export async function closeDb(): Promise<void> {
  const c = client;
  client = undefined;
  database = undefined;
  await c?.end({ timeout: 5 });
}
