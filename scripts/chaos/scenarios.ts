// The faults of the chaos suite, one scenario each: what happens to Redis, Postgres, ESI, R2Z2 or a
// worker while the live feed runs. Each `inject` runs beside the feed and returns when the fault is over
// (the suite then waits for the pipeline to settle by itself and compares what was offered with what
// is stored). Durations shrink with --short (CI).
import postgres from "postgres";
import { SEQUENCE_BASE } from "../../sim/routes/r2z2.ts";
import type { Simulator } from "../../sim/server.ts";
import type { OwnPostgres, OwnRedis, Proc } from "./infra.ts";
import { sleep } from "./infra.ts";

export interface ScenarioContext {
  redis: OwnRedis;
  pg: OwnPostgres;
  sim: Simulator;
  database: string;
  short: boolean;
  /** Feed index of the first kill offered. */
  firstIndex: number;
  worker(): Proc;
  /** Kills the running `bun queue` with SIGKILL and starts a new one. */
  killWorker(): Promise<void>;
  note(event: string): void;
}

export interface Scenario {
  name: string;
  description: string;
  /** Extra environment of the processes. */
  env?: (short: boolean) => Record<string, string>;
  /** How long the feed runs, seconds (default 60; 25 with --short). */
  feedSeconds?: (short: boolean) => number;
  inject(ctx: ScenarioContext): Promise<void>;
}

const seconds = (ctx: ScenarioContext, full: number, short: number) => (ctx.short ? short : full) * 1000;

async function onDatabase(ctx: ScenarioContext, fn: (db: postgres.Sql) => Promise<unknown>): Promise<void> {
  const db = postgres(ctx.pg.url(ctx.database), { max: 1, onnotice: () => {} });
  try {
    await fn(db);
  } finally {
    await db.end({ timeout: 2 });
  }
}

export const SCENARIOS: Scenario[] = [
  {
    name: "redis-killed-aof-kept",
    description: "Redis SIGKILLed mid-feed, restarted from its append-only file",
    async inject(ctx) {
      await sleep(seconds(ctx, 20, 8));
      await ctx.redis.kill();
      ctx.note("redis SIGKILL");
      await sleep(2_000);
      await ctx.redis.restart(true);
      ctx.note("redis restarted with its AOF");
    },
  },
  {
    name: "redis-killed-data-lost",
    description: "Redis SIGKILLed mid-feed and restarted empty: every queued job is gone; reconcile redoes them",
    async inject(ctx) {
      await sleep(seconds(ctx, 20, 8));
      await ctx.redis.kill();
      ctx.note("redis SIGKILL");
      await sleep(2_000);
      await ctx.redis.restart(false);
      ctx.note("redis restarted empty");
    },
  },
  {
    name: "postgres-stopped",
    description: "Postgres stopped for 30 s (10 s with --short) mid-feed",
    async inject(ctx) {
      await sleep(seconds(ctx, 15, 6));
      ctx.pg.stopServer();
      ctx.note("postgres stopped");
      await sleep(seconds(ctx, 30, 10));
      await ctx.pg.startServer();
      ctx.note("postgres started");
    },
  },
  {
    name: "connections-terminated",
    description: "every connection to the database terminated every 2 s for 30 s (12 s with --short)",
    async inject(ctx) {
      await sleep(seconds(ctx, 10, 5));
      const end = Date.now() + seconds(ctx, 30, 12);
      let rounds = 0;
      while (Date.now() < end) {
        await onDatabase(
          ctx,
          (db) => db`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${ctx.database} and pid <> pg_backend_pid()`,
        );
        rounds++;
        await sleep(2_000);
      }
      ctx.note(`connections terminated ${rounds} times`);
    },
  },
  {
    name: "inserts-refused",
    description: "killmail inserts refused for 8 s with SQLSTATE 53300 (too many connections)",
    async inject(ctx) {
      await sleep(seconds(ctx, 10, 5));
      await onDatabase(ctx, async (db) => {
        await db.unsafe(`create or replace function chaos_refuse() returns trigger language plpgsql as $$
          begin raise exception 'chaos: inserts refused' using errcode = '53300'; end $$`);
        await db.unsafe("create trigger chaos_refuse before insert on killmails for each statement execute function chaos_refuse()");
      });
      ctx.note("inserts refused");
      await sleep(8_000);
      await onDatabase(ctx, (db) => db.unsafe("drop trigger chaos_refuse on killmails"));
      ctx.note("inserts accepted");
    },
  },
  {
    name: "esi-storm",
    description: "ESI answers 30 % 5xx and hangs 5 % for 60 s (20 s with --short), with a 420 window in the middle",
    async inject(ctx) {
      await sleep(seconds(ctx, 5, 3));
      ctx.sim.setFaults([{ service: "esi", errorRate: 0.3, hangRate: 0.05 }]);
      ctx.note("esi storm");
      await sleep(seconds(ctx, 30, 10));
      ctx.sim.forceErrorLimit(ctx.short ? 10 : 20);
      ctx.note("esi 420 window");
      await sleep(seconds(ctx, 30, 10));
      ctx.sim.setFaults([]);
      ctx.note("esi calm");
    },
  },
  {
    name: "esi-503",
    description: "ESI answers 503 to everything for 3 minutes (30 s with --short)",
    async inject(ctx) {
      await sleep(seconds(ctx, 5, 3));
      ctx.sim.setFaults({ service: "esi", errorRate: 1, errorStatuses: [503] });
      ctx.note("esi 503");
      await sleep(seconds(ctx, 180, 30));
      ctx.sim.setFaults([]);
      ctx.note("esi back");
    },
  },
  {
    name: "r2z2-malformed",
    description: "R2Z2 serves malformed files for 30 s (10 s with --short), and one file stays malformed for good",
    env: () => ({ R2Z2_GAP_RETRY_MINUTES: "1" }),
    async inject(ctx) {
      const bad = SEQUENCE_BASE + ctx.firstIndex + 7;
      const forever = { service: "r2z2" as const, route: "ephemeral", path: `/ephemeral/${bad}\\.json$`, malformedRate: 1 };
      ctx.sim.setFaults([forever]);
      await sleep(seconds(ctx, 10, 5));
      ctx.sim.setFaults([forever, { service: "r2z2", route: "ephemeral", malformedRate: 1 }]);
      ctx.note(`r2z2 malformed (sequence ${bad} for good)`);
      await sleep(seconds(ctx, 30, 10));
      ctx.sim.setFaults([forever]);
      ctx.note("r2z2 files good again but one");
    },
  },
  {
    name: "r2z2-races",
    description: "10 kills/s for 10 minutes (40 s with --short) while 5 % of R2Z2 files answer 404 although sequence.json is past them",
    feedSeconds: (short) => (short ? 40 : 600),
    async inject(ctx) {
      ctx.sim.setFaults({ service: "r2z2", route: "ephemeral", notFoundRate: 0.05 });
      ctx.note("r2z2 404 races on 5 % of asks");
      await sleep(seconds(ctx, 600, 40));
      ctx.sim.setFaults([]);
      ctx.note("r2z2 races over");
    },
  },
  {
    name: "worker-killed",
    description: "the worker process (`bun queue`) SIGKILLed three times mid-feed and restarted",
    async inject(ctx) {
      for (let i = 1; i <= 3; i++) {
        await sleep(seconds(ctx, 12, 5));
        await ctx.killWorker();
        ctx.note(`worker SIGKILL ${i}`);
      }
    },
  },
];
