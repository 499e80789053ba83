// Global setup of the cluster test run (vitest.cluster.config.ts): one private 3-master Redis Cluster for
// all its files, handed to them as `redisClusterNodes` (see isolation.ts); stopped after the run.
import type { TestProject } from "vitest/node";
import { startRedisCluster } from "./redis-cluster.ts";

declare module "vitest" {
  export interface ProvidedContext {
    redisClusterNodes: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startRedisCluster();
  project.provide("redisClusterNodes", cluster.nodes);
  return () => cluster.stop();
}
