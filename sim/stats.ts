// What clients did: a bounded request log and counters per route and status, so tests can assert on
// exactly how a client behaved (420 windows it ignored, 429s, rule violations, injected faults).

export interface SimRequest {
  seq: number;
  /** Wall-clock ms when the request arrived. */
  at: number;
  method: string;
  /** Path and query as sent (relative to the simulator origin). */
  url: string;
  service: "esi" | "r2z2" | "zkb" | "everef" | "sso" | "unknown";
  /** Route key, e.g. "killmail", "character", "ephemeral", "api", "archive". */
  route: string;
  /** HTTP status; 0 when no answer was sent (hang or reset). */
  status: number;
  client: string;
  userAgent?: string;
  /** Sent while the client was error-limited (420 window). */
  during420: boolean;
  fault?: "hang" | "reset" | "error" | "malformed" | "latency" | "not-found";
  violations: string[];
  durationMs: number;
}

export interface RouteStats {
  total: number;
  byStatus: Record<string, number>;
}

export interface SimStats {
  total: number;
  byService: Record<string, number>;
  byRoute: Record<string, RouteStats>;
  byStatus: Record<string, number>;
  /** 420 answers. */
  errorLimited: number;
  /** Requests that arrived while their client was error-limited. */
  requestsDuring420: number;
  /** Times a client crossed the ESI error limit. */
  errorLimitTrips: number;
  /** 429 answers (ESI token bucket, zKillboard, R2Z2). */
  rateLimited: number;
  notModified: number;
  violations: number;
  violationsByKind: Record<string, number>;
  faults: Record<string, number>;
}

function empty(): SimStats {
  return {
    total: 0,
    byService: {},
    byRoute: {},
    byStatus: {},
    errorLimited: 0,
    requestsDuring420: 0,
    errorLimitTrips: 0,
    rateLimited: 0,
    notModified: 0,
    violations: 0,
    violationsByKind: {},
    faults: {},
  };
}

export class Recorder {
  private log: SimRequest[] = [];
  private counters = empty();
  private seq = 0;
  constructor(private readonly maxLog = 100_000) {}

  record(r: Omit<SimRequest, "seq">): SimRequest {
    const entry: SimRequest = { ...r, seq: ++this.seq };
    this.log.push(entry);
    if (this.log.length > this.maxLog) this.log.splice(0, this.log.length - this.maxLog);
    const c = this.counters;
    c.total++;
    c.byService[r.service] = (c.byService[r.service] ?? 0) + 1;
    const key = `${r.service}.${r.route}`;
    c.byRoute[key] ??= { total: 0, byStatus: {} };
    const route = c.byRoute[key];
    route.total++;
    route.byStatus[String(r.status)] = (route.byStatus[String(r.status)] ?? 0) + 1;
    c.byStatus[String(r.status)] = (c.byStatus[String(r.status)] ?? 0) + 1;
    if (r.status === 420) c.errorLimited++;
    if (r.status === 429) c.rateLimited++;
    if (r.status === 304) c.notModified++;
    if (r.during420) c.requestsDuring420++;
    for (const v of r.violations) {
      c.violations++;
      c.violationsByKind[v] = (c.violationsByKind[v] ?? 0) + 1;
    }
    if (r.fault) c.faults[r.fault] = (c.faults[r.fault] ?? 0) + 1;
    return entry;
  }

  tripped(): void {
    this.counters.errorLimitTrips++;
  }

  stats(): SimStats {
    return structuredClone(this.counters);
  }

  requests(): SimRequest[] {
    return this.log.slice();
  }

  reset(): void {
    this.log = [];
    this.counters = empty();
  }
}
