// Progress of long CLI work (imports, backfills) on stderr: a cli-progress bar when stderr is a
// terminal, otherwise one log line at most every `intervalMs` (and a final one), so logs of
// containers and CI stay readable. stdout is never touched.

export interface Progress {
  /** Adds n (default 1) to the value. */
  increment(n?: number): void;
  /** Sets the value (and optionally a new total, when it becomes known). */
  update(value: number, total?: number): void;
  /** Draws or logs the final state; call once at the end. */
  stop(): void;
}

export interface ProgressOptions {
  /** What is counted, e.g. "killmails" (shown before the numbers). */
  label: string;
  /** Expected total; 0 when unknown. */
  total: number;
  /** Where to write (default process.stderr). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Minimum time between log lines when the stream is not a terminal (default 10 s; 0 = every update). */
  intervalMs?: number;
}

/** A progress reporter for the stream: a bar on a TTY, periodic lines elsewhere. */
export async function createProgress(opts: ProgressOptions): Promise<Progress> {
  const stream = opts.stream ?? process.stderr;
  if (stream.isTTY) return barProgress(opts, stream);
  return lineProgress(opts, stream);
}

async function barProgress(opts: ProgressOptions, stream: NodeJS.WritableStream): Promise<Progress> {
  const { SingleBar, Presets } = await import("cli-progress");
  // Until the total is known there is no percentage, total or eta to show (not NaN, not 8/0).
  const withTotal = `${opts.label} [{bar}] {percentage}% | {value}/{total} | {rate}/s | eta {eta_formatted}`;
  const withoutTotal = `${opts.label} | {value} | {rate}/s`;
  const bar = new SingleBar(
    {
      stream,
      format: (options, params, payload) =>
        (params.total > 0 ? withTotal : withoutTotal)
          .replace(
            "{bar}",
            drawBar(params.progress, options.barsize ?? 40, options.barCompleteChar ?? "#", options.barIncompleteChar ?? "-"),
          )
          .replace("{percentage}", String(Math.floor(params.progress * 100)))
          .replace("{value}", String(params.value))
          .replace("{total}", String(params.total))
          .replace("{rate}", String((payload as { rate?: number }).rate ?? 0))
          .replace("{eta_formatted}", params.eta > 0 && Number.isFinite(params.eta) ? `${params.eta}s` : "-"),
      etaBuffer: 50,
      hideCursor: true,
      clearOnComplete: false,
    },
    Presets.shades_classic,
  );
  const started = Date.now();
  let value = 0;
  const rate = () => Math.round(value / Math.max((Date.now() - started) / 1000, 0.001));
  bar.start(opts.total, 0, { rate: 0 });
  return {
    increment(n = 1) {
      value += n;
      bar.update(value, { rate: rate() });
    },
    update(v, total) {
      value = v;
      if (total !== undefined) bar.setTotal(total);
      bar.update(value, { rate: rate() });
    },
    stop() {
      bar.update(value, { rate: rate() });
      bar.stop();
    },
  };
}

/** The bar's cells: the done share in the preset's complete character, the rest in its incomplete one. */
function drawBar(progress: number, size: number, done: string, left: string): string {
  const cells = Math.max(0, Math.min(size, Math.round(progress * size)));
  return done.repeat(cells) + left.repeat(size - cells);
}

function lineProgress(opts: ProgressOptions, stream: NodeJS.WritableStream): Progress {
  const intervalMs = opts.intervalMs ?? 10_000;
  const started = Date.now();
  let total = opts.total;
  let value = 0;
  let lastLine = 0;
  let stopped = false;
  const write = () => {
    lastLine = Date.now();
    const seconds = Math.max((lastLine - started) / 1000, 0.001);
    const pct = total > 0 ? ` (${Math.floor((value / total) * 100)}%)` : "";
    stream.write(`${opts.label}: ${value}${total > 0 ? `/${total}` : ""}${pct}, ${Math.round(value / seconds)}/s\n`);
  };
  const maybeWrite = () => {
    if (Date.now() - lastLine >= intervalMs) write();
  };
  lastLine = started;
  return {
    increment(n = 1) {
      value += n;
      maybeWrite();
    },
    update(v, t) {
      value = v;
      if (t !== undefined) total = t;
      maybeWrite();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      write();
    },
  };
}
