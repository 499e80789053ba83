// pgArray literals arrive in Postgres as the values they were built from: strings with quotes,
// backslashes, commas, braces, spaces, the word NULL or nothing at all; numbers, booleans and nulls.
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../../test/support/database.ts";
import { pgArray } from "./arrays.ts";
import { sql } from "./client.ts";

useTestDatabase("arrays");

describe("pgArray", () => {
  it("round-trips awkward strings and nulls through text[]", async () => {
    const values = ["plain", 'say "hi"', "back\\slash", 'both \\"', "a,b", "{x}", " padded ", "NULL", "", "ünïcödé ✓", null];
    const rows = await sql()<{ v: string | null }[]>`select unnest(${pgArray(values)}::text[]) as v`;
    expect(rows.map((r) => r.v)).toEqual(values);
  });

  it("round-trips numbers, booleans and nulls through their array types", async () => {
    // Read back element by element (unnest), so Postgres' own values are compared, not a client's parse.
    const ints = await sql()<
      { v: string | null }[]
    >`select unnest(${pgArray([1, -2, null, 2_147_483_647, 9_007_199_254_740_991])}::int8[])::text as v`;
    expect(ints.map((r) => r.v)).toEqual(["1", "-2", null, "2147483647", "9007199254740991"]);
    const floats = await sql()<{ v: number | null }[]>`select unnest(${pgArray([0.5, -1.25e-7, 3, null])}::float8[]) as v`;
    expect(floats.map((r) => r.v)).toEqual([0.5, -1.25e-7, 3, null]);
    const bools = await sql()<{ v: boolean | null }[]>`select unnest(${pgArray([true, false, null])}::bool[]) as v`;
    expect(bools.map((r) => r.v)).toEqual([true, false, null]);
  });

  it("refuses a number Postgres could not store", () => {
    expect(() => pgArray([1, Number.NaN])).toThrow(/non-finite/);
    expect(() => pgArray([Number.POSITIVE_INFINITY])).toThrow(/non-finite/);
  });
});
