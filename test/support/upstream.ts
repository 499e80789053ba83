// Helpers for the upstream-client tests: an in-process simulator with the config pointed at it, and a
// real BullMQ Worker that runs one processor until given jobs reach a final state.
import { type Job, type Processor, Queue, Worker } from "bullmq";
import { afterAll } from "vitest";
import { config, setConfig } from "../../server/helpers/config.ts";
import { createRedis } from "../../server/helpers/redis.ts";
import { cappedBackoff } from "../../server/queues/backoff.ts";
import { type Simulator, type SimulatorOptions, startSimulator } from "../../sim/server.ts";

export const TEST_USER_AGENT = "killboard-tests/1.0 (tests@example.com)";

/** Starts a simulator for this file (stopped after it) and points ESI/zKillboard/R2Z2 URLs at it. */
export async function useSimulator(opts: SimulatorOptions = {}): Promise<{ sim: Simulator; env: Record<string, string> }> {
  const sim = await startSimulator({ seed: 7, killmails: 300, feedRate: 0, quiet: true, ...opts });
  afterAll(() => sim.stop());
  const urls = { esiUrl: sim.url, zkbUrl: `${sim.url}/zkb`, r2z2Url: `${sim.url}/r2z2` };
  setConfig({ ...urls, esiUserAgent: TEST_USER_AGENT });
  return {
    sim,
    env: { ESI_URL: urls.esiUrl, ZKB_URL: urls.zkbUrl, R2Z2_URL: urls.r2z2Url, ESI_USER_AGENT: TEST_USER_AGENT },
  };
}

export type FinalState = "completed" | "failed";

export interface FinalJob {
  job: Job;
  state: FinalState;
}

/**
 * Runs a real Worker on `queue` with `processor` until every job id in `ids` is completed or failed
 * (or timeoutMs passes), then closes it. Returns the jobs as stored (read them, do not call them:
 * their connection is closed) and their final states.
 */
export async function runUntilFinal(queue: string, processor: Processor, ids: string[], timeoutMs = 30_000): Promise<FinalJob[]> {
  const workerConnection = createRedis();
  const queueConnection = createRedis();
  const worker = new Worker(queue, processor, {
    connection: workerConnection,
    prefix: config().queuePrefix,
    concurrency: 4,
    settings: { backoffStrategy: cappedBackoff },
  });
  worker.on("error", () => {});
  const q = new Queue(queue, { connection: queueConnection, prefix: config().queuePrefix });
  try {
    const end = Date.now() + timeoutMs;
    let states: string[];
    for (;;) {
      states = await Promise.all(ids.map((id) => q.getJobState(id)));
      if (states.every((s) => s === "completed" || s === "failed")) break;
      if (Date.now() > end) throw new Error(`jobs not final after ${timeoutMs} ms: ${JSON.stringify(states)}`);
      await Bun.sleep(50);
    }
    const jobs = await Promise.all(ids.map((id) => q.getJob(id)));
    return jobs.map((j, i) => {
      if (!j) throw new Error(`job ${ids[i]} vanished`);
      return { job: j, state: states[i] as FinalState };
    });
  } finally {
    await worker.close();
    await q.close();
    workerConnection.disconnect();
    queueConnection.disconnect();
  }
}
