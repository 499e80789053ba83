// Named resume points of long-running readers (the R2Z2 listener, imports) in Postgres: they survive
// restarts, crashes and Redis flushes. A reader that runs under a fenced lease (the R2Z2 listener) writes
// with its fencing token: the write is a compare-and-set that refuses a token lower than the one stored,
// so a listener that lost its lease without knowing (paused, then resumed) can never move the cursor.
import { sql } from "../db/client.ts";

/** A cursor write refused: a holder with a higher fencing token has claimed the cursor. */
export class FencedOutError extends Error {
  constructor(
    readonly cursor: string,
    readonly fence: number,
  ) {
    super(`cursor ${cursor}: fencing token ${fence} refused (another process holds a newer lease)`);
    this.name = "FencedOutError";
  }
}

export async function readCursor<T>(name: string): Promise<T | undefined> {
  const [row] = await sql()<{ value: T }[]>`select value from cursors where name = ${name}`;
  return row?.value;
}

/** The highest fencing token the cursor has seen (0 without a cursor or a fenced writer). */
export async function readCursorFence(name: string): Promise<number> {
  const [row] = await sql()<{ fence: string }[]>`select fence from cursors where name = ${name}`;
  return Number(row?.fence ?? 0);
}

/**
 * Claims the cursor for a new lease holder before it reads it: from now on writes with a lower token are
 * refused. Throws FencedOutError when a higher token holds it already.
 */
export async function claimCursor(name: string, fence: number): Promise<void> {
  const [row] = await sql()<{ fence: string }[]>`
    with claimed as (update cursors set fence = ${fence} where name = ${name} and fence <= ${fence} returning fence)
    select fence from claimed union all select fence from cursors where name = ${name} and not exists (select 1 from claimed)`;
  if (row && Number(row.fence) !== fence) throw new FencedOutError(name, fence);
}

/** Saves the cursor; with `fence`, only if no higher fencing token has claimed it (else FencedOutError). */
export async function writeCursor(name: string, value: unknown, fence?: number): Promise<void> {
  const json = sql().json(value as never);
  if (fence === undefined) {
    await sql()`insert into cursors (name, value, updated_at) values (${name}, ${json}, now())
                on conflict (name) do update set value = excluded.value, updated_at = now()`;
    return;
  }
  const rows = await sql()`
    insert into cursors (name, value, fence, updated_at) values (${name}, ${json}, ${fence}, now())
    on conflict (name) do update set value = excluded.value, fence = excluded.fence, updated_at = now()
      where cursors.fence <= excluded.fence
    returning 1`;
  if (rows.length === 0) throw new FencedOutError(name, fence);
}
