// A strict parser of Prometheus' text exposition format (version 0.0.4), for tests that scrape our
// /metrics: every line must be a HELP, a TYPE or a sample of a declared family, names and labels must
// be valid, values numbers; histograms must have increasing buckets ending in +Inf equal to _count.
// Throws on the first violation with its line.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
  /** The value of one sample; undefined when absent. Labels must match exactly those given (others ignored). */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** Every sample of a name whose labels include these. */
  all(name: string, labels?: Record<string, string>): Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseValue(text: string, line: string): number {
  if (text === "+Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  if (text === "NaN") return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`bad value ${JSON.stringify(text)} in: ${line}`);
  return Number(text);
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest.length > 0) {
    const m = /^([^=]+)="((?:[^"\\]|\\[\\"n])*)"(,?)/.exec(rest);
    if (!m || !LABEL.test(m[1]!)) throw new Error(`bad labels in: ${line}`);
    if (m[1]! in labels) throw new Error(`label ${m[1]} twice in: ${line}`);
    labels[m[1]!] = m[2]!.replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    rest = rest.slice(m[0].length);
    if (!m[3] && rest.length > 0) throw new Error(`bad labels in: ${line}`);
  }
  return labels;
}

/** The family a sample name belongs to (histogram and summary series carry suffixes). */
function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const t = types.get(base);
    if (t === "histogram" || (t === "summary" && suffix !== "_bucket")) return base;
  }
  return undefined;
}

export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) continue; // a plain comment
      if (!NAME.test(m[2]!)) throw new Error(`bad metric name in: ${line}`);
      if (m[1] === "TYPE") {
        if (!TYPES.has(m[3]!)) throw new Error(`bad type in: ${line}`);
        if (types.has(m[2]!)) throw new Error(`TYPE twice for ${m[2]}`);
        types.set(m[2]!, m[3]!);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    if (!m) throw new Error(`not a sample: ${line}`);
    const name = m[1]!;
    if (!familyOf(name, types)) throw new Error(`sample of an undeclared family: ${line}`);
    samples.push({ name, labels: parseLabels(m[2] ?? "", line), value: parseValue(m[3]!, line) });
  }
  checkHistograms(types, samples);
  const matches = (s: Sample, labels: Record<string, string>) => Object.entries(labels).every(([k, v]) => s.labels[k] === v);
  return {
    types,
    samples,
    all: (name, labels = {}) => samples.filter((s) => s.name === name && matches(s, labels)),
    value(name, labels = {}) {
      const found = samples.filter((s) => s.name === name && matches(s, labels));
      if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)}: ${found.length} samples, name more labels`);
      return found[0]?.value;
    },
  };
}

function checkHistograms(types: Map<string, string>, samples: Sample[]): void {
  for (const [family, type] of types) {
    if (type !== "histogram") continue;
    const series = new Map<string, { buckets: [number, number][]; count?: number }>();
    for (const s of samples) {
      if (![`${family}_bucket`, `${family}_count`, `${family}_sum`].includes(s.name)) continue;
      const { le, ...rest } = s.labels;
      const key = JSON.stringify(Object.entries(rest).sort());
      const entry = series.get(key) ?? { buckets: [] };
      series.set(key, entry);
      if (s.name === `${family}_bucket`) {
        if (le === undefined) throw new Error(`${family}_bucket without le`);
        entry.buckets.push([parseValue(le, le), s.value]);
      } else if (s.name === `${family}_count`) entry.count = s.value;
    }
    for (const [key, { buckets, count }] of series) {
      const last = buckets.at(-1);
      if (!last || last[0] !== Number.POSITIVE_INFINITY) throw new Error(`${family}${key}: no +Inf bucket last`);
      for (let i = 1; i < buckets.length; i++) {
        if (buckets[i]![0] <= buckets[i - 1]![0] || buckets[i]![1] < buckets[i - 1]![1])
          throw new Error(`${family}${key}: buckets not increasing`);
      }
      if (count !== last[1]) throw new Error(`${family}${key}: _count ${count} differs from the +Inf bucket ${last[1]}`);
    }
  }
}
