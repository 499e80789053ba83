// `bun server`'s /metrics: this process's own metrics (registry.ts) plus the shared state read at each
// scrape (shared.ts): queue counts, oldest waiting job, connected workers, the ledgers, the ESI budget
// with each route group's bucket, Postgres connections, the kill partitions' runway. Every read is a
// counter, an index probe or a small set: the time of a scrape does not grow with stored history.
import { Registry } from "prom-client";
import { sql } from "../db/client.ts";
import { partitionRunway } from "../db/partitions.ts";
import { budgetState, groupStates } from "../esi/index.ts";
import { redis } from "../helpers/redis.ts";
import { Priority } from "../queues/priority.ts";
import { getQueue, getQueueStats, JOB_STATES } from "../queues/queue.ts";
import { QUEUE_NAMES, type QueueName } from "../queues/registry.ts";
import { enrichmentCounts, pipelineCounts } from "../routes/status.ts";
import { ssoCounts } from "../sso/store.ts";
import { registry } from "./registry.ts";
import * as g from "./shared.ts";

const PRIORITY_SPAN = 0x100000000;

/**
 * Seconds since the oldest job waiting in the queue became ready (enqueued, plus its delay): the tail
 * of the wait list, and the first job of each priority tier (BullMQ scores prioritized jobs by priority,
 * then by arrival: the oldest of a tier is its lowest score).
 */
export async function oldestWaitingAge(name: QueueName, now = Date.now()): Promise<number> {
  const queue = getQueue(name);
  const r = redis();
  const heads = r.pipeline();
  heads.lrange(queue.keys.wait!, -1, -1);
  for (const p of Object.values(Priority)) {
    heads.zrangebyscore(queue.keys.prioritized!, p * PRIORITY_SPAN, (p + 1) * PRIORITY_SPAN - 1, "LIMIT", 0, 1);
  }
  const ids = ((await heads.exec()) ?? []).flatMap(([err, v]) => (err ? [] : (v as string[])));
  if (ids.length === 0) return 0;
  const jobs = r.pipeline();
  for (const id of ids) jobs.hmget(queue.toKey(id), "timestamp", "delay");
  let oldest = now;
  for (const [err, v] of (await jobs.exec()) ?? []) {
    if (err) continue;
    const [timestamp, delay] = v as (string | null)[];
    if (timestamp) oldest = Math.min(oldest, Number(timestamp) + Number(delay ?? 0));
  }
  return Math.max(0, now - oldest) / 1000;
}

async function collectQueues(): Promise<void> {
  const [stats, ages, workers] = await Promise.all([
    getQueueStats(),
    Promise.all(QUEUE_NAMES.map((q) => oldestWaitingAge(q))),
    Promise.all(QUEUE_NAMES.map((q) => getQueue(q).getWorkersCount())),
  ]);
  for (const s of stats) {
    for (const state of JOB_STATES) g.queueJobs.set({ queue: s.queue, state }, s[state]);
    g.queuePaused.set({ queue: s.queue }, s.paused ? 1 : 0);
  }
  QUEUE_NAMES.forEach((queue, i) => {
    g.queueOldestWaiting.set({ queue }, ages[i]!);
    g.queueWorkers.set({ queue }, workers[i]!);
  });
}

async function collectEsi(now = Date.now()): Promise<void> {
  const [state, groups] = await Promise.all([budgetState(), groupStates(now)]);
  if (state.errorRemain === null) g.esiErrorRemain.reset();
  else g.esiErrorRemain.set(state.errorRemain);
  g.esiErrorReset.set(state.errorResetAt && state.errorResetAt > now ? (state.errorResetAt - now) / 1000 : 0);
  g.esiMode.set({ mode: "guard" }, state.guardUntil > now ? 1 : 0);
  g.esiMode.set({ mode: "pacing" }, state.pacing ? 1 : 0);
  g.esiMode.set({ mode: "reserve" }, state.reserve ? 1 : 0);
  g.esiMode.set({ mode: "downtime" }, state.downtime ? 1 : 0);
  g.esiInflight.set(state.inflight);
  for (const s of groups) {
    g.esiGroupPaused.set({ group: s.group }, s.pausedUntil > 0 ? 1 : 0);
    if (s.limit === null) continue;
    g.esiTokenLimit.set({ group: s.group }, s.limit);
    g.esiTokensLeft.set({ group: s.group }, s.tokensLeft ?? 0);
  }
}

async function collectDatabase(): Promise<void> {
  const [connections, runway, counts, enriching, members] = await Promise.all([
    sql()<{ state: string; n: number }[]>`
      select coalesce(state, 'unknown') as state, count(*)::int as n from pg_stat_activity
      where application_name = 'killboard' and datname = current_database() group by 1`,
    partitionRunway(),
    pipelineCounts(),
    enrichmentCounts(),
    ssoCounts(),
  ]);
  g.pgConnections.reset();
  for (const state of ["active", "idle", "idle in transaction"]) g.pgConnections.set({ state }, 0);
  for (const c of connections) g.pgConnections.set({ state: c.state }, c.n);
  g.partitionsIdsAhead.set(runway.idsAhead);
  g.partitionsDaysAhead.set(runway.daysAhead);
  for (const [what, n] of Object.entries(counts)) g.pipeline.set({ what }, Number(n));
  for (const [what, n] of Object.entries(enriching)) g.enrichment.set({ what }, n);
  for (const [what, n] of Object.entries(members)) g.sso.set({ what }, n);
}

/** The text of the server's /metrics: its own process metrics and the shared state. */
export async function metricsText(): Promise<{ contentType: string; body: string }> {
  await Promise.all([collectQueues(), collectEsi(), collectDatabase()]);
  const merged = Registry.merge([registry, g.sharedRegistry]);
  return { contentType: merged.contentType, body: await merged.metrics() };
}
