// Upstream limits the simulator enforces: ESI's floating-window token bucket (per route group and
// client), ESI's fixed-window error limit (→ 420 everywhere), and simple per-client request rates for
// zKillboard (~1 req/s) and R2Z2 (~20 req/s), plus zKillboard's "too many errors → blocked".

export interface LimitOptions {
  /** ESI `killmail` group tokens per window (real: 3600). */
  killmailTokens?: number;
  /** ESI `killmail` group window in seconds (real: 900 = 15m). */
  killmailWindowSeconds?: number;
  /** ESI `char-killmail` / `corp-killmail` tokens per window, per application + character (real: 30). */
  recentKillmailTokens?: number;
  /** Their window in seconds (real: 900 = 15m). */
  recentKillmailWindowSeconds?: number;
  /** Non-2xx/3xx ESI responses allowed per window before 420 (real: 100). */
  errorLimit?: number;
  /** Error-limit window in seconds (real: 60). */
  errorWindowSeconds?: number;
  /** zKillboard API requests per second per client (real: about 1). 0 = unlimited. */
  zkbPerSecond?: number;
  /** zKillboard API error responses per 5 minutes before a client is blocked (real: 40). */
  zkbErrorLimit?: number;
  /** R2Z2 requests per second per client (real: about 20). 0 = unlimited. */
  r2z2PerSecond?: number;
}

export type ResolvedLimits = Required<LimitOptions>;

export const REAL_LIMITS: ResolvedLimits = {
  killmailTokens: 3600,
  killmailWindowSeconds: 900,
  recentKillmailTokens: 30,
  recentKillmailWindowSeconds: 900,
  errorLimit: 100,
  errorWindowSeconds: 60,
  zkbPerSecond: 1,
  zkbErrorLimit: 40,
  r2z2PerSecond: 20,
};

/** Token cost of a response (esi-docs rate-limiting): 2xx 2, 3xx 1, 4xx 5 (429 0), 5xx 0. */
export function tokenCost(status: number): number {
  if (status === 429) return 0;
  if (status >= 200 && status < 300) return 2;
  if (status >= 300 && status < 400) return 1;
  if (status >= 400 && status < 500) return 5;
  return 0;
}

export function windowLabel(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** Floating window: tokens spent come back `window` after they were spent. */
export class TokenBuckets {
  private readonly spent = new Map<string, { at: number; cost: number }[]>();
  constructor(
    readonly maxTokens: number,
    readonly windowMs: number,
  ) {}

  private live(key: string, now: number): { at: number; cost: number }[] {
    const list = (this.spent.get(key) ?? []).filter((e) => e.at > now - this.windowMs);
    this.spent.set(key, list);
    return list;
  }

  remaining(key: string, now: number): number {
    return this.maxTokens - this.live(key, now).reduce((s, e) => s + e.cost, 0);
  }

  spend(key: string, cost: number, now: number): void {
    if (cost > 0) this.live(key, now).push({ at: now, cost });
  }

  /** Seconds until the bucket has tokens again (at least 1). */
  retryAfter(key: string, now: number): number {
    let over = -this.remaining(key, now);
    for (const e of this.live(key, now)) {
      over -= e.cost;
      if (over < 0) return Math.max(1, Math.ceil((e.at + this.windowMs - now) / 1000));
    }
    return 1;
  }

  reset(): void {
    this.spent.clear();
  }
}

/** ESI error limit: a fixed window per client, opened by its first request after the previous one ended. */
export class ErrorLimiter {
  private readonly counts = new Map<string, { start: number; errors: number }>();
  private forcedUntil = 0;
  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  private entry(key: string, now: number) {
    let e = this.counts.get(key);
    if (!e || now >= e.start + this.windowMs) {
      e = { start: now, errors: 0 };
      this.counts.set(key, e);
    }
    return e;
  }

  limited(key: string, now: number): boolean {
    return now < this.forcedUntil || this.entry(key, now).errors >= this.limit;
  }

  count(key: string, now: number): boolean {
    const e = this.entry(key, now);
    e.errors++;
    return e.errors === this.limit;
  }

  remain(key: string, now: number): number {
    if (now < this.forcedUntil) return 0;
    return Math.max(0, this.limit - this.entry(key, now).errors);
  }

  /** Seconds left in the current window (or the forced one). */
  reset(key: string, now: number): number {
    if (now < this.forcedUntil) return Math.max(1, Math.ceil((this.forcedUntil - now) / 1000));
    const e = this.entry(key, now);
    return Math.max(1, Math.ceil((e.start + this.windowMs - now) / 1000));
  }

  force(seconds: number, now: number): void {
    this.forcedUntil = now + seconds * 1000;
  }

  clear(): void {
    this.counts.clear();
    this.forcedUntil = 0;
  }
}

/** At most `perSecond` admitted requests per client in any rolling second. */
export class RateGate {
  private readonly seen = new Map<string, number[]>();
  constructor(readonly perSecond: number) {}

  admit(key: string, now: number): boolean {
    if (this.perSecond <= 0) return true;
    const list = (this.seen.get(key) ?? []).filter((t) => t > now - 1000);
    if (list.length >= this.perSecond) {
      this.seen.set(key, list);
      return false;
    }
    list.push(now);
    this.seen.set(key, list);
    return true;
  }

  clear(): void {
    this.seen.clear();
  }
}

/** Counts events per client over a rolling window; `over` once more than `limit` happened. */
export class RollingCounter {
  private readonly events = new Map<string, number[]>();
  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  add(key: string, now: number): void {
    const list = (this.events.get(key) ?? []).filter((t) => t > now - this.windowMs);
    list.push(now);
    this.events.set(key, list);
  }

  over(key: string, now: number): boolean {
    return (this.events.get(key) ?? []).filter((t) => t > now - this.windowMs).length > this.limit;
  }

  clear(): void {
    this.events.clear();
  }
}
