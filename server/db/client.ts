// Database clients, lazily created from DATABASE_URL: one postgres.js pool per process, through which
// every query runs as raw SQL (tagged templates, and statements built once from the drizzle schema's
// column lists: columns.ts). drizzle-orm runs no queries of ours: the migrator (migrate.ts) wraps a
// client of its own, and schema.ts feeds drizzle-kit, which generates drizzle/.
import postgres, { type Sql } from "postgres";
import { config } from "../helpers/config.ts";

let client: Sql | undefined;

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

export async function closeDb(): Promise<void> {
  const c = client;
  client = undefined;
  await c?.end({ timeout: 5 });
}
