// COPY … FROM STDIN for the bulk rows of a transaction (a batch's attackers and items): Postgres' own
// bulk-load path, cheaper per row than INSERT … SELECT unnest(arrays) (no array parsing, no executor
// nodes, heap pages filled and WAL-logged many rows at a time). Rows are text-format lines of numbers,
// booleans and nulls (nothing to escape), written by CopyWriter straight into bytes.
//
// postgres.js hands COPY a Writable stream; when Postgres refuses the data after the stream has ended
// (a value out of range, say), the library rejects only the query promise it already resolved with that
// stream, and the stream itself never finishes. copyIn() listens to that rejection as well, so a refused
// COPY rejects with Postgres' error (its SQLSTATE intact) instead of hanging its transaction forever.
import type { TransactionSql } from "postgres";
import { quoteIdent } from "./columns.ts";

const TAB = 9;
const NEWLINE = 10;
const MINUS = 45;
const ZERO = 48;
const NULL = [92, 78]; // \N
const TRUE = 116; // t
const FALSE = 102; // f

/**
 * Text-format COPY rows written straight into a growing byte buffer: integers digit by digit, no
 * intermediate strings to build and join. Each value call starts a field (a tab before all but a row's
 * first); end() closes the row. bytes() is what copyIn takes.
 */
export class CopyWriter {
  private buf: Uint8Array;
  private at = 0;
  private rowStart = true;

  constructor(initialBytes = 64 * 1024) {
    this.buf = new Uint8Array(initialBytes);
  }

  /** Bytes written so far (a row boundary, right after end(): the start or end of a range of rows). */
  get length(): number {
    return this.at;
  }

  /** An integer (a safe integer: ids, counts, quantities), or null when undefined/null. */
  int(value: number | null | undefined): this {
    this.field(21);
    if (value === undefined || value === null) return this.nullValue();
    if ((value | 0) === value && value > -2_147_483_648) {
      // int32 (nearly every id and count): digits by integer arithmetic, the JIT's fast path.
      let n = value | 0; // an int32 to the JIT: integer division and remainder, not fmod
      if (n < 0) {
        this.buf[this.at++] = MINUS;
        n = -n;
      }
      let digits = 1;
      for (let x = n; x >= 10; x = (x / 10) | 0) digits++;
      let i = this.at + digits;
      this.at = i;
      do {
        this.buf[--i] = ZERO + (n % 10);
        n = (n / 10) | 0;
      } while (n > 0);
      return this;
    }
    if (!Number.isSafeInteger(value)) throw new Error(`cannot write ${value} as an integer`);
    return this.ascii(String(value));
  }

  /** A finite float (JavaScript's shortest round-trip form, which float8in reads back exactly). */
  float(value: number): this {
    if (value - value !== 0) throw new Error(`cannot store non-finite number ${value}`);
    const text = String(value);
    this.field(text.length);
    return this.ascii(text);
  }

  bool(value: boolean | null | undefined): this {
    this.field(2);
    if (value === undefined || value === null) return this.nullValue();
    this.buf[this.at++] = value ? TRUE : FALSE;
    return this;
  }

  /**
   * A whole row: integers (safe integers as digits, other numbers as floats), booleans, and null for
   * null/undefined. One call per row keeps callers small for the JIT.
   */
  row(values: readonly (number | boolean | null | undefined)[]): this {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v === "boolean") this.bool(v);
      else if (typeof v === "number" && !Number.isInteger(v)) this.float(v);
      else this.int(v);
    }
    return this.end();
  }

  /** Ends the row. */
  end(): this {
    this.reserve(1);
    this.buf[this.at++] = NEWLINE;
    this.rowStart = true;
    return this;
  }

  /** The rows written, or the rows between byte offsets (row boundaries from `length`). */
  bytes(from = 0, to = this.at): Uint8Array {
    return this.buf.subarray(from, to);
  }

  /** Characters of a number's text (ASCII; room already reserved by field()). */
  private ascii(text: string): this {
    for (let i = 0; i < text.length; i++) this.buf[this.at++] = text.charCodeAt(i);
    return this;
  }

  private nullValue(): this {
    this.buf[this.at++] = NULL[0]!;
    this.buf[this.at++] = NULL[1]!;
    return this;
  }

  /** Room for a separator and `bytes` more, and the separator unless the row just started. */
  private field(bytes: number): void {
    this.reserve(bytes + 2);
    if (this.rowStart) this.rowStart = false;
    else this.buf[this.at++] = TAB;
  }

  private reserve(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.at + bytes));
    grown.set(this.buf.subarray(0, this.at));
    this.buf = grown;
  }
}

/** A pending query as postgres.js builds it: a promise whose settle functions the connection calls. */
interface PendingCopy {
  reject: (err: unknown) => void;
  writable(): Promise<NodeJS.WritableStream>;
}

/** A COPY statement into a table's columns, in the order its rows give their fields. Build it once, at load. */
export interface CopyInto {
  readonly statement: string;
}

export function copyInto(table: string, columns: readonly string[]): CopyInto {
  return { statement: `copy ${quoteIdent(table)} (${columns.map(quoteIdent).join(", ")}) from stdin` };
}

/** Copies rows (CopyWriter bytes) in by `into` inside the transaction; resolves once Postgres has them. */
export async function copyIn(tx: TransactionSql, into: CopyInto, rows: Uint8Array): Promise<void> {
  if (rows.length === 0) return;
  const query = tx.unsafe(into.statement) as unknown as PendingCopy;
  if (typeof query.reject !== "function") throw new Error("postgres.js no longer exposes a query's reject(): copyIn needs a look");
  let refused: ((err: unknown) => void) | undefined;
  let refusal: unknown;
  const reject = query.reject;
  query.reject = (err: unknown) => {
    refusal ??= err;
    refused?.(err);
    reject(err);
  };
  const stream = await query.writable();
  await new Promise<void>((resolve, fail) => {
    if (refusal !== undefined) return fail(refusal);
    refused = fail;
    stream.on("error", fail);
    stream.on("finish", () => resolve());
    stream.end(rows);
  });
}
