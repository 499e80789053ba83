// zKillboard's price window as one set-based SQL query: for every Forge history row of a type, the
// trimmed average of the (up to) 34 most recent daily averages ending on that row — with 34 values
// the 2 highest and 2 lowest are dropped, otherwise with more than 6 the 2 highest — rounded to the
// cent. Postgres has no sliding "sum of the 2 largest", so each row carries small summaries
// (max, sum of the top 2, min, sum of the bottom 2, sum) that merge exactly: blocks of 2 and 4 rows
// from lag() of the values, 16 from four 4-blocks, and the 34-row window from two 16-blocks and a
// 2-block. Three window passes over rows sorted once, all in int8 cents: no per-row sorting.
//
// Input: a relation `price_history(type_id, date, c)` (c = the day's average in cents, > 0).
// Output columns: type_id, date, c, wc (the trimmed window average in cents, numeric), wc_prev (wc of
// the type's previous history row), c_prev and prev_date (that row's average and date), next_date (the
// type's next history date, null for the last).

/** Sentinels for "no value" in top/bottom summaries: below/above any price in cents, no int8 overflow when two are added. */
const NONE_HIGH = "(-4000000000000000000)::int8";
const NONE_LOW = "4000000000000000000::int8";

/** Summary of a block of values: t1 = max, s2 = sum of the 2 largest, u1 = min, v2 = sum of the 2 smallest, s = sum. */
interface Block {
  t1: string;
  s2: string;
  u1: string;
  v2: string;
  s: string;
}

/** The summary of two disjoint blocks (exact: the top 2 of a union are both in one block or the two maxima). */
function merge(a: Block, b: Block): Block {
  return {
    t1: `greatest(${a.t1}, ${b.t1})`,
    s2: `greatest(${a.s2}, ${b.s2}, ${a.t1} + ${b.t1})`,
    u1: `least(${a.u1}, ${b.u1})`,
    v2: `least(${a.v2}, ${b.v2}, ${a.u1} + ${b.u1})`,
    s: `${a.s} + ${b.s}`,
  };
}

/** The single value k rows back (k = 0: this row); missing before the type's first row. */
function value(k: number): Block {
  if (k === 0) return { t1: "c", s2: NONE_HIGH, u1: "c", v2: NONE_LOW, s: "c" };
  return {
    t1: `lag(c, ${k}, ${NONE_HIGH}) over w`,
    s2: NONE_HIGH,
    u1: `lag(c, ${k}, ${NONE_LOW}) over w`,
    v2: NONE_LOW,
    s: `lag(c, ${k}, 0::int8) over w`,
  };
}

/** A block summarised in the columns `<p>t1, <p>s2, …` of the level below, k rows back. */
function column(p: string, k = 0): Block {
  if (k === 0) return { t1: `${p}t1`, s2: `${p}s2`, u1: `${p}u1`, v2: `${p}v2`, s: `${p}s` };
  return {
    t1: `lag(${p}t1, ${k}, ${NONE_HIGH}) over w`,
    s2: `lag(${p}s2, ${k}, ${NONE_HIGH}) over w`,
    u1: `lag(${p}u1, ${k}, ${NONE_LOW}) over w`,
    v2: `lag(${p}v2, ${k}, ${NONE_LOW}) over w`,
    s: `lag(${p}s, ${k}, 0::int8) over w`,
  };
}

const select = (b: Block, p: string) => `${b.t1} as ${p}t1, ${b.s2} as ${p}s2, ${b.u1} as ${p}u1, ${b.v2} as ${p}v2, ${b.s} as ${p}s`;
const names = (p: string) => ["t1", "s2", "u1", "v2", "s"].map((f) => p + f).join(", ");

const WINDOW = "window w as (partition by type_id order by date)";

const pair = merge(value(0), value(1)); // rows i-1…i
const quad = merge(pair, merge(value(2), value(3))); // rows i-3…i
const sixteen = merge(merge(column("q"), column("q", 4)), merge(column("q", 8), column("q", 12))); // rows i-15…i
const window34 = merge(merge(column("r"), column("r", 16)), column("p", 32)); // rows i-33…i

/** SQL of the window query (a subquery body; see the file header for its input and output). */
export const PRICE_WINDOW_SQL = `
  select type_id, date, c, wc, lag(wc) over w as wc_prev, lag(c) over w as c_prev, lag(date) over w as prev_date,
         lead(date) over w as next_date
  from (
    select type_id, date, c,
           case when n = 34 then round((zs - zs2 - zv2) / 30.0)
                when n > 6 then round((zs - zs2)::numeric / (n - 2))
                else round(zs::numeric / n) end as wc
    from (
      select type_id, date, c, least(rn, 34) as n,
             ${window34.s2} as zs2, ${window34.v2} as zv2, ${window34.s} as zs
      from (
        select type_id, date, c, rn, ${names("p")}, ${select(sixteen, "r")}
        from (
          select type_id, date, c, row_number() over w as rn, ${select(pair, "p")}, ${select(quad, "q")}
          from price_history
          ${WINDOW}
        ) blocks4
        ${WINDOW}
      ) blocks16
      ${WINDOW}
    ) blocks34
  ) averages
  ${WINDOW}`;
