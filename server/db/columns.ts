// Column lists derived from the drizzle schema (schema.ts) for the statements that stay raw SQL for
// speed: the store's unnest() insert and COPYs, the values upsert, the reads. A list names a table's
// columns by their schema keys (typed: a typo or a dropped column fails typecheck) and yields the SQL
// names and types, and the SQL text built from them. Callers build that text once, at module load,
// into constant statements: no per-call work, and the same query text each time (Postgres keeps one
// prepared statement for it). columns.test.ts checks every list the code uses against a migrated database.
import { getTableColumns } from "drizzle-orm";
import { getTableConfig, type PgTable } from "drizzle-orm/pg-core";

/** The schema keys of a drizzle table's columns (`killmailId`, not `killmail_id`). */
export type FieldOf<T extends PgTable> = Extract<keyof T["_"]["columns"], string>;

/** A row of the listed columns as the schema types them when read (`$inferSelect`). */
export type RowOf<T extends PgTable, K extends FieldOf<T>> = Pick<T["$inferSelect"], K>;

export interface ColumnList<K extends string> {
  /** The table's SQL name, and quoted for SQL text. */
  readonly table: string;
  readonly tableSql: string;
  /** The listed columns' schema keys, SQL names, SQL types (`bigint`, `numeric(20, 2)`, …) and NOT NULLs, in list order. */
  readonly fields: readonly K[];
  readonly names: readonly string[];
  readonly types: readonly string[];
  readonly notNull: readonly boolean[];
  /** Each field's position in the list: its COPY field, its unnest() argument. */
  readonly at: Readonly<Record<K, number>>;
  /** The quoted SQL name of one listed field. */
  sql(field: K): string;
  /** `"a", "b"`: an insert's or COPY's column list. */
  list(): string;
  /** `k."a", k."b"`: the columns of a table aliased `alias`. */
  qualified(alias: string): string;
  /** `"a" as "fieldA", …`: rows keyed by schema keys; `casts` adds `::type` to the columns it names. */
  selectAs(casts?: Partial<Record<K, string>>): string;
  /** `$1::bigint[], $2::text[], …`: one array parameter per column, in list order, for unnest(). */
  unnestArgs(): string;
}

/** A SQL identifier quoted as postgres.js' sql(name) quotes it. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The quoted SQL name of one column of `table`. */
export function columnSql<T extends PgTable>(table: T, field: FieldOf<T>): string {
  const column = (getTableColumns(table) as Record<string, { name: string }>)[field];
  if (!column) throw new Error(`${getTableConfig(table).name} has no column ${field}`);
  return quoteIdent(column.name);
}

/** The listed columns of `table`, in the order given. */
export function columnList<T extends PgTable, const K extends FieldOf<T>>(table: T, fields: readonly K[]): ColumnList<K> {
  const name = getTableConfig(table).name;
  const all = getTableColumns(table) as Record<string, { name: string; notNull: boolean; getSQLType(): string }>;
  const at = {} as Record<K, number>;
  const names: string[] = [];
  const types: string[] = [];
  const notNull: boolean[] = [];
  fields.forEach((field, i) => {
    const column = all[field];
    if (!column) throw new Error(`${name} has no column ${field}`);
    if (field in at) throw new Error(`${name}.${field} is listed twice`);
    at[field] = i;
    names.push(column.name);
    types.push(column.getSQLType());
    notNull.push(column.notNull);
  });
  const quoted = names.map(quoteIdent);
  return {
    table: name,
    tableSql: quoteIdent(name),
    fields,
    names,
    types,
    notNull,
    at,
    sql: (field) => quoted[at[field]]!,
    list: () => quoted.join(", "),
    qualified: (alias) => quoted.map((q) => `${alias}.${q}`).join(", "),
    selectAs: (casts = {}) =>
      fields.map((field, i) => `${quoted[i]}${casts[field] ? `::${casts[field]}` : ""} as ${quoteIdent(field)}`).join(", "),
    unnestArgs: () => types.map((type, i) => `$${i + 1}::${type}[]`).join(", "),
  };
}
