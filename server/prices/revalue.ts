// Flags stored kills for revaluation when the prices of their day changed: set-based, one statement
// over inclusive day ranges of killmail_time (UTC). valueRange(mode 'flagged') then revalues them.
import type { Sql, TransactionSql } from "postgres";
import { pgArray } from "../db/arrays.ts";

/** Inclusive range of UTC days, YYYY-MM-DD. */
export interface DateRange {
  fromDate: string;
  toDate: string;
}

/** Sets killmail_values.revalue on every valued kill whose killmail_time falls in a range; returns how many changed. */
export async function markRevalue(db: Sql | TransactionSql, ranges: DateRange[]): Promise<number> {
  if (ranges.length === 0) return 0;
  const result = await db`
    update killmail_values v set revalue = true
    from killmails k
    join unnest(${pgArray(ranges.map((r) => r.fromDate))}::date[], ${pgArray(ranges.map((r) => r.toDate))}::date[])
      as r(from_date, to_date)
      on k.killmail_time >= r.from_date::timestamp at time zone 'UTC'
     and k.killmail_time < (r.to_date + 1)::timestamp at time zone 'UTC'
    where v.killmail_id = k.killmail_id and not v.revalue`;
  return result.count;
}
