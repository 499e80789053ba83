// UTC calendar days of the history imports: strict YYYY-MM-DD parsing (a real date, not 2026-02-30),
// the compact YYYYMMDD form R2Z2 and EVE Ref key their files and totals by, and inclusive day ranges.

const DAY_MS = 86_400_000;

/** A valid YYYY-MM-DD date as the epoch day number, or undefined. */
function dayNumber(value: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return undefined;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const back = new Date(t).toISOString().slice(0, 10);
  return back === value ? t / DAY_MS : undefined;
}

/** True for a real calendar date written YYYY-MM-DD. */
export function isDay(value: string): boolean {
  return dayNumber(value) !== undefined;
}

/** Throws a TypeError with a clear message unless value is a real date YYYY-MM-DD. */
export function parseDay(value: string): string {
  if (!isDay(value)) throw new TypeError(`'${value}' is not a date: expected YYYY-MM-DD (e.g. 2026-07-26)`);
  return value;
}

/** 2026-07-26 → 20260726. */
export function compactDay(day: string): string {
  return day.replaceAll("-", "");
}

/** 20260726 or 2026-07-26 → 2026-07-26 (undefined for anything else). */
export function normalizeDay(key: string): string | undefined {
  const dashed = /^\d{8}$/.test(key) ? `${key.slice(0, 4)}-${key.slice(4, 6)}-${key.slice(6, 8)}` : key;
  return isDay(dashed) ? dashed : undefined;
}

/** Every day from `from` to `to`, both included, ascending. Throws when to is before from. */
export function dayRange(from: string, to: string): string[] {
  const a = dayNumber(parseDay(from))!;
  const b = dayNumber(parseDay(to))!;
  if (b < a) throw new RangeError(`--to ${to} is before --from ${from}`);
  const out: string[] = [];
  for (let d = a; d <= b; d++) out.push(new Date(d * DAY_MS).toISOString().slice(0, 10));
  return out;
}

/** Totals keyed YYYYMMDD or YYYY-MM-DD → a map keyed YYYY-MM-DD (unparseable keys dropped). */
export function totalsByDay(totals: Record<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, n] of Object.entries(totals)) {
    const day = normalizeDay(key);
    if (day) out.set(day, n);
  }
  return out;
}
