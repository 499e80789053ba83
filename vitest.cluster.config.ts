// The cluster run, `bun run test:cluster`: the suites that must hold on a Redis Cluster as on one Redis
// (ingest exactly once, reconcile after a FLUSHALL of every master, the shared ESI budget: buckets,
// guard, pacing, downtime, worker processes), run again against a private 3-master cluster started for
// the run (test/support/cluster-setup.ts); each file then uses a hash-tagged prefix and its processes
// get REDIS_CLUSTER_NODES.
import { defineConfig } from "vitest/config";
import base from "./vitest.config.ts";

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
      "test/pipeline.test.ts",
      "test/esi-budget.test.ts",
      "test/esi-pacing.test.ts",
      "test/esi-downtime.test.ts",
      "test/esi-workers.test.ts",
    ],
    globalSetup: ["test/support/global-setup.ts", "test/support/cluster-setup.ts"],
    // One file at a time: the worker-process suites (pipeline, esi-workers) share the cluster's one
    // master of their slot and two cores; in parallel they starve each other's job locks.
    fileParallelism: false,
  },
});
