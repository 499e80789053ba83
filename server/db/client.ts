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
  /** Statement timeout in seconds (default DATABASE_STATEMENT_TIMEOUT_SECONDS; 0: none). */
  statementTimeoutSeconds?: number;
}

export function createSql(url: string = config().databaseUrl, opts: SqlOptions = {}): Sql {
  const cfg = config();
  const statementTimeout = opts.statementTimeoutSeconds ?? cfg.databaseStatementTimeoutSeconds;
  return postgres(url, {
    max: opts.max ?? 10,
    // A connect or a statement that never ends (a dead server, a network that drops packets) fails
    // instead of holding its caller forever: the job retries, the watchdog looks at the pool.
    connect_timeout: cfg.databaseConnectTimeoutSeconds,
    onnotice: () => {},
    // int8 (ids, counts) as numbers: every id ESI issues fits a double exactly. numeric (ISK) stays a string.
    types: {
      int8: { to: 20, from: [20], serialize: (v: number | bigint) => String(v), parse: (v: string) => Number(v) },
    },
    transform: { undefined: null },
    connection: { application_name: "killboard", statement_timeout: statementTimeout * 1000 },
  });
}

/** The process-wide postgres.js client. */
export function sql(): Sql {
  client ??= createSql();
  return client;
}

/**
 * Drops the process-wide pool without waiting for it (its connections are broken) so the next sql()
 * opens a new one; queries still in the old pool fail, and their jobs retry.
 */
export function resetSql(): void {
  const old = client;
  client = undefined;
  void old?.end({ timeout: 0 }).catch(() => {});
}

export async function closeDb(): Promise<void> {
  const c = client;
  client = undefined;
  await c?.end({ timeout: 5 });
}
