// Liveness when a dependency is gone: /health answers 503 with the reason within 2 s (Redis or Postgres
// unreachable, or Redis answering PING while refusing every command), the first SIGTERM ends `bun server` even then, and the Postgres pool watchdog replaces a
// pool whose connections hang (and asks for a restart when new pools keep breaking).
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { resetSql, sql } from "../server/db/client.ts";
import { databaseWatchdog } from "../server/db/watchdog.ts";
import { useTestDatabase } from "./support/database.ts";
import { useTestQueues } from "./support/isolation.ts";
import { startRedisServer } from "./support/redis-server.ts";
import { killAll, start } from "./support/spawn.ts";

const queues = useTestQueues("liveness");
const database = useTestDatabase("liveness");
afterEach(killAll);

/** Starts `bun server` on a free port with `env`; resolves with its base URL. */
async function server(env: Record<string, string>) {
  const proc = start("server/index.ts", [], { ...queues.env, ...database.env, PORT: "0", ...env });
  await proc.waitFor(/server listening on http:\/\/\S+/);
  const url = /server listening on (http:\/\/\S+)/.exec(proc.stdout())![1]!;
  return { proc, url };
}

async function health(url: string): Promise<{ status: number; body: Record<string, string> }> {
  // The bound is the behaviour: an answer within 2 s, or the fetch is aborted and the test fails.
  const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

describe("/health", () => {
  it("answers 200 when Redis and Postgres answer", async () => {
    const { url } = await server({});
    expect(await health(url)).toEqual({ status: 200, body: { status: "ok", redis: "ok", postgres: "ok" } });
  });

  it("answers 503 within 2 s, saying why, when Redis is unreachable", async () => {
    const { url } = await server({ REDIS_URL: "redis://127.0.0.1:1" });
    for (let i = 0; i < 3; i++) {
      const answer = await health(url);
      expect(answer.status).toBe(503);
      expect(answer.body).toMatchObject({ status: "degraded", postgres: "ok" });
      expect(answer.body.redis).not.toBe("ok");
    }
  });

  it("answers 503 when Redis answers PING but refuses every other command", async () => {
    const redis = await startRedisServer();
    try {
      const admin = new Redis(redis.url);
      await admin.call("ACL", "SETUSER", "pinger", "on", ">pinger-password", "-@all", "+ping", "+info", "+client", "+hello");
      admin.disconnect();
      const { url } = await server({ REDIS_URL: redis.url.replace("redis://", "redis://pinger:pinger-password@") });
      const answer = await health(url);
      expect(answer.status).toBe(503);
      expect(answer.body).toMatchObject({ status: "degraded", postgres: "ok", redis: expect.stringContaining("NOPERM") });
    } finally {
      await redis.stop();
    }
  });

  it("answers 503 within 2 s when Postgres is unreachable", async () => {
    const { url } = await server({ DATABASE_URL: "postgres://postgres@127.0.0.1:1/postgres" });
    const answer = await health(url);
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ status: "degraded", redis: "ok" });
    expect(answer.body.postgres).not.toBe("ok");
  });

  it("the first SIGTERM ends the server even while Redis is gone", async () => {
    const { proc, url } = await server({ REDIS_URL: "redis://127.0.0.1:1" });
    await health(url);
    proc.child.kill("SIGTERM");
    const result = await proc.result;
    expect(result.code === 0 || result.code === 1).toBe(true);
    expect(result.signal).toBeNull();
  }, 30_000);
});

describe("the Postgres pool watchdog", () => {
  it("replaces a pool whose connections hang while Postgres answers, and exits when new pools keep breaking", async () => {
    const exits: number[] = [];
    const watchdog = databaseWatchdog({ timeoutMs: 500, failuresBeforeReset: 2, maxResets: 1, exit: (code) => exits.push(code) });
    expect(await watchdog.check()).toBe("ok");

    // Every connection of the pool stuck in a statement: the pool cannot answer, a fresh connection can.
    const hang = () => Array.from({ length: 10 }, () => sql()`select pg_sleep(30)`.catch(() => "aborted"));
    let stuck = hang();
    expect(await watchdog.check()).toBe("failing");
    expect(await watchdog.check()).toBe("reset");
    expect(await Promise.all(stuck)).toEqual(Array(10).fill("aborted")); // the old pool was dropped
    expect(await watchdog.check()).toBe("ok"); // a new pool

    stuck = hang();
    expect(await watchdog.check()).toBe("failing");
    expect(await watchdog.check()).toBe("failing"); // a second reset within the window: restart instead
    expect(exits).toEqual([1]);
    await watchdog.stop();
    resetSql();
    await Promise.all(stuck);
  }, 30_000);
});
