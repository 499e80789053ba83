// Prometheus metrics (prom-client): queue counts per state, pipeline ledgers, collected on scrape.
import { Gauge, Registry } from "prom-client";
import { getQueueStats, JOB_STATES } from "../queues/queue.ts";
import { ssoCounts } from "../sso/store.ts";
import { enrichmentCounts, pipelineCounts } from "./status.ts";

const registry = new Registry();
const jobs = new Gauge({
  name: "killboard_queue_jobs",
  help: "Jobs per queue and state",
  labelNames: ["queue", "state"],
  registers: [registry],
});
const paused = new Gauge({
  name: "killboard_queue_paused",
  help: "1 when the queue is paused",
  labelNames: ["queue"],
  registers: [registry],
});
const pipeline = new Gauge({
  name: "killboard_pipeline",
  help: "Kills stored/valued and ledger sizes",
  labelNames: ["what"],
  registers: [registry],
});

const enrichment = new Gauge({
  name: "killboard_enrichment",
  help: "Entities stored, and the names, types and details still to fetch",
  labelNames: ["what"],
  registers: [registry],
});

const sso = new Gauge({
  name: "killboard_sso",
  help: "EVE SSO: characters, valid and revoked tokens, syncs by state, kills found only through members' tokens",
  labelNames: ["what"],
  registers: [registry],
});

export async function metricsText(): Promise<{ contentType: string; body: string }> {
  const [stats, counts, enriching, members] = await Promise.all([getQueueStats(), pipelineCounts(), enrichmentCounts(), ssoCounts()]);
  for (const [what, n] of Object.entries(members)) sso.set({ what }, n);
  for (const [what, n] of Object.entries(enriching)) enrichment.set({ what }, n);
  for (const s of stats) {
    for (const state of JOB_STATES) jobs.set({ queue: s.queue, state }, s[state]);
    paused.set({ queue: s.queue }, s.paused ? 1 : 0);
  }
  for (const [what, n] of Object.entries(counts)) pipeline.set({ what }, Number(n));
  return { contentType: registry.contentType, body: await registry.metrics() };
}
