// GET /api/status: what an operator checks first — every queue's counts, the kills stored and valued,
// the ledgers (intake pending/failed, outbox waiting) and the shared ESI budget (guard, error limit, each
// route group's token bucket), so a stuck pipeline is visible at a glance. Never counts whole kill tables.
// GET /health: liveness for containers and load balancers: 200 when Redis (a SET/GET round trip on
// every master) and Postgres answer, 503 with the reason otherwise, within 2 s whatever state they are in
// (a client that retries forever is not waited for).
import { Hono } from "hono";
import { sql } from "../db/client.ts";
import { budgetState, groupStates } from "../esi/index.ts";
import { createRedis, type RedisClient, roundTrip } from "../helpers/redis.ts";
import { withTimeout } from "../helpers/timeout.ts";
import { getQueueStats } from "../queues/queue.ts";
import { ssoCounts } from "../sso/store.ts";

export interface PipelineCounts {
  killmails: number;
  valued: number;
  revalue: number;
  intakePending: number;
  intakeFailed: number;
  outboxUnrelayed: number;
  outboxRelayed: number;
  outboxFailed: number;
}

/**
 * Cheap whatever the history: kills stored and valued from row_counts (kept exact by triggers, see
 * server/db/schema.ts), the rest from small sets reached through partial or leading indexes (flagged
 * values, pending and failed intake rows; the outbox holds only outstanding and failed work).
 */
export async function pipelineCounts(): Promise<PipelineCounts> {
  const [row] = await sql()<PipelineCounts[]>`
    select
      (select coalesce(sum(n), 0) from row_counts where table_name = 'killmails')::int8 as killmails,
      (select coalesce(sum(n), 0) from row_counts where table_name = 'killmail_values')::int8 as valued,
      (select count(*) from killmail_values where revalue) as revalue,
      (select count(*) from killmail_intake where status = 'pending') as "intakePending",
      (select count(*) from killmail_intake where status = 'failed') as "intakeFailed",
      (select count(*) from outbox where relayed_at is null and failed_at is null) as "outboxUnrelayed",
      (select count(*) from outbox where relayed_at is not null and failed_at is null) as "outboxRelayed",
      (select count(*) from outbox where failed_at is not null) as "outboxFailed"`;
  return row!;
}

const HEALTH_TIMEOUT_MS = 1_500;
let healthClient: RedisClient | undefined;

/** A connection of its own whose commands fail after one reconnect attempt (the shared one waits forever). */
function healthRedis(): RedisClient {
  healthClient ??= createRedis({
    maxRetriesPerRequest: 1,
    connectTimeout: HEALTH_TIMEOUT_MS,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  healthClient.on("error", () => {}); // the answer to /health says it
  return healthClient;
}

export interface EnrichmentCounts {
  /** Entities stored (the planner's estimate when a table is large; deleted ones included). */
  characters: number;
  corporations: number;
  alliances: number;
  types: number;
  /** Named by stored kills and not known yet: outstanding outbox rows of the names and type queues. */
  namesPending: number;
  typesPending: number;
  /** Named, waiting for their own route (detail jobs pending). */
  detailPending: number;
}

/** The enrichment backlog, cheap whatever the size of the tables: estimates, the small outbox, queue counts. */
export async function enrichmentCounts(): Promise<EnrichmentCounts> {
  const estimate = (table: string) => sql()`
    select case when reltuples > 100000 then reltuples::int8 else (select count(*) from ${sql()(table)}) end as n
    from pg_class where relname = ${table}`;
  const [[c], [co], [a], [t], [pending], detail] = await Promise.all([
    estimate("characters"),
    estimate("corporations"),
    estimate("alliances"),
    estimate("types"),
    sql()<{ names: number; types: number }[]>`
      select count(*) filter (where queue in ('character', 'corporation', 'alliance'))::int as names,
             count(*) filter (where queue = 'type')::int as types
      from outbox where failed_at is null`,
    getQueueStats("detail"),
  ]);
  return {
    characters: Number(c!.n),
    corporations: Number(co!.n),
    alliances: Number(a!.n),
    types: Number(t!.n),
    namesPending: pending!.names,
    typesPending: pending!.types,
    detailPending: detail.waiting + detail.prioritized + detail.active + detail.delayed,
  };
}

export function statusRoutes(): Hono {
  const app = new Hono();
  app.get("/api/status", async (c) => {
    const [queues, pipeline, enrichment, esi, groups, sso] = await Promise.all([
      getQueueStats(),
      pipelineCounts(),
      enrichmentCounts(),
      budgetState(),
      groupStates(),
      ssoCounts(),
    ]);
    return c.json({ at: new Date().toISOString(), queues, pipeline, enrichment, esi: { ...esi, groups }, sso });
  });
  app.get("/health", async (c) => {
    const checks = await Promise.allSettled([
      roundTrip(healthRedis(), HEALTH_TIMEOUT_MS),
      withTimeout(sql()`select 1`, HEALTH_TIMEOUT_MS, "Postgres"),
    ]);
    const [r, p] = checks.map((x) => (x.status === "fulfilled" ? "ok" : String((x.reason as Error).message)));
    const ok = r === "ok" && p === "ok";
    return c.json({ status: ok ? "ok" : "degraded", redis: r, postgres: p }, ok ? 200 : 503);
  });
  return app;
}
