// A short lease in Redis, so that work many processes may want at once (fetching one group of types from
// ESI) is done by one of them: the holder runs it, the others wait until it is done (the lease is
// released) and then look for its result; a holder that died only delays them until the lease expires.
import { randomBytes } from "node:crypto";
import { config } from "./config.ts";
import { redis } from "./redis.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `work` under the lease `name` unless `done()` says the result is there already; while another
 * process holds the lease, waits for it (polling `done`) and then takes the lease itself if still needed.
 */
export async function underLease(name: string, done: () => Promise<boolean>, work: () => Promise<void>, leaseMs = 30_000): Promise<void> {
  const key = `${config().queuePrefix}:lease:${name}`;
  const token = randomBytes(8).toString("hex");
  for (;;) {
    if (await done()) return;
    if ((await redis().set(key, token, "PX", leaseMs, "NX")) === "OK") {
      try {
        if (!(await done())) await work();
      } finally {
        // Released only by its holder (an expired lease may belong to someone else by now).
        if ((await redis().get(key)) === token) await redis().del(key);
      }
      return;
    }
    await sleep(200);
  }
}

/**
 * Takes the lease `name` for `leaseMs` if nobody holds it; returns a release function, or undefined when
 * another process holds it (a singleton's round is then theirs: reconcile, partition upkeep).
 */
export async function tryLease(name: string, leaseMs: number): Promise<(() => Promise<void>) | undefined> {
  const key = `${config().queuePrefix}:lease:${name}`;
  const token = randomBytes(8).toString("hex");
  if ((await redis().set(key, token, "PX", leaseMs, "NX")) !== "OK") return undefined;
  return async () => {
    if ((await redis().get(key)) === token) await redis().del(key);
  };
}
