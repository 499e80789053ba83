// The error budget's pacing and live reserve against a simulator with a tiny error limit (20 errors per
// 6 s window, low mark 4): a steady stream of 404s that reaches the guard when nothing paces it is spread
// out so that no window ever gets down to the low mark; "normal" callers stop at the low mark + the live
// reserve while "high" ones (an explicit class, withEsiClass, a job of the user tier) still pass.
import type { Job } from "bullmq";
import { beforeEach, describe, expect, it } from "vitest";
import { budgetEvents, budgetState } from "../server/esi/budget.ts";
import { withEsiClass } from "../server/esi/caller.ts";
import { EsiBlockedError, NotFoundError } from "../server/esi/errors.ts";
import { withEsi } from "../server/esi/job.ts";
import { getCharacter } from "../server/esi/routes.ts";
import { setUpstreamSettings } from "../server/esi/settings.ts";
import { Priority } from "../server/queues/priority.ts";
import { getQueue } from "../server/queues/queue.ts";
import type { SimRequest } from "../sim/server.ts";
import { deleteKeys, useTestQueues } from "./support/isolation.ts";
import { runUntilFinal, useSimulator } from "./support/upstream.ts";

const ERROR_LIMIT = 20;
const WINDOW_MS = 6_000;
const LOW_MARK = 4;

const { prefix } = useTestQueues("esi-pacing");
const { sim } = await useSimulator({ seed: 35, limits: { errorLimit: ERROR_LIMIT, errorWindowSeconds: WINDOW_MS / 1000 } });
const w = sim.world;
const pilots = w.entities.pilots.filter((id) => !w.entities.characters.get(id)!.deleted);
/** Ids no character has: ESI answers 404, an error on an error-counted route. */
const unknownIds = Array.from({ length: 80 }, (_, i) => 97_700_000 + i).filter((id) => !w.character(id));

beforeEach(async () => {
  sim.setFaults([]);
  sim.reset();
  await deleteKeys(`${prefix}:esi:*`);
  setUpstreamSettings({ esiTimeoutMs: 5_000, esiErrorLowMark: LOW_MARK, esiSerialMs: 1_000, esiMaxInlineWaitMs: 3_000 });
});

/** One answer that is not an error, so the budget learns the window's full allowance (Remain before any error). */
async function learnAllowance(): Promise<void> {
  await getCharacter(pilots[99]!, { maxWaitMs: 5_000 });
}

/** Looks up `ids` with `concurrency` callers in a row each; every outcome (a value or the error). */
async function stream(ids: number[], concurrency: number, maxWaitMs: number): Promise<unknown[]> {
  const queue = [...ids];
  const outcomes: unknown[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        outcomes.push(
          await getCharacter(id, { maxWaitMs }).then(
            () => "ok",
            (e: unknown) => e,
          ),
        );
      }
    }),
  );
  return outcomes;
}

/**
 * Errors per error window as the simulator counted them: a window opens with the first ESI request
 * after the previous one ended; 4xx/5xx on routes without a bucket count.
 */
function errorsPerWindow(log: SimRequest[]): number[] {
  const out: number[] = [];
  let end = -Infinity;
  for (const r of [...log].sort((a, b) => a.at - b.at)) {
    if (r.service !== "esi") continue;
    if (r.at >= end) {
      out.push(0);
      end = r.at + WINDOW_MS;
    }
    if (r.route !== "killmail" && r.route !== "status" && r.status >= 400 && r.status !== 420) out[out.length - 1]!++;
  }
  return out;
}

