// The R2Z2 feed clock: how many of the world's generated kills are published ("the head"). Kills before
// the initial head are history; the head then advances at `rate` kills per second (0 = frozen) and can be
// pushed forward at once. Remembers its segments so it can tell when a given kill was published.
interface Segment {
  atMs: number;
  head: number;
  rate: number;
}

export class FeedClock {
  private segments: Segment[];

  constructor(
    readonly initialHead: number,
    readonly max: number,
    rate: number,
    readonly startedMs: number,
  ) {
    this.segments = [{ atMs: startedMs, head: Math.min(initialHead, max), rate }];
  }

  private last(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  private exactHead(nowMs: number): number {
    const s = this.last();
    return Math.min(this.max, s.head + (Math.max(0, nowMs - s.atMs) / 1000) * s.rate);
  }

  /** Number of published generated kills (indices < head are published). */
  head(nowMs = Date.now()): number {
    return Math.floor(this.exactHead(nowMs));
  }

  get rate(): number {
    return this.last().rate;
  }

  setRate(rate: number, nowMs = Date.now()): void {
    this.segments.push({ atMs: nowMs, head: this.exactHead(nowMs), rate: Math.max(0, rate) });
  }

  advance(n: number, nowMs = Date.now()): void {
    this.segments.push({ atMs: nowMs, head: Math.min(this.max, this.exactHead(nowMs) + Math.max(0, n)), rate: this.rate });
  }

  /** Wall-clock ms at which kill `index` became published (startedMs for history kills). */
  publishedAt(index: number): number {
    if (index < this.initialHead) return this.startedMs;
    for (let k = 0; k < this.segments.length; k++) {
      const s = this.segments[k]!;
      const end = this.segments[k + 1]?.atMs ?? Infinity;
      if (s.head > index) return s.atMs;
      if (s.rate > 0) {
        const t = s.atMs + ((index + 1 - s.head) / s.rate) * 1000;
        if (t <= end) return t;
      }
    }
    return Infinity;
  }
}
