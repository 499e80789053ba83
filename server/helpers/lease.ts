// A short lease in Redis, so that work many processes may want at once (fetching one group of types from
// ESI) is done by one of them: the holder runs it, the others wait until it is done (the lease is
// released) and then look for its result; a holder that died only delays them until the lease expires.
// A fenced lease (acquireFencedLease) is held for as long as its holder lives — the one active R2Z2
// listener — and hands out a fencing token the guarded store checks, so a holder that lost it unaware
// (paused past its TTL) cannot overwrite its successor's work.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { config } from "./config.ts";
import { loadLua, scriptedRedis } from "./lua.ts";
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
 * another process holds it (a singleton's round is then theirs: reconcile, partition upkeep). Released
 * with `keepMs`, the lease stays for that long (the round is done: others skip it) instead of going at once.
 */
export async function tryLease(name: string, leaseMs: number): Promise<((keepMs?: number) => Promise<void>) | undefined> {
  const key = leaseKey(name);
  const token = `${processName()}:${randomBytes(4).toString("hex")}`;
  if ((await redis().set(key, token, "PX", leaseMs, "NX")) !== "OK") return undefined;
  return async (keepMs = 0) => {
    await client().leaseKeep(key, token, keepMs);
  };
}

/** Who holds the lease `name` (host:pid:random, and a fencing token for fenced leases), if anyone. */
export async function leaseHolder(name: string): Promise<string | undefined> {
  return (await redis().get(leaseKey(name))) ?? undefined;
}

const leaseKey = (name: string) => `${config().queuePrefix}:lease:${name}`;

/** This process, as leases and singleton logs name it: host and pid. */
export function processName(): string {
  return `${hostname()}:${process.pid}`;
}

// Keys, arguments and replies are documented in the scripts' headers.
const ACQUIRE = loadLua(new URL("./lua/lease-acquire.lua", import.meta.url));
const KEEP = loadLua(new URL("./lua/lease-keep.lua", import.meta.url));

type LeaseCommands = {
  leaseAcquire(lease: string, fence: string, holder: string, ttlMs: number, floor: number): Promise<[number, string]>;
  leaseKeep(lease: string, value: string, ttlMs: number): Promise<number>;
};

const client = scriptedRedis<LeaseCommands>({ leaseAcquire: ACQUIRE, leaseKeep: KEEP });

/**
 * A lease held by this process for as long as it lives, with a fencing token: a number greater than
 * every token the lease gave before. Whatever the lease guards must refuse a write bearing a lower token
 * than it has seen (a holder paused past its TTL may still believe it holds the lease).
 */
export interface FencedLease {
  fence: number;
  /** Aborted when the lease is lost: taken by another after expiring, or not renewed within its TTL. */
  lost: AbortSignal;
  /** Stops renewing and frees the lease (if still ours), so a standby takes over at once. */
  release(): Promise<void>;
}

export type FencedLeaseAttempt = { lease: FencedLease } | { lease?: undefined; heldBy: string };

/**
 * Takes the lease `name` if nobody holds it, and keeps renewing it every third of `ttlMs` until released
 * or lost. `floor`: the highest fencing token the guarded store holds (the token given is above it).
 * When another process holds it, says who (`host:pid` and its token).
 */
export async function acquireFencedLease(name: string, ttlMs: number, floor = 0): Promise<FencedLeaseAttempt> {
  const key = leaseKey(name);
  const holder = `${processName()}:${randomBytes(3).toString("hex")}`;
  const [fence, value] = await client().leaseAcquire(key, `${key}:fence`, holder, ttlMs, floor);
  if (fence === 0) return { heldBy: value };
  const controller = new AbortController();
  let renewedAt = Date.now();
  let released = false;
  const lose = (reason: string) => {
    clearInterval(timer);
    if (!controller.signal.aborted) controller.abort(new Error(reason));
  };
  let renewing = false;
  const timer = setInterval(
    async () => {
      // Not renewed for a whole TTL (Redis down, or a call that hangs while it reconnects): it may be anyone's.
      if (Date.now() - renewedAt >= ttlMs) return lose("the lease could not be renewed within its TTL");
      if (renewing) return;
      renewing = true;
      try {
        if ((await client().leaseKeep(key, value, ttlMs)) === 1) renewedAt = Date.now();
        else if (!released) lose("the lease expired and was taken by another process");
      } catch {
        // Redis unreachable: the lease is ours until its TTL runs out (checked above).
      } finally {
        renewing = false;
      }
    },
    Math.max(50, Math.floor(ttlMs / 3)),
  );
  timer.unref();
  return {
    lease: {
      fence,
      lost: controller.signal,
      async release() {
        released = true;
        clearInterval(timer);
        // Redis unreachable: the lease simply expires.
        if (!controller.signal.aborted)
          await client()
            .leaseKeep(key, value, 0)
            .catch(() => 0);
      },
    },
  };
}