describe("pacing", () => {
  it("without it, a steady stream of 404s runs into the guard at the low mark", async () => {
    setUpstreamSettings({ esiPacePercent: 0, esiLiveReserve: 0 });
    const outcomes = await stream(unknownIds.slice(0, 22), 3, 1_000);
    expect(outcomes.filter((o) => o instanceof NotFoundError).length).toBeGreaterThanOrEqual(ERROR_LIMIT - LOW_MARK);
    const guards = (await budgetEvents()).filter((e) => e.kind === "guard");
    expect(guards.length).toBeGreaterThanOrEqual(1);
    expect(guards.at(-1)).toMatchObject({ reason: "low-mark", remain: LOW_MARK });
    expect(Math.max(...errorsPerWindow(sim.requests()))).toBe(ERROR_LIMIT - LOW_MARK);
  });

  it("spreads the same stream so that no window gets down to the low mark: no guard, no 420", async () => {
    setUpstreamSettings({ esiPacePercent: 50, esiLiveReserve: 0 });
    await learnAllowance();
    const ids = unknownIds.slice(0, 26);
    const outcomes = await stream(ids, 3, 30_000);
    // Every lookup was made (slowly, not refused): each ended as "gone".
    expect(outcomes.filter((o) => o instanceof NotFoundError)).toHaveLength(ids.length);

    const events = await budgetEvents();
    expect(events.filter((e) => e.kind === "guard")).toEqual([]);
    expect(sim.stats().errorLimited).toBe(0);
    // At most max - low mark - 1 errors in any window: one above the floor even though every request failed.
    const windows = errorsPerWindow(sim.requests());
    expect(windows.length).toBeGreaterThanOrEqual(2);
    for (const n of windows) expect(n).toBeLessThanOrEqual(ERROR_LIMIT - LOW_MARK - 1);

    // Pacing began once half of the errors above the floor were spent (threshold 4 + 8 = 12), reported once.
    const pacing = events.filter((e) => e.kind === "pacing");
    expect(pacing).toHaveLength(1);
    expect(pacing[0]).toMatchObject({ threshold: 12, max: ERROR_LIMIT });
    expect(pacing[0]!.remain).toBeLessThanOrEqual(12);
    expect(pacing[0]!.routes!["/characters/{character_id}"]).toBeGreaterThanOrEqual(ERROR_LIMIT - 12);
    // After it, requests of the first window went out one by one, spaced: fewer than the threshold allows.
    const first = sim.requests().filter((r) => r.at >= pacing[0]!.setAt && r.at < pacing[0]!.until);
    expect(first.length).toBeLessThanOrEqual(12 - LOW_MARK - 1);
    expect((await budgetState()).pacing).toBe(true);
  }, 60_000);

  it("spends errors, not requests: a paced window with few errors admits more requests than errors it had left", async () => {
    setUpstreamSettings({ esiPacePercent: 50, esiLiveReserve: 0 });
    await learnAllowance();
    // Down to the threshold (12 of 20) with errors, then lookups of which one in six is an error.
    await stream(unknownIds.slice(0, 8), 1, 5_000);
    const mixed = Array.from({ length: 48 }, (_, i) => (i % 6 === 0 ? unknownIds[20 + i / 6]! : pilots[100 + i]!));
    const outcomes = await stream(mixed, 3, 30_000);
    expect(outcomes.filter((o) => o === "ok")).toHaveLength(40);
    expect(outcomes.filter((o) => o instanceof NotFoundError)).toHaveLength(8);

    const [pacing] = (await budgetEvents()).filter((e) => e.kind === "pacing");
    expect(pacing).toMatchObject({ remain: 12, threshold: 12 });
    // 12 - 4 - 1 = 7 more errors fit in this window; answers that are not errors leave them untouched, so
    // more requests went (and the share of errors pacing expects fell with them).
    const rest = sim.requests().filter((r) => r.at >= pacing!.setAt && r.at < pacing!.until);
    expect(rest.length).toBeGreaterThan(12 - LOW_MARK - 1);
    for (const n of errorsPerWindow(sim.requests())) expect(n).toBeLessThanOrEqual(ERROR_LIMIT - LOW_MARK - 1);
    expect((await budgetEvents()).filter((e) => e.kind === "guard")).toEqual([]);
    expect((await budgetState()).errorShare).toBeLessThan(0.5);
  }, 60_000);
});

describe("live reserve", () => {
  const characterProcessor = async (job: Job) => {
    const { id } = job.data as { id: number };
    return (await withEsi(job, () => getCharacter(id))).data.name;
  };

  it("refuses normal callers at the low mark + reserve; high callers and user-tier jobs still pass", async () => {
    setUpstreamSettings({ esiPacePercent: 0, esiLiveReserve: 6 });
    const floor = LOW_MARK + 6;
    await learnAllowance();
    // Spend the window down to the normal floor with 404s (normal callers, one at a time).
    const spent = await stream(unknownIds.slice(0, ERROR_LIMIT - floor), 1, 5_000);
    expect(spent.every((o) => o instanceof NotFoundError)).toBe(true);

    const refused = await getCharacter(pilots[0]!, { maxWaitMs: 0 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(EsiBlockedError);
    expect((refused as EsiBlockedError).reason).toBe("reserve");
    const requestsBefore = sim.requests().length;

    // High callers: by option, by the surrounding class, and an error among them (down to the low mark).
    expect((await getCharacter(pilots[1]!, { class: "high", maxWaitMs: 0 })).data.name).toBe(w.character(pilots[1]!)!.name);
    expect((await withEsiClass("high", () => getCharacter(pilots[2]!, { maxWaitMs: 0 }))).status).toBe("ok");
    await expect(withEsiClass("high", () => getCharacter(unknownIds[40]!, { maxWaitMs: 0 }))).rejects.toBeInstanceOf(NotFoundError);
    expect(sim.requests().length).toBe(requestsBefore + 3);

    const [reserve] = (await budgetEvents()).filter((e) => e.kind === "reserve");
    expect(reserve).toMatchObject({
      remain: floor,
      floor,
      max: ERROR_LIMIT,
      routes: { "/characters/{character_id}": ERROR_LIMIT - floor },
    });
    expect((await budgetState()).reserve).toBe(true);

    // Jobs: the user tier passes inside the reserve; enrichment waits (delayed, no attempt) for the new window.
    const queue = getQueue("character");
    const high = await queue.add("character", { id: pilots[3]! }, { priority: Priority.user, attempts: 1 });
    const normal = await queue.add("character", { id: pilots[4]! }, { priority: Priority.enrichment, attempts: 1 });
    const [h, n] = await runUntilFinal("character", characterProcessor, [String(high.id), String(normal.id)], 30_000);
    expect([h!.state, n!.state]).toEqual(["completed", "completed"]);
    expect(h!.job.attemptsStarted).toBe(1);
    expect(n!.job.attemptsMade).toBe(1);
    expect(n!.job.attemptsStarted).toBeGreaterThanOrEqual(2);
    const at = (id: number) => sim.requests().find((r) => r.url.endsWith(`/characters/${id}`))!.at;
    expect(at(pilots[3]!)).toBeLessThan(reserve!.until);
    expect(at(pilots[4]!)).toBeGreaterThanOrEqual(reserve!.until);

    // The new window released the reserve: reported once, and no guard at any point.
    const kinds = (await budgetEvents()).map((e) => e.kind).reverse();
    expect(kinds).toEqual(["reserve", "reserve-end"]);
  }, 60_000);
});
