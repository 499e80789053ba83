// Tranquility downtime against the simulator answering 503 to every ESI route (/status included): the
// first 503 has the budget ask GET /status, which fails too, so every call is refused ("downtime")
// without reaching ESI; only /status probes go out, one at a time and further and further apart; the
// first answer ends it and calls resume by themselves. A real BullMQ job waits it out in the delayed set
// without spending an attempt.
import type { Job } from "bullmq";
import { beforeEach, describe, expect, it } from "vitest";
import { budgetEvents, budgetState } from "../server/esi/budget.ts";
import { EsiBlockedError, RetryableError } from "../server/esi/errors.ts";
import { withEsi } from "../server/esi/job.ts";
import { getCharacter, getCorporation } from "../server/esi/routes.ts";
import { setUpstreamSettings } from "../server/esi/settings.ts";
import { Priority } from "../server/queues/priority.ts";
import { getQueue } from "../server/queues/queue.ts";
import { deleteKeys, useTestQueues } from "./support/isolation.ts";
import { until } from "./support/poll.ts";
import { runUntilFinal, useSimulator } from "./support/upstream.ts";

const { prefix } = useTestQueues("esi-downtime");
const { sim } = await useSimulator({ seed: 36 });
const w = sim.world;
const pilots = w.entities.pilots.filter((id) => !w.entities.characters.get(id)!.deleted);
const corporations = [...w.entities.corporations.values()].filter((c) => !c.npc).map((c) => c.id);
const TRANQUILITY_DOWN = { service: "esi" as const, errorRate: 1, errorStatuses: [503 as const] };

beforeEach(async () => {
  sim.setFaults([]);
  sim.reset();
  await deleteKeys(`${prefix}:esi:*`);
  setUpstreamSettings({ esiTimeoutMs: 3_000, esiMaxInlineWaitMs: 3_000, esiDowntimeStreak: 3, esiDowntimeProbeMs: 1_000 });
});

const blockedReason = (e: unknown) => (e instanceof EsiBlockedError ? e.reason : e);

