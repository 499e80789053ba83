// copyIn against the real Postgres: rows land exactly as copyLine wrote them, a refused COPY rejects
// with Postgres' SQLSTATE (it does not hang) and rolls its transaction back, and the pool goes on working.
import { beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "../../test/support/database.ts";
import { sql } from "./client.ts";
import { copyIn, copyLine, CopyWriter } from "./copy.ts";

useTestDatabase("copy");

const COLUMNS = ["id", "small", "big", "ratio", "flag"] as const;

beforeAll(async () => {
  await sql()`create table copy_rows (id int4 primary key, small int2, big int8, ratio float8, flag bool)`;
});

async function rows() {
  return sql()<{ id: number; small: number | null; big: string | null; ratio: number | null; flag: boolean | null }[]>`
    select id, small, big::text, ratio, flag from copy_rows order by id`;
}

describe("copyLine", () => {
  it("writes tab-separated text with \\N for null and t/f for booleans", () => {
    expect(copyLine([1, null, true, false, -0.5])).toBe("1\t\\N\tt\tf\t-0.5\n");
  });

  it("refuses a number Postgres could not store", () => {
    expect(() => copyLine([Number.NaN])).toThrow(/non-finite/);
  });
});

describe("CopyWriter", () => {
  const text = (w: CopyWriter) => new TextDecoder().decode(w.bytes());

  it("writes the same lines as copyLine, growing its buffer as it goes", () => {
    const w = new CopyWriter(4);
    w.int(0).int(-7).int(9_007_199_254_740_991).int(null).int(undefined).end();
    w.bool(true).bool(false).bool(null).float(-0.5).float(1.25e-7).float(3).end();
    expect(text(w)).toBe(copyLine([0, -7, 9_007_199_254_740_991, null, null]) + copyLine([true, false, null, -0.5, 1.25e-7, 3]));
  });

  it("writes whole rows: integers, floats, booleans and nulls", () => {
    const w = new CopyWriter();
    w.row([90_000_001, -2, 0.25, 5, true, null, undefined]).row([1]);
    expect(text(w)).toBe(copyLine([90_000_001, -2, 0.25, 5, true, null, null]) + copyLine([1]));
  });

  it("refuses what it cannot write exactly", () => {
    expect(() => new CopyWriter().int(1.5)).toThrow(/integer/);
    expect(() => new CopyWriter().int(2 ** 60)).toThrow(/integer/);
    expect(() => new CopyWriter().float(Number.POSITIVE_INFINITY)).toThrow(/non-finite/);
  });

  it("gives the bytes of a range of rows by their offsets", () => {
    const w = new CopyWriter();
    const ends = [0];
    for (const id of [1, 22, 333]) ends.push(w.int(id).bool(true).end().length);
    expect(new TextDecoder().decode(w.bytes(ends[1], ends[2]))).toBe("22\tt\n");
  });
});

describe("copyIn", () => {
  it("stores the rows inside the caller's transaction", async () => {
    const text = [
      copyLine([1, 2, 9_007_199_254_740_991, -1.25e-7, true]),
      copyLine([2, null, null, null, null]),
      copyLine([3, -32_768, -1, 5, false]),
    ].join("");
    await sql().begin((tx) => copyIn(tx, "copy_rows", COLUMNS, text));
    expect(await rows()).toEqual([
      { id: 1, small: 2, big: "9007199254740991", ratio: -1.25e-7, flag: true },
      { id: 2, small: null, big: null, ratio: null, flag: null },
      { id: 3, small: -32_768, big: "-1", ratio: 5, flag: false },
    ]);
  });

  it("rejects with Postgres' SQLSTATE when a value does not fit, and the transaction writes nothing", async () => {
    const before = await rows();
    const refused = sql().begin(async (tx) => {
      await copyIn(tx, "copy_rows", COLUMNS, copyLine([10, 1, 1, 1, true]));
      await copyIn(tx, "copy_rows", COLUMNS, copyLine([11, 1, 1, 1, true]) + copyLine([12, 40_000, 1, 1, true]));
    });
    await expect(refused).rejects.toMatchObject({ code: "22003" }); // numeric_value_out_of_range
    expect(await rows()).toEqual(before);
  });

  it("rejects a duplicate key with its constraint's SQLSTATE, then the pool works as before", async () => {
    const refused = sql().begin((tx) => copyIn(tx, "copy_rows", COLUMNS, copyLine([20, 1, 1, 1, true]) + copyLine([20, 1, 1, 1, true])));
    await expect(refused).rejects.toMatchObject({ code: "23505" }); // unique_violation
    await sql().begin((tx) => copyIn(tx, "copy_rows", COLUMNS, copyLine([21, 1, 1, 1, true])));
    expect((await rows()).map((r) => r.id)).toEqual([1, 2, 3, 21]);
  });

  it("takes CopyWriter bytes", async () => {
    const w = new CopyWriter();
    w.int(30).int(-1).int(2 ** 40).float(0.1).bool(true).end();
    await sql().begin((tx) => copyIn(tx, "copy_rows", COLUMNS, w.bytes()));
    expect((await rows()).find((r) => r.id === 30)).toEqual({ id: 30, small: -1, big: String(2 ** 40), ratio: 0.1, flag: true });
  });

  it("copies nothing for no rows", async () => {
    const before = await rows();
    await sql().begin((tx) => copyIn(tx, "copy_rows", COLUMNS, ""));
    expect(await rows()).toEqual(before);
  });
});
