// GET /api/status: what an operator checks first — every queue's counts, the kills stored and valued,
// the ledgers (intake pending/failed, outbox waiting) and the shared ESI budget (guard, error limit),
// so a stuck pipeline is visible at a glance.
// GET /health: liveness for containers and load balancers (Redis and Postgres answer).
import { Hono } from "hono";
import { sql } from "../db/client.ts";
import { budgetState } from "../esi/index.ts";
import { redis } from "../helpers/redis.ts";
import { getQueueStats } from "../queues/queue.ts";

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

/** Cheap counts: killmails/valued come from the planner's estimate when the table is large. */
export async function pipelineCounts(): Promise<PipelineCounts> {
  const [row] = await sql()<PipelineCounts[]>`
    select
      (select case when reltuples > 100000 then reltuples::int8 else (select count(*) from killmails) end
         from pg_class where relname = 'killmails') as killmails,
      (select case when reltuples > 100000 then reltuples::int8 else (select count(*) from killmail_values) end
         from pg_class where relname = 'killmail_values') as valued,
      (select count(*) from killmail_values where revalue) as revalue,
      (select count(*) from killmail_intake where status = 'pending') as "intakePending",
      (select count(*) from killmail_intake where status = 'failed') as "intakeFailed",
      (select count(*) from outbox where relayed_at is null and failed_at is null) as "outboxUnrelayed",
      (select count(*) from outbox where relayed_at is not null and failed_at is null) as "outboxRelayed",
      (select count(*) from outbox where failed_at is not null) as "outboxFailed"`;
  return row!;
}

export function statusRoutes(): Hono {
  const app = new Hono();
  app.get("/api/status", async (c) => {
    const [queues, pipeline, esi] = await Promise.all([getQueueStats(), pipelineCounts(), budgetState()]);
    return c.json({ at: new Date().toISOString(), queues, pipeline, esi });
  });
  app.get("/health", async (c) => {
    const checks = await Promise.allSettled([redis().ping(), sql()`select 1`]);
    const [r, p] = checks.map((x) => (x.status === "fulfilled" ? "ok" : String((x.reason as Error).message)));
    const ok = r === "ok" && p === "ok";
    return c.json({ status: ok ? "ok" : "degraded", redis: r, postgres: p }, ok ? 200 : 503);
  });
  return app;
}
