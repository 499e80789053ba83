// Per-test-file isolation: a BullMQ prefix of its own (deleted afterwards) and environment variables
// that child processes (CLI, runner) inherit, so test files run in parallel and repeatedly.
import { randomBytes } from "node:crypto";
import { afterAll } from "vitest";
import { setConfig } from "../../server/helpers/config.ts";
import { closeRedis, deleteKeys } from "../../server/helpers/redis.ts";
import { closeQueues } from "../../server/queues/queue.ts";

export interface TestQueues {
  prefix: string;
  /** Environment for child processes pointing at the same prefix. */
  env: Record<string, string>;
}

/** Gives this test file its own BullMQ prefix; removes every key under it after the file. */
export function useTestQueues(label: string): TestQueues {
  const prefix = `t-${label}-${randomBytes(4).toString("hex")}`;
  setConfig({ queuePrefix: prefix, logLevel: "silent" });
  afterAll(async () => {
    await closeQueues();
    await closeRedis();
    await deleteKeys(`${prefix}:*`);
  });
  return { prefix, env: { QUEUE_PREFIX: prefix, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "warn" } };
}

export { deleteKeys } from "../../server/helpers/redis.ts";
