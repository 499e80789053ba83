// A Redis of a test's own for what no shared instance allows (FLUSHALL, restarts): a redis-server in the
// ordinary run, a 3-master cluster in the cluster run. Gives the configuration patch for this process,
// the environment for child processes, and a FLUSHALL of every master.
import type { Config } from "../../server/helpers/config.ts";
import { parseConfig } from "../../server/helpers/config.ts";
import { createRedis } from "../../server/helpers/redis.ts";
import { testClusterNodes } from "./isolation.ts";
import { startRedisCluster } from "./redis-cluster.ts";
import { startRedisServer } from "./redis-server.ts";

export interface PrivateRedisTarget {
  config: Partial<Config>;
  env: Record<string, string>;
  flushAll(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPrivateRedis(): Promise<PrivateRedisTarget> {
  if (testClusterNodes()) {
    const cluster = await startRedisCluster();
    const { redisClusterNodes } = parseConfig({ REDIS_CLUSTER_NODES: cluster.nodes, QUEUE_PREFIX: "{t}" });
    return { config: { redisClusterNodes }, env: { REDIS_CLUSTER_NODES: cluster.nodes }, flushAll: cluster.flushAll, stop: cluster.stop };
  }
  const server = await startRedisServer();
  return {
    config: { redisUrl: server.url },
    env: { REDIS_URL: server.url },
    async flushAll() {
      const client = createRedis({}, parseConfig({ REDIS_URL: server.url }));
      await client.flushall();
      client.disconnect();
    },
    stop: server.stop,
  };
}
