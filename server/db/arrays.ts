// Postgres array literals for `unnest($1::int8[], …)`-style set-based statements. postgres.js infers
// array parameter types from a per-connection type map that is empty on a connection's first query,
// so hot paths pass arrays as text literals with an explicit cast instead: predictable and fast.

export type ArrayElement = number | string | boolean | null;

function element(value: ArrayElement): string {
  if (value === null) return "NULL";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`cannot store non-finite number ${value}`);
    return String(value);
  }
  if (typeof value === "boolean") return value ? "t" : "f";
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** `[1, null, 3]` → `{1,NULL,3}`; strings quoted and escaped. Cast it in SQL: `${pgArray(xs)}::int4[]`. */
export function pgArray(values: readonly ArrayElement[]): string {
  let out = "{";
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ",";
    out += element(values[i]!);
  }
  return out + "}";
}
