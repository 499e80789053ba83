// The zKillboard API and R2Z2 clients against the in-process simulator: full and legacy API pages,
// one request per second shared by two processes, errors mapped for processors; R2Z2 sequence,
// envelopes (null past the head), daily history, and bounded retries of 5xx inside the client.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EsiBlockedError, RetryableError } from "../server/esi/errors.ts";
import { setUpstreamSettings } from "../server/esi/settings.ts";
import { getZkbKills, parseZkbPage } from "../server/zkb/api.ts";
import { getEphemeral, getHistoryDay, getHistoryRaw, getHistoryTotals, getSequence } from "../server/zkb/r2z2.ts";
import { SEQUENCE_BASE } from "../sim/routes/r2z2.ts";
import { deleteKeys, useTestQueues } from "./support/isolation.ts";
import { killAll, start } from "./support/spawn.ts";
import { TEST_USER_AGENT, useSimulator } from "./support/upstream.ts";

const { prefix, env: queueEnv } = useTestQueues("zkb");
const { sim, env: simEnv } = await useSimulator({ seed: 55, killmails: 400, zkbDelaySeconds: 0 });
const w = sim.world;

afterEach(killAll);
beforeEach(async () => {
  sim.setFaults([]);
  sim.reset();
  await deleteKeys(`${prefix}:zkb:*`);
  await deleteKeys(`${prefix}:r2z2:*`);
  setUpstreamSettings({ zkbIntervalMs: 1_100, r2z2Attempts: 4, r2z2BackoffMs: 50, esiMaxInlineWaitMs: 3_000 });
});

/** Player corporations with published kills, most kills first. */
const corporations = [...w.entities.corporations.values()]
  .filter((c) => !c.npc)
  .map((c) => ({ id: c.id, kills: w.entityKills("corporation", c.id).filter((i) => w.isPublished(i)) }))
  .filter((c) => c.kills.length > 0)
  .sort((a, b) => b.kills.length - a.kills.length);

describe("zKillboard API", () => {
  it("parses a page of full killmails with zkb, newest first", async () => {
    const corp = corporations[0]!;
    const kills = await getZkbKills("corporationID", corp.id);
    expect(kills.map((k) => k.killmailId)).toEqual(corp.kills.slice(0, 200).map((i) => w.idOfIndex(i)));
    const first = w.killmail(corp.kills[0]!);
    expect(kills[0]).toEqual({ killmailId: first.killmail_id, hash: first.hash, esi: first.esi, zkb: first.zkb });
    const [req] = sim.requests();
    expect(req).toMatchObject({ url: `/zkb/corporationID/${corp.id}/page/1/`, status: 200, userAgent: TEST_USER_AGENT, violations: [] });
  });

  it("accepts the legacy [{killmail_id, zkb}] form (ids and hashes only)", () => {
    const recs = [w.killmail(1), w.killmail(2)];
    const page = parseZkbPage(recs.map((r) => ({ killmail_id: r.killmail_id, zkb: r.zkb })));
    expect(page).toEqual(recs.map((r) => ({ killmailId: r.killmail_id, hash: r.hash, esi: undefined, zkb: r.zkb })));
    expect(() => parseZkbPage([{ killmail_id: 1 }])).toThrow(/element 0/);
  });

  it("maps errors: 5xx and malformed bodies retry; a 429 becomes a wait for every caller", async () => {
    const corp = corporations[1]!;
    sim.setFaults({ service: "zkb", errorRate: 1, count: 1 });
    await expect(getZkbKills("corporationID", corp.id)).rejects.toBeInstanceOf(RetryableError);
    sim.setFaults({ service: "zkb", malformedRate: 1, count: 1 });
    await expect(getZkbKills("corporationID", corp.id)).rejects.toBeInstanceOf(RetryableError);
    await expect(getZkbKills("corporationID", corp.id, 0)).rejects.toBeInstanceOf(TypeError);

    // Someone else on this IP uses the next second: our request meets a 429, and the Retry-After
    // then holds every caller back without a request.
    await Bun.sleep(1_100);
    const other = await fetch(`${sim.url}/zkb/corporationID/${corp.id}/page/1/`, {
      headers: { "User-Agent": "someone-else/1.0 (x@example.com)", "Accept-Encoding": "gzip" },
    });
    expect(other.status).toBe(200);
    setUpstreamSettings({ zkbIntervalMs: 0 });
    const limited = await getZkbKills("corporationID", corp.id, 1, { maxWaitMs: 0 }).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(EsiBlockedError);
    expect((limited as EsiBlockedError).reason).toBe("rate-limit");
    const paused = await getZkbKills("corporationID", corp.id, 1, { maxWaitMs: 0 }).catch((e: unknown) => e);
    expect(paused).toBeInstanceOf(EsiBlockedError);
    const later = await getZkbKills("corporationID", corp.id, 1, { maxWaitMs: 5_000 });
    expect(later).toHaveLength(corp.kills.length);
    const ours = sim.requests().filter((r) => r.userAgent === TEST_USER_AGENT);
    expect(ours.map((r) => r.fault ?? r.status)).toEqual(["error", "malformed", 429, 200]);
  });

  it("paces two processes together at one request per second", async () => {
    const ids = corporations.slice(0, 8).map((c) => String(c.id));
    const env = { ...queueEnv, ...simEnv, LOG_LEVEL: "debug" };
    const a = start("test/fixtures/zkb-pace.ts", ids.slice(0, 4), { ...env, ESI_USER_AGENT: `${TEST_USER_AGENT} pace-a` });
    const b = start("test/fixtures/zkb-pace.ts", ids.slice(4), { ...env, ESI_USER_AGENT: `${TEST_USER_AGENT} pace-b` });
    const [ra, rb] = await Promise.all([a.result, b.result]);
    expect([ra.code, rb.code], ra.stderr + rb.stderr).toEqual([0, 0]);
    expect(ra.stdout.trim().split("\n")).toHaveLength(4);
    expect(rb.stdout.trim().split("\n")).toHaveLength(4);

    // When each process sent its requests (its debug log, same clock): together, never two within a
    // second (the client spaces them 1.1 s apart across processes through Redis).
    const sent = [ra, rb]
      .flatMap((r) => r.stderr.split("\n").filter((l) => l.startsWith("{")))
      .map((l) => JSON.parse(l) as { msg: string; sentAt?: number })
      .filter((l) => l.msg === "zkb call")
      .map((l) => l.sentAt!)
      .sort((x, y) => x - y);
    expect(sent.length).toBeGreaterThanOrEqual(8);
    for (let i = 1; i < sent.length; i++) expect(sent[i]! - sent[i - 1]!).toBeGreaterThanOrEqual(1_000);

    // The simulator answered all eight, to both processes. (Its own clock stamps a request when its
    // handler runs; on a loaded machine that can lag by tens of ms, so an occasional 429 is possible:
    // the client then waits Retry-After and asks again, as counted here.)
    const log = sim.requests().filter((r) => r.service === "zkb");
    expect(log.filter((r) => r.status === 200)).toHaveLength(8);
    expect(log.length).toBe(sent.length);
    expect(new Set(log.map((r) => r.userAgent?.split(" ").at(-1)))).toEqual(new Set(["pace-a", "pace-b"]));
  }, 60_000);
});

