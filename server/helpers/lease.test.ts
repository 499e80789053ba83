// The Redis lease against the real Redis: of many callers wanting the same work at once, one does it and
// the others see its result; a holder that dies only delays the others until its lease expires.
import { describe, expect, it } from "vitest";
import { useTestQueues } from "../../test/support/isolation.ts";
import { config } from "./config.ts";
import { tryLease, underLease } from "./lease.ts";
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
