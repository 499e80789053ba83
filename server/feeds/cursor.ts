// Named resume points of long-running readers (the R2Z2 listener, imports) in Postgres: they survive
// restarts, crashes and Redis flushes.
import { sql } from "../db/client.ts";

export async function readCursor<T>(name: string): Promise<T | undefined> {
  const [row] = await sql()<{ value: T }[]>`select value from cursors where name = ${name}`;
  return row?.value;
}

export async function writeCursor(name: string, value: unknown): Promise<void> {
  await sql()`insert into cursors (name, value, updated_at) values (${name}, ${sql().json(value as never)}, now())
              on conflict (name) do update set value = excluded.value, updated_at = now()`;
}
