// Per-test-file isolation: a BullMQ prefix of its own (deleted afterwards) and environment variables
// that child processes (CLI, runner) inherit, so test files run in parallel and repeatedly. In the
// cluster run (vitest.cluster.config.ts) the file also points at the run's Redis Cluster, with a
// hash-tagged prefix.
import { randomBytes } from "node:crypto";
import { afterAll, inject } from "vitest";
import { parseConfig, setConfig } from "../../server/helpers/config.ts";
import { closeRedis, deleteKeys } from "../../server/helpers/redis.ts";
import { closeQueues } from "../../server/queues/queue.ts";

export interface TestQueues {
  prefix: string;
  /** Environment for child processes pointing at the same prefix (and cluster). */
  env: Record<string, string>;
}

/** The cluster of the cluster test run, or undefined in the ordinary run (one Redis). */
export function testClusterNodes(): string | undefined {
  return inject("redisClusterNodes") || undefined;
}

/** Gives this test file its own BullMQ prefix; removes every key under it after the file. */
export function useTestQueues(label: string): TestQueues {
  const nodes = testClusterNodes();
  const name = `t-${label}-${randomBytes(4).toString("hex")}`;
  const prefix = nodes ? `{${name}}` : name;
  if (nodes) {
    // Child processes inherit both; this process's configuration gets them now (it may not be read yet).
    process.env.REDIS_CLUSTER_NODES = nodes;
    process.env.QUEUE_PREFIX = prefix;
    setConfig({ redisClusterNodes: parseConfig({ REDIS_CLUSTER_NODES: nodes, QUEUE_PREFIX: prefix }).redisClusterNodes });
  }
  setConfig({ queuePrefix: prefix, logLevel: "silent" });
  afterAll(async () => {
    await closeQueues();
    await closeRedis();
    await deleteKeys(`${prefix}:*`);
  });
  return {
    prefix,
    env: { QUEUE_PREFIX: prefix, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "warn", ...(nodes ? { REDIS_CLUSTER_NODES: nodes } : {}) },
  };
}

export { deleteKeys } from "../../server/helpers/redis.ts";
