// Gauges of state every process shares (BullMQ queues, the Postgres ledgers, the ESI budget, the
// database), set at each scrape of `bun server`'s /metrics only (collect.ts), so that Prometheus sees
// them once however many workers run. A registry of its own: the worker and listener endpoints never
// show them (an unset gauge would read 0 there).
import { Gauge, Registry } from "prom-client";

export const sharedRegistry = new Registry();
const registers = [sharedRegistry];

export const queueJobs = new Gauge({
  name: "killboard_queue_jobs",
  help: "Jobs per queue and state",
  labelNames: ["queue", "state"],
  registers,
});
export const queuePaused = new Gauge({
  name: "killboard_queue_paused",
  help: "1 when the queue is paused",
  labelNames: ["queue"],
  registers,
});
export const queueOldestWaiting = new Gauge({
  name: "killboard_queue_oldest_waiting_age_seconds",
  help: "Age of the oldest job waiting to start (waiting or prioritized, past its delay); 0 when none waits",
  labelNames: ["queue"],
  registers,
});
export const queueWorkers = new Gauge({
  name: "killboard_queue_workers",
  help: "Workers connected to the queue (all processes)",
  labelNames: ["queue"],
  registers,
});
export const pipeline = new Gauge({
  name: "killboard_pipeline",
  help: "Kills stored/valued/flagged and ledger sizes (intake pending/failed, outbox unrelayed/relayed/failed)",
  labelNames: ["what"],
  registers,
});
export const enrichment = new Gauge({
  name: "killboard_enrichment",
  help: "Entities stored, and the names, types and details still to fetch",
  labelNames: ["what"],
  registers,
});
export const sso = new Gauge({
  name: "killboard_sso",
  help: "EVE SSO: characters, valid and revoked tokens, syncs by state, kills found only through members' tokens",
  labelNames: ["what"],
  registers,
});
export const esiErrorRemain = new Gauge({
  name: "killboard_esi_error_limit_remain",
  help: "ESI errors left in the current error window (X-ESI-Error-Limit-Remain; absent until an answer told us)",
  registers,
});
export const esiErrorReset = new Gauge({
  name: "killboard_esi_error_limit_reset_seconds",
  help: "Seconds until ESI's error window resets",
  registers,
});
export const esiMode = new Gauge({
  name: "killboard_esi_mode",
  help: "1 while the ESI budget is in this mode: guard (no call), pacing, reserve (live work only), downtime",
  labelNames: ["mode"],
  registers,
});
export const esiInflight = new Gauge({
  name: "killboard_esi_requests_in_flight",
  help: "ESI requests admitted and not yet settled",
  registers,
});
export const esiTokensLeft = new Gauge({
  name: "killboard_esi_bucket_tokens_left",
  help: "Tokens left in the route group's floating window (per IP)",
  labelNames: ["group"],
  registers,
});
export const esiTokenLimit = new Gauge({
  name: "killboard_esi_bucket_limit",
  help: "The route group's tokens per window (X-Ratelimit-Limit)",
  labelNames: ["group"],
  registers,
});
export const esiGroupPaused = new Gauge({
  name: "killboard_esi_group_paused",
  help: "1 while a 429 pauses the route group",
  labelNames: ["group"],
  registers,
});
export const pgConnections = new Gauge({
  name: "killboard_postgres_connections",
  help: "Postgres connections of all our processes (application_name killboard) by state (pg_stat_activity)",
  labelNames: ["state"],
  registers,
});
export const partitionsIdsAhead = new Gauge({
  name: "killboard_kill_partitions_ids_ahead",
  help: "Killmail ids between the newest kill and the end of the last kill partition",
  registers,
});
export const partitionsDaysAhead = new Gauge({
  name: "killboard_kill_partitions_days_ahead",
  help: "Days of kills the existing partitions still hold at the recent rate of new killmail ids",
  registers,
});
