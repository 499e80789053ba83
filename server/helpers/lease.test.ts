// The Redis lease against the real Redis: of many callers wanting the same work at once, one does it and
// the others see its result; a holder that dies only delays the others until its lease expires.
import { describe, expect, it } from "vitest";
import { useTestQueues } from "../../test/support/isolation.ts";
import { until } from "../../test/support/poll.ts";
import { startRedisServer } from "../../test/support/redis-server.ts";
import { config, setConfig } from "./config.ts";
import { acquireFencedLease, tryLease, underLease } from "./lease.ts";
import { redis } from "./redis.ts";

useTestQueues("lease");

describe("underLease", () => {
  it("runs the work once for many concurrent callers; the others wait for its result", async () => {
    let runs = 0;
    let result = false;
    const callers = Array.from({ length: 8 }, () =>
      underLease(
        "group-42",
        async () => result,
        async () => {
          runs++;
          await Bun.sleep(300);
          result = true;
        },
      ),
    );
    await Promise.all(callers);
    expect(runs).toBe(1);
    expect(await redis().exists(`${config().queuePrefix}:lease:group-42`)).toBe(0);
  });

  it("takes over when the holder died without releasing (the lease expires)", async () => {
    await redis().set(`${config().queuePrefix}:lease:group-43`, "someone-dead", "PX", 500);
    let runs = 0;
    await underLease(
      "group-43",
      async () => runs > 0,
      async () => {
        runs++;
      },
      500,
    );
    expect(runs).toBe(1);
  });

  it("tryLease: one holder at a time; released, it can be taken again", async () => {
    const first = await tryLease("reconcile-test", 5_000);
    expect(first).toBeDefined();
    expect(await tryLease("reconcile-test", 5_000)).toBeUndefined();
    await first!();
    const again = await tryLease("reconcile-test", 5_000);
    expect(again).toBeDefined();
    await again!();
  });
});

describe("acquireFencedLease", () => {
  it("one holder at a time, each new holder with a higher fencing token, above the store's floor", async () => {
    const first = await acquireFencedLease("listener-a", 5_000);
    expect(first.lease?.fence).toBe(1);
    const second = await acquireFencedLease("listener-a", 5_000);
    expect(second.lease).toBeUndefined();
    // The standby is told who is active: host:pid:random and the token.
    expect(second.lease ? "" : second.heldBy).toMatch(new RegExp(`^[^ ]+:${process.pid}:[0-9a-f]+ 1$`));
    await first.lease!.release();
    const third = await acquireFencedLease("listener-a", 5_000);
    expect(third.lease?.fence).toBe(2);
    await third.lease!.release();
    // A Redis that lost the counter still hands out a token above what the guarded store has seen.
    await redis().del(`${config().queuePrefix}:lease:listener-a:fence`);
    const fourth = await acquireFencedLease("listener-a", 5_000, 41);
    expect(fourth.lease?.fence).toBe(42);
    await fourth.lease!.release();
  });

  it("is kept past its TTL while its holder lives", async () => {
    const held = await acquireFencedLease("listener-b", 600);
    await Bun.sleep(1_500);
    expect(held.lease!.lost.aborted).toBe(false);
    expect((await acquireFencedLease("listener-b", 600)).lease).toBeUndefined();
    await held.lease!.release();
    expect((await acquireFencedLease("listener-b", 600)).lease?.fence).toBe(2);
  });

  it("reports the lease lost when another process took it (its holder was paused past the TTL)", async () => {
    const held = await acquireFencedLease("listener-c", 5_000);
    // As if the lease had expired during a pause and another process had taken it.
    await redis().set(`${config().queuePrefix}:lease:listener-c`, "other:1:abc 2", "PX", 5_000);
    await until(async () => held.lease!.lost.aborted, 10_000, "the lease reported lost");
    expect((held.lease!.lost.reason as Error).message).toMatch(/taken by another process/);
    await held.lease!.release();
    // Releasing a lost lease leaves the new holder's alone.
    expect(await redis().get(`${config().queuePrefix}:lease:listener-c`)).toBe("other:1:abc 2");
  });
});

describe("acquireFencedLease when Redis goes away", () => {
  it("reports the lease lost once it could not be renewed for a whole TTL", async () => {
    const shared = config().redisUrl;
    const server = await startRedisServer();
    setConfig({ redisUrl: server.url });
    const client = redis();
    client.on("error", () => {}); // refused reconnections, expected here
    try {
      const held = await acquireFencedLease("listener-d", 900);
      await server.stop(); // renewals now fail, or wait while the client reconnects
      await until(async () => held.lease!.lost.aborted, 10_000, "the lease reported lost");
      expect((held.lease!.lost.reason as Error).message).toMatch(/could not be renewed within its TTL/);
      await held.lease!.release();
    } finally {
      setConfig({ redisUrl: shared });
      client.disconnect();
    }
  });
});