describe("Tranquility downtime", () => {
  it("refuses every call while ESI answers 503, lets only spaced /status probes through, and resumes by itself", async () => {
    sim.setFaults(TRANQUILITY_DOWN);
    // The first 503: /status is asked and fails too, so this call waits instead of failing.
    const first = await getCharacter(pilots[0]!, { maxWaitMs: 0 }).catch((e: unknown) => e);
    expect(blockedReason(first)).toBe("downtime");
    const [down] = (await budgetEvents()).filter((e) => e.kind === "downtime");
    expect(down).toMatchObject({ reason: "status-503", routes: { "/characters/{character_id}": 1, "/status": 1 } });
    expect((await budgetState()).downtime).toMatchObject({ since: down!.setAt, reason: "status-503" });

    // Six seconds of callers: every one refused; ESI sees only the probes.
    const outcomes: unknown[] = [];
    const end = Date.now() + 6_000;
    for (let i = 0; Date.now() < end; i++) {
      outcomes.push(await getCharacter(pilots[1 + (i % 20)]!, { maxWaitMs: 0 }).catch((e: unknown) => e));
      await Bun.sleep(100);
    }
    expect(outcomes.length).toBeGreaterThan(20);
    expect(outcomes.every((o) => blockedReason(o) === "downtime")).toBe(true);
    const during = sim.requests().filter((r) => r.at > down!.setAt);
    expect(during.every((r) => r.route === "status" && r.status === 503)).toBe(true);
    // 1 s after the start, then 2 s, then 4 s: one at a time, further and further apart.
    const times = [down!.setAt, ...during.map((r) => r.at)];
    const gaps = times.slice(1).map((at, i) => at - times[i]!);
    expect(gaps.length).toBeGreaterThanOrEqual(2);
    expect(gaps.length).toBeLessThanOrEqual(3);
    for (const [i, gap] of gaps.entries()) expect(gap).toBeGreaterThanOrEqual(1_000 * 2 ** i - 50);

    // Tranquility is back: a caller willing to wait gets its answer once the next probe succeeds.
    sim.setFaults([]);
    const back = await getCharacter(pilots[30]!, { maxWaitMs: 10_000 });
    expect(back.data.name).toBe(w.character(pilots[30]!)!.name);
    const ended = (await budgetEvents()).filter((e) => e.kind === "downtime-end");
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ route: "/status", reason: "status-200", since: down!.setAt });
    expect((await budgetState()).downtime).toBeNull();
    const after = sim.requests().filter((r) => r.at >= ended[0]!.setAt - 1_000 && r.status === 200);
    expect(after.map((r) => r.route)).toEqual(["status", "character"]);
    expect((await budgetEvents()).filter((e) => e.kind === "downtime")).toHaveLength(1);
  }, 30_000);

  it("a 503 on one route with /status answering is the route's fault: a retryable error, no downtime", async () => {
    sim.setFaults({ ...TRANQUILITY_DOWN, route: "character", count: 1 });
    const err = await getCharacter(pilots[0]!, { maxWaitMs: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect((await budgetState()).downtime).toBeNull();
    expect(sim.requests().map((r) => `${r.route} ${r.status}`)).toEqual(["character 503", "status 200"]);
  });

  it("a run of 503s from two routes is a downtime even while /status still answers", async () => {
    sim.setFaults([
      { ...TRANQUILITY_DOWN, route: "character" },
      { ...TRANQUILITY_DOWN, route: "corporation" },
    ]);
    const outcomes = [
      await getCharacter(pilots[0]!, { maxWaitMs: 0 }).catch((e: unknown) => e),
      await getCorporation(corporations[0]!, { maxWaitMs: 0 }).catch((e: unknown) => e),
      await getCharacter(pilots[1]!, { maxWaitMs: 0 }).catch((e: unknown) => e),
      await getCorporation(corporations[1]!, { maxWaitMs: 0 }).catch((e: unknown) => e),
      await getCharacter(pilots[2]!, { maxWaitMs: 0 }).catch((e: unknown) => e),
    ];
    // /status answered after the first 503 (a route's fault so far, and /status stays fresh for 30 s);
    // the third 503 in a row after it, from two routes, makes it a downtime; then nothing goes out.
    expect(outcomes.map((o) => (o instanceof RetryableError ? "retry" : blockedReason(o)))).toEqual([
      "retry",
      "retry",
      "retry",
      "downtime",
      "downtime",
    ]);
    const [down] = (await budgetEvents()).filter((e) => e.kind === "downtime");
    expect(down).toMatchObject({
      reason: "5xx-streak",
      count: 3,
      routes: { "/characters/{character_id}": 1, "/corporations/{corporation_id}": 2 },
    });
    expect(sim.requests().map((r) => r.route)).toEqual(["character", "status", "corporation", "character", "corporation"]);
  });

  it("a real job meeting the downtime waits in the delayed set without spending an attempt, then completes", async () => {
    sim.setFaults(TRANQUILITY_DOWN);
    const job = await getQueue("character").add("character", { id: pilots[5]! }, { priority: Priority.enrichment, attempts: 1 });
    const processor = async (j: Job) => (await withEsi(j, () => getCharacter((j.data as { id: number }).id))).data.name;
    const final = runUntilFinal("character", processor, [String(job.id)], 40_000);
    await until(async () => (await budgetState()).downtime !== null, 10_000, "the downtime");
    await Bun.sleep(2_500);
    sim.setFaults([]);
    const [done] = await final;
    expect(done!.state).toBe("completed");
    expect(done!.job.returnvalue).toBe(w.character(pilots[5]!)!.name);
    // attempts: 1, and it completed: no run counted as a failure; it was started more than once.
    expect(done!.job.attemptsMade).toBe(1);
    expect(done!.job.attemptsStarted).toBeGreaterThanOrEqual(2);
    const kinds = (await budgetEvents()).map((e) => e.kind).reverse();
    expect(kinds).toEqual(["downtime", "downtime-end"]);
    // The character was asked twice: the 503 that began it, then the answer after it.
    expect(
      sim
        .requests()
        .filter((r) => r.route === "character")
        .map((r) => r.status),
    ).toEqual([503, 200]);
  }, 60_000);
});
