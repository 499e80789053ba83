// Redis modes: the configuration of Sentinel and Cluster (a bad value exits 2 naming it; a cluster needs a
// hash-tagged prefix), and on a private 3-master cluster what must reach every master — key deletion,
// the eviction-policy check, `bun cli health`'s SET/GET round trip — plus health failing where a PING
// alone would pass: a user allowed nothing but PING, a single-node connection to a cluster node; and a
// master found through a Sentinel.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../server/helpers/config.ts";
import { createRedis, deleteKeys, evictionPolicy, keySlot, masters, nodeName } from "../server/helpers/redis.ts";
import { until } from "./support/poll.ts";
import { type PrivateCluster, startRedisCluster } from "./support/redis-cluster.ts";
import { freePort, type PrivateRedis, startRedisServer } from "./support/redis-server.ts";
import { run } from "./support/spawn.ts";

const configError = (env: Record<string, string>) => {
  try {
    parseConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return undefined;
};

describe("configuration", () => {
  it("reads Sentinel and Cluster addresses as host:port lists", () => {
    const cluster = parseConfig({ REDIS_CLUSTER_NODES: "10.0.0.1:7000, redis-2:7001,[::1]:7002", QUEUE_PREFIX: "{kb}" });
    expect(cluster.redisClusterNodes).toEqual([
      { host: "10.0.0.1", port: 7000 },
      { host: "redis-2", port: 7001 },
      { host: "::1", port: 7002 },
    ]);
    const sentinel = parseConfig({ REDIS_SENTINELS: "s1:26379,s2:26379", REDIS_SENTINEL_NAME: "mymaster" });
    expect(sentinel.redisSentinels).toEqual([
      { host: "s1", port: 26379 },
      { host: "s2", port: 26379 },
    ]);
    expect(sentinel.redisSentinelName).toBe("mymaster");
    expect(parseConfig({ QUEUE_PREFIX: "kb:{eu}" }).queuePrefix).toBe("kb:{eu}");
  });

  it("refuses a bad list, a half-configured Sentinel, both modes at once, and an untagged prefix on a cluster", () => {
    expect(configError({ REDIS_CLUSTER_NODES: "10.0.0.1" })).toMatch(
      /^invalid REDIS_CLUSTER_NODES="10.0.0.1": '10.0.0.1' is not host:port/,
    );
    expect(configError({ REDIS_SENTINELS: "s1:99999", REDIS_SENTINEL_NAME: "m" })).toMatch(/^invalid REDIS_SENTINELS=/);
    expect(configError({ REDIS_SENTINELS: "s1:26379" })).toMatch(/^invalid REDIS_SENTINEL_NAME=.*is required with REDIS_SENTINELS/);
    expect(configError({ REDIS_SENTINEL_NAME: "m" })).toMatch(/^invalid REDIS_SENTINELS=.*is required with REDIS_SENTINEL_NAME/);
    expect(configError({ REDIS_SENTINELS: "s1:26379", REDIS_SENTINEL_NAME: "m", REDIS_CLUSTER_NODES: "a:1", QUEUE_PREFIX: "{k}" })).toMatch(
      /not both/,
    );
    expect(configError({ REDIS_CLUSTER_NODES: "a:7000" })).toMatch(/^invalid QUEUE_PREFIX="bull": must hold a hash tag on a Redis Cluster/);
    expect(configError({ QUEUE_PREFIX: "{a}{b}" })).toMatch(/^invalid QUEUE_PREFIX=/);
    expect(configError({ QUEUE_PREFIX: "{}" })).toMatch(/^invalid QUEUE_PREFIX=/);
  });

  it("`bun queue` exits 2 naming QUEUE_PREFIX when a cluster is configured without a hash tag", async () => {
    const result = await run("queue.ts", [], { REDIS_CLUSTER_NODES: "127.0.0.1:7000", QUEUE_PREFIX: "kb" });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('invalid QUEUE_PREFIX="kb": must hold a hash tag');
  });
});

describe("on a 3-master cluster", () => {
  let cluster: PrivateCluster;
  const env = () => ({ REDIS_CLUSTER_NODES: cluster.nodes, QUEUE_PREFIX: "{t-modes}" });
  const cfg = () => parseConfig(env());
  beforeAll(async () => {
    cluster = await startRedisCluster();
  });
  afterAll(() => cluster?.stop());

  it("computes the slot of a key as the cluster does", async () => {
    const client = createRedis({}, cfg()) as Cluster;
    try {
      for (const key of ["bull:x", "{kb}:esi:guard", "a{b}c", "{}x", "t:{0}"]) {
        expect(keySlot(key), key).toBe(await client.call("CLUSTER", "KEYSLOT", key));
      }
    } finally {
      client.disconnect();
    }
  });

  it("deletes keys by pattern on every master, and checks every master's eviction policy", async () => {
    const client = createRedis({}, cfg()) as Cluster;
    try {
      const nodes = await masters(client);
      expect(nodes).toHaveLength(3);
      // Keys of many slots, so that each master holds some.
      for (let i = 0; i < 60; i++) await client.set(`t-modes:{${i}}`, "x");
      for (const node of nodes) expect((await node.keys("t-modes:*")).length, nodeName(node)).toBeGreaterThan(0);
      expect(await deleteKeys("t-modes:*", cfg())).toBe(60);
      for (const node of nodes) expect(await node.keys("t-modes:*")).toEqual([]);

      expect(await evictionPolicy(client)).toBe("noeviction");
      await nodes[1]!.config("SET", "maxmemory-policy", "allkeys-lru");
      try {
        expect(await evictionPolicy(client)).toContain(`allkeys-lru on ${nodeName(nodes[1]!)}`);
        const health = await run("cli.ts", ["health"], env());
        expect(health.code).toBe(1);
        expect(health.stdout).toContain(`allkeys-lru on ${nodeName(nodes[1]!)}`);
      } finally {
        await nodes[1]!.config("SET", "maxmemory-policy", "noeviction");
      }
    } finally {
      client.disconnect();
    }
  });

  it("`bun cli health` passes with a SET/GET on every master", async () => {
    const health = await run("cli.ts", ["health", "--json"], env());
    expect(health.code).toBe(0);
    const { checks } = JSON.parse(health.stdout) as { checks: { check: string; ok: boolean; detail: string }[] };
    expect(checks[0]).toEqual({
      check: "redis",
      ok: true,
      detail: `cluster ${cluster.nodes}, 3 masters answer, maxmemory-policy noeviction`,
    });
  });

  it("`bun cli health` fails on a single-node connection to a cluster node (it answers PING)", async () => {
    const port = cluster.ports[0]!;
    const health = await run("cli.ts", ["health"], {
      REDIS_URL: `redis://127.0.0.1:${port}`,
      REDIS_CLUSTER_NODES: "",
      QUEUE_PREFIX: "t-modes",
    });
    expect(health.code).toBe(1);
    expect(health.stdout).toContain("this server is a Redis Cluster node: set REDIS_CLUSTER_NODES");
  });
});

describe("through Sentinel", () => {
  let server: PrivateRedis;
  let sentinel: ChildProcess | undefined;
  let sentinelPort = 0;
  const dir = mkdtempSync(join(tmpdir(), "kb-sentinel-"));
  beforeAll(async () => {
    server = await startRedisServer();
    sentinelPort = await freePort();
    const conf = join(dir, "sentinel.conf"); // Sentinel rewrites its file: it must be writable
    writeFileSync(conf, `port ${sentinelPort}\nbind 127.0.0.1\nsentinel monitor kbmaster 127.0.0.1 ${new URL(server.url).port} 1\n`);
    sentinel = spawn("redis-server", [conf, "--sentinel"], { stdio: "ignore" });
    const probe = new Redis({ port: sentinelPort, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 1 });
    probe.on("error", () => {});
    await until(
      async () => {
        if (probe.status !== "ready") await probe.connect().catch(() => {});
        return ((await probe.call("SENTINEL", "get-master-addr-by-name", "kbmaster").catch(() => null)) as string[] | null) !== null;
      },
      20_000,
      "the Sentinel to watch its master",
    );
    probe.disconnect();
  });
  afterAll(async () => {
    sentinel?.kill("SIGTERM");
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("finds the master through the Sentinels: keys land on it and `bun cli health` passes", async () => {
    const env = {
      REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`,
      REDIS_SENTINEL_NAME: "kbmaster",
      QUEUE_PREFIX: "t-modes",
      REDIS_CLUSTER_NODES: "",
    };
    const client = createRedis({}, parseConfig(env));
    const direct = new Redis(server.url);
    try {
      await client.set("t-modes:sentinel", "found");
      expect(await direct.get("t-modes:sentinel")).toBe("found");
    } finally {
      client.disconnect();
      direct.disconnect();
    }
    const health = await run("cli.ts", ["health"], env);
    expect(health.code).toBe(0);
    expect(health.stdout).toContain(`ok   redis: sentinel kbmaster at 127.0.0.1:${sentinelPort}, maxmemory-policy noeviction`);
  });
});

describe("health on a connection that answers PING and nothing else", () => {
  let server: PrivateRedis;
  beforeAll(async () => {
    server = await startRedisServer();
    const admin = new Redis(server.url);
    // What a connection that pings while every command fails looks like (an ACL, like a wrong node, does it).
    await admin.call("ACL", "SETUSER", "pinger", "on", ">pinger-password", "-@all", "+ping", "+info", "+config|get", "+client", "+hello");
    admin.disconnect();
  });
  afterAll(() => server?.stop());

  it("`bun cli health` exits 1 naming the refused command, without showing the password", async () => {
    const url = server.url.replace("redis://", "redis://pinger:pinger-password@");
    const health = await run("cli.ts", ["health"], { REDIS_URL: url, REDIS_CLUSTER_NODES: "", QUEUE_PREFIX: "t-modes" });
    expect(health.code).toBe(1);
    expect(health.stdout).toMatch(/FAIL redis: redis:\/\/pinger:\*\*\*@127\.0\.0\.1:\d+: 127\.0\.0\.1:\d+: NOPERM/);
    expect(health.stdout + health.stderr).not.toContain("pinger-password");
  });
});