describe("R2Z2", () => {
  it("reads the sequence and envelopes, and answers null past the head", async () => {
    const sequence = await getSequence();
    const head = w.feedHead();
    expect(sequence).toBeLessThanOrEqual(SEQUENCE_BASE + head - 1);
    const envelope = await getEphemeral(sequence);
    const rec = w.killmail(sequence - SEQUENCE_BASE);
    expect(envelope).toMatchObject({ killmail_id: rec.killmail_id, hash: rec.hash, esi: rec.esi, zkb: rec.zkb, sequence_id: sequence });
    expect(await getEphemeral(SEQUENCE_BASE + head - 1)).not.toBeNull();
    expect(await getEphemeral(SEQUENCE_BASE + head)).toBeNull();
    sim.advanceFeed(1);
    expect((await getEphemeral(SEQUENCE_BASE + head))?.killmail_id).toBe(w.idOfIndex(head));
    expect(sim.requests().every((r) => r.userAgent === TEST_USER_AGENT && r.violations.length === 0)).toBe(true);
  });

  it("reads history totals, a day's id→hash map and its raw ESI bodies", async () => {
    const totals = await getHistoryTotals();
    const [day, count] = Object.entries(totals).find(([, n]) => n > 3)!;
    const hashes = await getHistoryDay(day);
    expect(hashes!.size).toBe(count);
    const raw = await getHistoryRaw(day);
    expect([...raw!.keys()].sort()).toEqual([...hashes!.keys()].sort());
    const [id, body] = [...raw!.entries()][0]!;
    expect(body.killmail_id).toBe(id);
    expect(w.killmailById(id)?.hash).toBe(hashes!.get(id));
    expect(await getHistoryDay("19990101")).toBeNull();
    await expect(getHistoryDay("2026-01-01")).rejects.toBeInstanceOf(TypeError);
  });

  it("retries 5xx inside the client, a bounded number of times", async () => {
    sim.setFaults({ service: "r2z2", errorRate: 1, count: 2 });
    expect(await getSequence()).toBeGreaterThan(SEQUENCE_BASE);
    expect(sim.requests().map((r) => (r.status >= 500 ? "5xx" : r.status))).toEqual(["5xx", "5xx", 200]);

    sim.reset();
    sim.setFaults({ service: "r2z2", errorRate: 1 });
    setUpstreamSettings({ r2z2Attempts: 3 });
    await expect(getSequence()).rejects.toBeInstanceOf(RetryableError);
    expect(sim.requests()).toHaveLength(3);
    sim.setFaults([]);
    await expect(getHistoryTotals()).resolves.toBeTypeOf("object");
  });
});
