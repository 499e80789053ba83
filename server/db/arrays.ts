// Postgres array literals for `unnest($1::int8[], …)`-style set-based statements. postgres.js infers
// array parameter types from a per-connection type map that is empty on a connection's first query,
// so hot paths pass arrays as text literals with an explicit cast instead: predictable and fast.

export type ArrayElement = number | string | boolean | null;

const NEEDS_ESCAPE = /["\\]/;

function quoted(value: string): string {
  // Most strings (hashes, keys) hold neither quote nor backslash: no replace passes for them.
  if (!NEEDS_ESCAPE.test(value)) return `"${value}"`;
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** `[1, null, 3]` → `{1,NULL,3}`; strings quoted and escaped. Cast it in SQL: `${pgArray(xs)}::int4[]`. */
export function pgArray(values: readonly ArrayElement[]): string {
  // Hot path (a kill has ~30 rows of ~10 columns): pieces joined natively into one flat string.
  const parts = new Array<string | number>(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (typeof value === "number") {
      if (value - value !== 0) throw new Error(`cannot store non-finite number ${value}`);
      parts[i] = value;
    } else if (value === null) parts[i] = "NULL";
    else if (typeof value === "boolean") parts[i] = value ? "t" : "f";
    else parts[i] = quoted(value);
  }
  return `{${parts.join(",")}}`;
}
