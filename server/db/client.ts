// Database clients: one postgres.js pool per process (raw SQL for the hot paths) and a drizzle
// instance over it (typed queries elsewhere). Both lazily created from DATABASE_URL.
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

/** The process-wide drizzle database. */
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
