// The shared ESI budget against a simulator with tiny limits: the killmail token bucket is learned from
// the first answer and never overspent, a 429 (tokens spent by someone else on the same IP) pauses the
// group for everyone until Retry-After, and the error-limit guard stops all calls at the low mark
// until the window resets, then lets one request through at a time.
import { beforeEach, describe, expect, it } from "vitest";
import { acquire, budgetEvents, budgetState, settle } from "../server/esi/budget.ts";
import { EsiBlockedError, NotFoundError } from "../server/esi/errors.ts";
import { getCharacter, getKillmail } from "../server/esi/routes.ts";
import { setUpstreamSettings } from "../server/esi/settings.ts";
import { deleteKeys, useTestQueues } from "./support/isolation.ts";
import { TEST_USER_AGENT, useSimulator } from "./support/upstream.ts";

const { prefix } = useTestQueues("esi-budget");
const { sim } = await useSimulator({
  seed: 33,
  limits: { killmailTokens: 20, killmailWindowSeconds: 4, errorLimit: 12, errorWindowSeconds: 6 },
});
const w = sim.world;
const pilots = w.entities.pilots.filter((id) => !w.entities.characters.get(id)!.deleted);
/** Ids no character has: ESI answers 404. */
const unknownIds = Array.from({ length: 40 }, (_, i) => 97_500_000 + i).filter((id) => !w.character(id));

beforeEach(async () => {
  sim.setFaults([]);
  sim.reset();
  await deleteKeys(`${prefix}:esi:*`);
  setUpstreamSettings({ esiTimeoutMs: 5_000, esiErrorLowMark: 4, esiSerialMs: 1_500, esiMaxInlineWaitMs: 3_000 });
});

describe("token buckets", () => {
  it("learns the killmail group's limit from the first answer and paces a burst so no 429 comes back", async () => {
    const kills = Array.from({ length: 16 }, (_, i) => w.killmail(i));
    const results = await Promise.all(kills.map((k) => getKillmail(k.killmail_id, k.hash, { maxWaitMs: 30_000 })));
    expect(results.map((r) => r.data.killmail_id)).toEqual(kills.map((k) => k.killmail_id));
    const stats = sim.stats();
    expect(stats.rateLimited).toBe(0);
    expect(stats.byStatus["200"]).toBe(16);
    // Never more than the bucket's 20 tokens (10 fetches) inside one 4 s window.
    const times = sim.requests().map((r) => r.at);
    for (const t of times) expect(times.filter((u) => u > t - 4_000 && u <= t).length).toBeLessThanOrEqual(10);
  });

  it("a 429 pauses the group for every caller until Retry-After has passed", async () => {
    // Someone else on this IP spends the whole bucket.
    for (let i = 0; i < 10; i++) {
      const k = w.killmail(20 + i);
      const res = await fetch(`${sim.url}/killmails/${k.killmail_id}/${k.hash}`, {
        headers: { "User-Agent": TEST_USER_AGENT, "X-Compatibility-Date": "2026-08-18" },
      });
      expect(res.status).toBe(200);
    }
    const k = w.killmail(40);
    const first = await getKillmail(k.killmail_id, k.hash, { maxWaitMs: 0 }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(EsiBlockedError);
    expect((first as EsiBlockedError).reason).toBe("rate-limit");
    const tooSoon = await getKillmail(k.killmail_id, k.hash, { maxWaitMs: 0 }).catch((e: unknown) => e);
    expect(tooSoon).toBeInstanceOf(EsiBlockedError);
    expect((tooSoon as EsiBlockedError).reason).toBe("pause");

    const later = await getKillmail(k.killmail_id, k.hash, { maxWaitMs: 30_000 });
    expect(later.data.killmail_id).toBe(k.killmail_id);
    const log = sim.requests().filter((r) => r.userAgent === TEST_USER_AGENT && r.method === "GET");
    const limited = log.filter((r) => r.status === 429);
    expect(limited).toHaveLength(1);
    const [pause] = (await budgetEvents()).filter((e) => e.kind === "pause");
    expect(pause).toMatchObject({ reason: "status-429", group: "killmail" });
    // Only the 429 itself and the raw fetches before it; nothing of ours until the pause ended.
    const ours = log.filter((r) => r.at >= limited[0]!.at && r.status !== 429);
    expect(ours.every((r) => r.at >= pause!.until)).toBe(true);
    expect(sim.stats().violationsByKind["ignored-retry-after"] ?? 0).toBe(0);
  });

  it("a 429 with Retry-After: 0 still pauses the group for a second", async () => {
    const ticket = await acquire("/killmails/{killmail_id}/{killmail_hash}");
    await settle(ticket, { status: 429, headers: { "x-ratelimit-group": "killmail", "retry-after": "0" } });
    const blocked = await acquire("/killmails/{killmail_id}/{killmail_hash}", { maxWaitMs: 0 }).catch((e: unknown) => e);
    expect(blocked).toBeInstanceOf(EsiBlockedError);
    expect((blocked as EsiBlockedError).reason).toBe("pause");
    const [pause] = (await budgetEvents()).filter((e) => e.kind === "pause");
    expect(pause!.until - pause!.setAt).toBe(1_000);
  });
});

describe("error-limit guard", () => {
  it("stops every call at the low mark until the reset + 1 s, then sends one request at a time", async () => {
    // The hard floor alone: no pacing before it, no live reserve above it.
    setUpstreamSettings({ esiPacePercent: 0, esiLiveReserve: 0 });
    // 30 lookups of characters that do not exist: each is an error (404) on an error-counted route.
    const outcomes = await Promise.all(
      unknownIds.slice(0, 30).map((id) =>
        getCharacter(id, { maxWaitMs: 1_000 }).then(
          () => "ok",
          (e: unknown) => e,
        ),
      ),
    );
    const gone = outcomes.filter((o) => o instanceof NotFoundError).length;
    const blocked = outcomes.filter((o) => o instanceof EsiBlockedError).length;
    expect(gone + blocked).toBe(30);
    expect(gone).toBeGreaterThanOrEqual(12 - 4);
    // Down to the low mark and not one error more, though up to 7 requests were in flight at a time.
    const guards = (await budgetEvents()).filter((e) => e.kind === "guard");
    expect(guards).toHaveLength(1);
    const guard = guards[0];
    expect(guard).toMatchObject({ reason: "low-mark", remain: 4 });
    expect((await budgetState()).guardUntil).toBe(guard!.until);

    // Calls resume after the guard, one at a time: each request starts after the previous one ended.
    sim.setFaults({ service: "esi", route: "character", latencyMs: 150 });
    const names = await Promise.all(pilots.slice(0, 4).map((id) => getCharacter(id, { maxWaitMs: 30_000 })));
    expect(names.map((n) => n.data.name)).toEqual(pilots.slice(0, 4).map((id) => w.character(id)!.name));

    const stats = sim.stats();
    expect(stats.errorLimited).toBe(0);
    expect(stats.requestsDuring420).toBe(0);
    const log = sim.requests();
    expect(log.filter((r) => r.at > guard!.setAt && r.at < guard!.until)).toHaveLength(0);
    expect((await budgetEvents()).filter((e) => e.kind === "guard")).toHaveLength(1);
    const after = log.filter((r) => r.at >= guard!.until);
    expect(after).toHaveLength(4);
    for (let i = 1; i < after.length; i++) expect(after[i]!.at).toBeGreaterThanOrEqual(after[i - 1]!.at + after[i - 1]!.durationMs);
  });
});
