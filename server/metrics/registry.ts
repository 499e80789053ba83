// Every Prometheus metric of the project, defined once (prom-client), in one registry per process.
// Counters and histograms count what happens in the process that defines them (a worker process counts
// the jobs it ran, every process the ESI answers it received): Prometheus sums them across processes
// (`sum by (queue) (rate(killboard_jobs_completed_total[5m]))`). Gauges of shared state (queues, ledgers,
// the ESI budget, Postgres) are set by the server's scrape only (collect.ts), so they appear once.
// Default process metrics (CPU, RSS, event-loop lag, heap; GC where the runtime reports it) in every process.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

const registers = [registry];

// --- jobs (counted by the workers as jobs end: never capped by BullMQ's retention) ---

export const jobsCompleted = new Counter({
  name: "killboard_jobs_completed_total",
  help: "Jobs completed by this process's workers",
  labelNames: ["queue"],
  registers,
});
export const jobsFailed = new Counter({
  name: "killboard_jobs_failed_total",
  help: "Jobs failed for good (permanent fault, or attempts used up) in this process's workers",
  labelNames: ["queue"],
  registers,
});
export const jobRetries = new Counter({
  name: "killboard_job_retries_total",
  help: "Failed attempts that will be retried (with backoff)",
  labelNames: ["queue"],
  registers,
});
export const jobsStalled = new Counter({
  name: "killboard_jobs_stalled_total",
  help: "Jobs found stalled (their worker died or blocked) and returned to the queue by this process",
  labelNames: ["queue"],
  registers,
});
export const jobDuration = new Histogram({
  name: "killboard_job_duration_seconds",
  help: "Processing time of one attempt (start to end), by outcome",
  labelNames: ["queue", "outcome"],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  registers,
});
export const jobWait = new Histogram({
  name: "killboard_job_wait_seconds",
  help: "Time from enqueue (after its delay, if any) to the first start of a job",
  labelNames: ["queue"],
  buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14400, 86400],
  registers,
});

// --- ESI answers, counted where responses are settled (every process that calls ESI) ---

export const esiResponses = new Counter({
  name: "killboard_esi_responses_total",
  help: "ESI answers by route group and class (2xx, 304, 3xx, 4xx, 420, 429, 5xx, none: no answer)",
  labelNames: ["group", "class"],
  registers,
});

/** The class of an ESI answer for killboard_esi_responses_total. */
export function esiResponseClass(status: number | undefined): string {
  if (!status) return "none";
  if (status === 304 || status === 420 || status === 429) return String(status);
  if (status >= 200 && status < 300) return "2xx";
  if (status >= 300 && status < 400) return "3xx";
  if (status >= 400 && status < 500) return "4xx";
  return "5xx";
}

// --- EVE SSO (the processes that refresh tokens: `bun queue`) ---

export const ssoRefreshFailures = new Counter({
  name: "killboard_sso_token_refresh_failures_total",
  help: "Token refreshes that failed (transient: retried; permanent: the client configuration refused; revoked: the token is given up)",
  labelNames: ["kind"],
  registers,
});
export const ssoTokensRevoked = new Counter({
  name: "killboard_sso_tokens_revoked_total",
  help: "Tokens marked revoked by this process (invalid_grant, a changed owner, an unreadable token, an operator)",
  registers,
});

// --- the R2Z2 listener (`bun cli listen:r2z2`) ---

export const r2z2Cursor = new Gauge({
  name: "killboard_r2z2_cursor_sequence",
  help: "Last R2Z2 sequence number read and saved",
  registers,
});
export const r2z2Head = new Gauge({
  name: "killboard_r2z2_head_sequence",
  help: "R2Z2's head (sequence.json) as last seen",
  registers,
});
export const r2z2Lag = new Gauge({
  name: "killboard_r2z2_lag_sequences",
  help: "Sequence numbers between the cursor and the feed's head (0 when caught up)",
  registers,
});
export const r2z2LastSuccess = new Gauge({
  name: "killboard_r2z2_last_success_timestamp_seconds",
  help: "When the listener last saved its cursor after a read (Unix time)",
  registers,
});
export const r2z2Gaps = new Gauge({
  name: "killboard_r2z2_gaps_open",
  help: "Sequence numbers skipped by R2Z2, asked again or being filled from history",
  registers,
});
export const r2z2Kills = new Counter({
  name: "killboard_r2z2_kills_total",
  help: "Kills read from the R2Z2 feed and handed to the intake",
  registers,
});
