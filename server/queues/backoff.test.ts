// The capped exponential backoff: doubling from the queue's delay, never above its cap, jitter only
// ever shortening a delay.
import { describe, expect, it } from "vitest";
import { retryDelay } from "./backoff.ts";

const retry = { attempts: 8, delay: 1_000, maxDelay: 60_000, jitter: 0.5 };

describe("retryDelay", () => {
  it("doubles from the declared delay and stops at the cap", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) => retryDelay(retry, n, 0))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000,
    ]);
  });

  it("takes at most `jitter` of a delay off", () => {
    expect(retryDelay(retry, 3, 1)).toBe(2_000);
    expect(retryDelay(retry, 10, 0.5)).toBe(45_000);
    expect(retryDelay({ ...retry, jitter: 0 }, 4, 0.9)).toBe(8_000);
  });
});
