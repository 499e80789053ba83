// What `verify:values` reports: how many kills are valued, not valued, valued at zero, flagged for
// revaluation or with unpriced rows, and a histogram of total values by decade of ISK. Read-only.
import type { Sql } from "postgres";

export interface ValueTotals {
  kills: number;
  valued: number;
  notValued: number;
  zero: number;
  flagged: number;
  unpriced: number;
  /** Sum of total_value over valued kills (ISK, exact decimal string). */
  totalIsk: string;
}

export interface HistogramBucket {
  /** "0", "<1k", "1k–10k", …, "≥1T". */
  label: string;
  /** Inclusive lower bound in ISK (null for the zero bucket). */
  from: number | null;
  kills: number;
}

export interface ValueReport {
  filter: { fromDate?: string; toDate?: string };
  totals: ValueTotals;
  histogram: HistogramBucket[];
}

const UNITS = ["", "k", "M", "B", "T"];
const isk = (exp: number) => `${10 ** (exp % 3)}${UNITS[Math.floor(exp / 3)]}`;

/** Decades of ISK from 10^3 to 10^12: <1k, 1k–10k, …, 100B–1T, ≥1T (plus "0" for zero values). */
export function histogramLabels(): { label: string; from: number | null; exp: number }[] {
  const out: { label: string; from: number | null; exp: number }[] = [
    { label: "0", from: null, exp: -1 },
    { label: "<1k", from: 0.01, exp: 2 },
  ];
  for (let e = 3; e < 12; e++) out.push({ label: `${isk(e)}–${isk(e + 1)}`, from: 10 ** e, exp: e });
  out.push({ label: "≥1T", from: 10 ** 12, exp: 12 });
  return out;
}

export async function valueReport(sql: Sql, filter: { fromDate?: string; toDate?: string } = {}): Promise<ValueReport> {
  const dates = sql`
    ${filter.fromDate ? sql`and k.killmail_time >= ${filter.fromDate}::date::timestamp at time zone 'UTC'` : sql``}
    ${filter.toDate ? sql`and k.killmail_time < (${filter.toDate}::date + 1)::timestamp at time zone 'UTC'` : sql``}`;
  const [totals] = await sql<ValueTotals[]>`
    select count(*)::int8 as kills, count(v.killmail_id)::int8 as valued,
           count(*) filter (where v.killmail_id is null)::int8 as "notValued",
           count(*) filter (where v.total_value = 0)::int8 as zero,
           count(*) filter (where v.revalue)::int8 as flagged,
           count(*) filter (where v.unpriced_count > 0)::int8 as unpriced,
           coalesce(sum(v.total_value), 0)::text as "totalIsk"
    from killmails k left join killmail_values v on v.killmail_id = k.killmail_id
    where true ${dates}`;
  // Decade of each value: -1 for zero, 2 for anything under 1k, 12 for 1T and up.
  const rows = await sql<{ exp: number; kills: number }[]>`
    select case when v.total_value = 0 then -1
                else least(12, greatest(2, floor(log(10, v.total_value))::int)) end as exp,
           count(*)::int8 as kills
    from killmails k join killmail_values v on v.killmail_id = k.killmail_id
    where true ${dates}
    group by 1`;
  const byExp = new Map(rows.map((r) => [r.exp, r.kills]));
  const histogram = histogramLabels().map(({ label, from, exp }) => ({ label, from, kills: byExp.get(exp) ?? 0 }));
  return { filter, totals: totals!, histogram };
}
