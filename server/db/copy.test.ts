// CopyWriter and copyIn against the real Postgres: rows land exactly as written, a refused COPY rejects
// with Postgres' SQLSTATE (it does not hang) and rolls its transaction back, and the pool goes on working.
import { beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "../../test/support/database.ts";
import { sql } from "./client.ts";
import { CopyWriter, copyIn, copyInto } from "./copy.ts";

useTestDatabase("copy");

const INTO = copyInto("copy_rows", ["id", "small", "big", "ratio", "flag"]);
type Row = readonly (number | boolean | null)[];

beforeAll(async () => {
  await sql()`create table copy_rows (id int4 primary key, small int2, big int8, ratio float8, flag bool)`;
});

async function rows() {
  return sql()<{ id: number; small: number | null; big: string | null; ratio: number | null; flag: boolean | null }[]>`
    select id, small, big::text, ratio, flag from copy_rows order by id`;
}

/** COPY bytes of whole rows. */
function bytesOf(...rows: Row[]): Uint8Array {
  const w = new CopyWriter();
  for (const row of rows) w.row(row);
  return w.bytes();
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("CopyWriter", () => {
  it("writes tab-separated text: digits, floats in their shortest exact form, t/f, \\N for null, growing its buffer", () => {
    const w = new CopyWriter(4);
    w.int(0).int(-7).int(9_007_199_254_740_991).int(null).int(undefined).end();
    w.bool(true).bool(false).bool(null).float(-0.5).float(1.25e-7).float(3).end();
    expect(text(w.bytes())).toBe("0\t-7\t9007199254740991\t\\N\t\\N\nt\tf\t\\N\t-0.5\t1.25e-7\t3\n");
  });

  it("writes whole rows: integers, floats, booleans and nulls", () => {
    expect(text(bytesOf([90_000_001, -2, 0.25, 5, true, null], [1]))).toBe("90000001\t-2\t0.25\t5\tt\t\\N\n1\n");
  });

  it("refuses what it cannot write exactly", () => {
    expect(() => new CopyWriter().int(1.5)).toThrow(/integer/);
    expect(() => new CopyWriter().int(2 ** 60)).toThrow(/integer/);
    expect(() => new CopyWriter().float(Number.POSITIVE_INFINITY)).toThrow(/non-finite/);
    expect(() => new CopyWriter().row([Number.NaN])).toThrow(/non-finite/);
  });

  it("gives the bytes of a range of rows by their offsets", () => {
    const w = new CopyWriter();
    const ends = [0];
    for (const id of [1, 22, 333]) ends.push(w.int(id).bool(true).end().length);
    expect(text(w.bytes(ends[1], ends[2]))).toBe("22\tt\n");
  });
});

describe("copyIn", () => {
  it("sends the COPY statement built once by copyInto, identifiers quoted", () => {
    expect(INTO.statement).toBe('copy "copy_rows" ("id", "small", "big", "ratio", "flag") from stdin');
  });

  it("stores the rows inside the caller's transaction", async () => {
    await sql().begin((tx) =>
      copyIn(tx, INTO, bytesOf([1, 2, 9_007_199_254_740_991, -1.25e-7, true], [2, null, null, null, null], [3, -32_768, -1, 5, false])),
    );
    expect(await rows()).toEqual([
      { id: 1, small: 2, big: "9007199254740991", ratio: -1.25e-7, flag: true },
      { id: 2, small: null, big: null, ratio: null, flag: null },
      { id: 3, small: -32_768, big: "-1", ratio: 5, flag: false },
    ]);
  });

  it("rejects with Postgres' SQLSTATE when a value does not fit, and the transaction writes nothing", async () => {
    const before = await rows();
    const refused = sql().begin(async (tx) => {
      await copyIn(tx, INTO, bytesOf([10, 1, 1, 1, true]));
      await copyIn(tx, INTO, bytesOf([11, 1, 1, 1, true], [12, 40_000, 1, 1, true]));
    });
    await expect(refused).rejects.toMatchObject({ code: "22003" }); // numeric_value_out_of_range
    expect(await rows()).toEqual(before);
  });

  it("rejects a duplicate key with its constraint's SQLSTATE, then the pool works as before", async () => {
    const refused = sql().begin((tx) => copyIn(tx, INTO, bytesOf([20, 1, 1, 1, true], [20, 1, 1, 1, true])));
    await expect(refused).rejects.toMatchObject({ code: "23505" }); // unique_violation
    await sql().begin((tx) => copyIn(tx, INTO, bytesOf([21, 1, 2 ** 40, 0.1, true])));
    expect((await rows()).map((r) => r.id)).toEqual([1, 2, 3, 21]);
    expect((await rows()).at(-1)).toEqual({ id: 21, small: 1, big: String(2 ** 40), ratio: 0.1, flag: true });
  });

  it("copies nothing for no rows", async () => {
    const before = await rows();
    await sql().begin((tx) => copyIn(tx, INTO, new CopyWriter().bytes()));
    expect(await rows()).toEqual(before);
  });
});
