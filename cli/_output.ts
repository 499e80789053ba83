// Output of CLI commands on stdout: aligned text tables for people, JSON for scripts (`--json`), and
// small formatters (times, durations). Logs and progress go to stderr, so stdout stays parseable.

export type Cell = string | number | boolean | null | undefined;

export interface TableOptions {
  /** Columns aligned right (numbers); by default every column whose cells are all numbers. */
  alignRight?: readonly string[];
  /** Rows drawn under a rule at the bottom (totals). */
  footer?: readonly Record<string, Cell>[];
}

function text(cell: Cell): string {
  if (cell === null || cell === undefined) return "-";
  if (typeof cell === "boolean") return cell ? "yes" : "no";
  return String(cell).replace(/\s*\n\s*/g, " ");
}

/**
 * An aligned table: a header row, the rows, and optional footer rows under a rule. At a terminal the
 * last column (reasons, messages) is cut to the terminal's width with an ellipsis.
 */
export function table(columns: readonly string[], rows: readonly Record<string, Cell>[], opts: TableOptions = {}): string {
  const all = [...rows, ...(opts.footer ?? [])];
  const right = new Set(
    opts.alignRight ?? columns.filter((c) => all.length > 0 && all.every((r) => typeof r[c] === "number" || r[c] == null)),
  );
  const widths = columns.map((c) => Math.max(c.length, ...all.map((r) => text(r[c]).length)));
  const terminal = process.stdout.isTTY ? process.stdout.columns : undefined;
  const last = widths.length - 1;
  const before = widths.slice(0, last).reduce((n, w) => n + w + 2, 0);
  if (terminal && last >= 0 && before + widths[last]! > terminal && terminal - before >= 10) {
    const room = terminal - before;
    widths[last] = room;
    const cut = (r: Record<string, Cell>) => {
      const t = text(r[columns[last]!]);
      return t.length > room ? { ...r, [columns[last]!]: `${t.slice(0, room - 1)}…` } : r;
    };
    rows = rows.map(cut);
  }
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (right.has(columns[i]!) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  const out = [line([...columns]), ...rows.map((r) => line(columns.map((c) => text(r[c]))))];
  if (opts.footer?.length) {
    out.push(widths.map((w) => "-".repeat(w)).join("  "));
    for (const r of opts.footer) out.push(line(columns.map((c) => text(r[c]))));
  }
  return `${out.join("\n")}\n`;
}

/** Writes text to stdout. */
export function print(textOut: string): void {
  process.stdout.write(textOut.endsWith("\n") ? textOut : `${textOut}\n`);
}

/** Writes a value as JSON to stdout: indented, or on one line (`compact`, e.g. one line per --watch refresh). */
export function printJson(value: unknown, compact = false): void {
  process.stdout.write(`${JSON.stringify(value, null, compact ? undefined : 2)}\n`);
}

/** ISO 8601 time of a millisecond timestamp, or null. */
export function isoTime(ms: number | null | undefined): string | null {
  return ms ? new Date(ms).toISOString() : null;
}

/** "3m 20s", "2h 5m", "4d 1h": a short human duration. */
export function duration(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? ` ${s % 60}s` : ""}`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? ` ${m % 60}m` : ""}`;
  const d = Math.floor(h / 24);
  return `${d}d${h % 24 ? ` ${h % 24}h` : ""}`;
}

/** "2026-08-18 11:15:00Z (in 3m 20s)" / "(5s ago)": a time for people, relative to now. */
export function when(ms: number | null | undefined, now = Date.now()): string {
  if (!ms) return "-";
  const at = new Date(ms)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d{3}Z$/, "Z");
  return ms >= now ? `${at} (in ${duration(ms - now)})` : `${at} (${duration(now - ms)} ago)`;
}

/** "1 job" / "3 jobs". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
