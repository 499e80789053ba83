// The ESI client against the in-process simulator: every route function parses the simulator's real
// (spec-valid) answers, the required headers are sent, conditional requests save calls, and every
// outcome reaches a real BullMQ worker the way processors need it (404 gone, 422 no retry, 5xx /
// hang / reset / malformed JSON retried to success, 420 waits without spending an attempt).
import { type Job, UnrecoverableError } from "bullmq";
import { beforeEach, describe, expect, it } from "vitest";
import { budgetEvents, esiKeys } from "../server/esi/budget.ts";
import { COMPATIBILITY_DATE } from "../server/esi/client.ts";
import { InvalidError, NotFoundError } from "../server/esi/errors.ts";
import { withEsi } from "../server/esi/job.ts";
import {
  getAlliance,
  getAllianceCorporations,
  getAlliances,
  getCategory,
  getCharacter,
  getCorporation,
  getGroup,
  getKillmail,
  getMarketHistory,
  getMarketPrices,
  getStatus,
  getType,
  postCharacterAffiliation,
  postUniverseNames,
} from "../server/esi/routes.ts";
import { setUpstreamSettings } from "../server/esi/settings.ts";
import { ConfigError, config, parseConfig, setConfig } from "../server/helpers/config.ts";
import { redis } from "../server/helpers/redis.ts";
import { Priority } from "../server/queues/priority.ts";
import { getQueue } from "../server/queues/queue.ts";
import { deleteKeys, useTestQueues } from "./support/isolation.ts";
import { type FinalJob, runUntilFinal, TEST_USER_AGENT, useSimulator } from "./support/upstream.ts";

const { prefix } = useTestQueues("esi-client");
const { sim } = await useSimulator({ seed: 21 });
const w = sim.world;
const pilots = w.entities.pilots.filter((id) => !w.entities.characters.get(id)!.deleted);
const deleted = w.deletedCharacterIds;

beforeEach(async () => {
  sim.setFaults([]);
  sim.reset();
  await deleteKeys(`${prefix}:esi:*`);
  setUpstreamSettings({ esiTimeoutMs: 10_000, esiErrorLowMark: 20, esiSerialMs: 0 });
});

describe("route functions parse the simulator's answers", () => {
  it("killmail, character, corporation, alliance, lists, universe, markets, status", async () => {
    const rec = w.killmail(5);
    const km = await getKillmail(rec.killmail_id, rec.hash);
    expect(km.data).toEqual(rec.esi);

    const character = await getCharacter(pilots[0]!);
    expect(character.data.name).toBe(w.character(pilots[0]!)!.name);
    expect(character.etag).toMatch(/^"[0-9a-f]{40}"$/);
    expect(character.expires).toBeGreaterThan(Date.now());

    const corporation = await getCorporation(character.data.corporation_id);
    expect(corporation.data.member_count).toBeGreaterThan(0);

    const alliances = await getAlliances();
    expect(alliances.data).toEqual(w.allianceIds());
    const alliance = await getAlliance(alliances.data[0]!);
    expect(alliance.data.ticker).toBe(w.alliance(alliances.data[0]!)!.ticker);
    const members = await getAllianceCorporations(alliances.data[0]!);
    expect(members.data).toEqual(w.allianceCorporations(alliances.data[0]!));

    const typeId = km.data.victim.ship_type_id;
    const type = await getType(typeId);
    expect(type.data.type_id).toBe(typeId);
    const group = await getGroup(type.data.group_id);
    expect(group.data.types).toContain(typeId);
    const category = await getCategory(group.data.category_id);
    expect(category.data.groups).toContain(group.data.group_id);

    const prices = await getMarketPrices();
    expect(prices.data.length).toBeGreaterThan(10);
    const tradable = prices.data.find((p) => p.average_price !== undefined)!.type_id;
    const history = await getMarketHistory(10000002, tradable);
    expect(history.data.length).toBeGreaterThan(0);
    expect(history.data[0]!.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);

    const names = await postUniverseNames([pilots[0]!, character.data.corporation_id, typeId]);
    expect(names.map((n) => n.category).sort()).toEqual(["character", "corporation", "inventory_type"]);

    const status = await getStatus();
    expect(status.data.players).toBeGreaterThan(0);
    expect(Date.parse(status.data.start_time)).toBeLessThanOrEqual(Date.now());

    // Every request named us, pinned the compatibility date (a future or bad one is a 400) and broke no rule.
    const log = sim.requests();
    expect(log.every((r) => r.userAgent === TEST_USER_AGENT && r.status === 200 && r.violations.length === 0)).toBe(true);
    expect(COMPATIBILITY_DATE).toBe("2026-08-18");
  });

  it("POST /characters/affiliation splits more than 1,000 ids into requests of at most 1,000", async () => {
    const ids = pilots.slice(0, 1500);
    expect(ids).toHaveLength(1500);
    const rows = await postCharacterAffiliation([...ids, ...ids.slice(0, 10)]);
    expect(rows.map((r) => r.character_id).sort()).toEqual([...ids].sort());
    expect(
      sim
        .requests()
        .filter((r) => r.route === "affiliation")
        .map((r) => r.status),
    ).toEqual([200, 200]);
    const deletedRow = await postCharacterAffiliation([deleted[0]!]);
    expect(deletedRow).toEqual([{ character_id: deleted[0]!, corporation_id: 1_000_001 }]);
  });

  it("refuses to call anything without a User-Agent (ConfigError), sending nothing", async () => {
    setConfig({ esiUserAgent: undefined });
    try {
      await expect(getCharacter(pilots[1]!)).rejects.toBeInstanceOf(ConfigError);
    } finally {
      setConfig({ esiUserAgent: TEST_USER_AGENT });
    }
    expect(sim.stats().total).toBe(0);
  });

  it("reads its tunables from the environment; a bad value is a ConfigError naming the variable", () => {
    expect(parseConfig({ ESI_ERROR_LOW_MARK: "10", ESI_TIMEOUT_MS: "2500" }).upstream).toMatchObject({
      esiErrorLowMark: 10,
      esiTimeoutMs: 2500,
    });
    expect(parseConfig({}).upstream.esiErrorLowMark).toBe(20);
    expect(() => parseConfig({ ESI_ERROR_LOW_MARK: "lots" })).toThrow(ConfigError);
    expect(() => parseConfig({ ESI_TIMEOUT_MS: "0" })).toThrow(/ESI_TIMEOUT_MS/);
  });
});

describe("conditional requests", () => {
  it("answers from the shared memo before Expires and sends If-None-Match (304) after", async () => {
    const id = pilots[2]!;
    const first = await getCharacter(id);
    expect(first.status).toBe("ok");

    // Before Expires a caller holding that copy gets "not-modified" without any request.
    const again = await getCharacter(id, { etag: first.etag });
    expect(again).toEqual({ status: "not-modified", expires: first.expires });
    expect(sim.stats().total).toBe(1);

    // Expires passes (the memo key expires with it): the refresh is conditional and comes back 304.
    await redis().del(esiKeys().memo(`${config().esiUrl}/characters/${id}`));
    const refresh = await getCharacter(id, { etag: first.etag });
    expect(refresh.status).toBe("not-modified");
    expect(refresh.expires).toBeGreaterThan(Date.now());
    expect(sim.stats().notModified).toBe(1);
    const memo = await redis().hgetall(esiKeys().memo(`${config().esiUrl}/characters/${id}`));
    expect(Number(memo.expires)).toBe(refresh.expires);
    expect(memo.etag).toBe(first.etag);

    // A caller whose copy differs (or who has none) still gets the data.
    const other = await getCharacter(id, { etag: '"stale"' });
    expect(other.status).toBe("ok");
    expect(sim.requests().map((r) => r.status)).toEqual([200, 304, 200]);
  });
});

describe("outcomes", () => {
  it("404 is NotFoundError (gone), 422 is InvalidError; both are BullMQ UnrecoverableErrors", async () => {
    const gone = await getCharacter(deleted[0]!).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(NotFoundError);
    expect(gone).toBeInstanceOf(UnrecoverableError);
    expect((gone as Error).message).toContain("Character not found");
    const rec = w.killmail(1);
    const bad = await getKillmail(rec.killmail_id, "0".repeat(40)).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InvalidError);
    expect(bad).toBeInstanceOf(UnrecoverableError);
    expect((bad as Error).message).toContain("Invalid killmail_id and/or killmail_hash");
  });
});

/** Adds one killmail/character job with fast retries and returns its id. */
async function addJob(queue: "killmail" | "character", data: Record<string, unknown>, attempts = 4): Promise<string> {
  const job = await getQueue(queue).add(queue, data, {
    priority: Priority.routine,
    attempts,
    backoff: { type: "fixed", delay: 100 },
  });
  return String(job.id);
}

const killmailProcessor = async (job: Job) => {
  const { killmailId, hash } = job.data as { killmailId: number; hash: string };
  const { data } = await withEsi(job, () => getKillmail(killmailId, hash));
  return data.killmail_id;
};

const characterProcessor = async (job: Job) => {
  const { id } = job.data as { id: number };
  try {
    const { data } = await withEsi(job, () => getCharacter(id));
    return data.name;
  } catch (err) {
    if (err instanceof NotFoundError) return "deleted";
    throw err;
  }
};

describe("with a real worker", () => {
  it("422 fails once without a retry; 404 is reported as gone", async () => {
    const rec = w.killmail(2);
    const bad = await addJob("killmail", { killmailId: rec.killmail_id, hash: "f".repeat(40) });
    const [badJob] = await runUntilFinal("killmail", killmailProcessor, [bad]);
    expect(badJob!.state).toBe("failed");
    expect(badJob!.job.attemptsMade).toBe(1);
    expect(badJob!.job.failedReason).toContain("422");
    expect(sim.stats().byStatus["422"]).toBe(1);

    const gone = await addJob("character", { id: deleted[1]! });
    const [goneJob] = await runUntilFinal("character", characterProcessor, [gone]);
    expect(goneJob!.state).toBe("completed");
    expect(goneJob!.job.returnvalue).toBe("deleted");
    expect(goneJob!.job.attemptsMade).toBe(1);
  });

  it("a storm of 5xx is retried to success", async () => {
    sim.setFaults({ service: "esi", route: "killmail", errorRate: 1, count: 3 });
    const rec = w.killmail(3);
    const id = await addJob("killmail", { killmailId: rec.killmail_id, hash: rec.hash }, 5);
    const [{ job }] = (await runUntilFinal("killmail", killmailProcessor, [id])) as [FinalJob];
    expect(job.returnvalue).toBe(rec.killmail_id);
    // BullMQ counts the successful attempt too: three failures + one success.
    expect(job.attemptsMade).toBe(4);
    // A 502/503/504 has the budget ask GET /status once (Tranquility answering: a route's fault, not a downtime).
    const log = sim.requests();
    expect(log.filter((r) => r.route === "status").every((r) => r.status === 200)).toBe(true);
    expect(log.filter((r) => r.route === "status").length).toBeLessThanOrEqual(1);
    const statuses = log.filter((r) => r.route === "killmail").map((r) => r.status);
    expect(statuses.slice(0, 3).every((s) => s >= 500)).toBe(true);
    expect(statuses[3]).toBe(200);
  });

  it("a hang hits the timeout and is retried; so are a connection reset and malformed JSON", async () => {
    setUpstreamSettings({ esiTimeoutMs: 400 });
    sim.setFaults([
      { service: "esi", route: "character", hangRate: 1, count: 1 },
      { service: "esi", route: "character", resetRate: 1, count: 1 },
      { service: "esi", route: "character", malformedRate: 1, count: 1 },
    ]);
    const id = await addJob("character", { id: pilots[3]! }, 5);
    const [{ job }] = (await runUntilFinal("character", characterProcessor, [id])) as [FinalJob];
    expect(job.returnvalue).toBe(w.character(pilots[3]!)!.name);
    expect(job.attemptsMade).toBe(4);
    expect(sim.requests().map((r) => r.fault ?? r.status)).toEqual(["hang", "reset", "malformed", 200]);
  });

  it("420 delays the job without spending an attempt; no request is sent until the window is over", async () => {
    sim.forceErrorLimit(2);
    const ids = [await addJob("character", { id: pilots[4]! }, 1), await addJob("character", { id: pilots[5]! }, 1)];
    const jobs = (await runUntilFinal("character", characterProcessor, ids)).map((f) => f.job);
    expect(jobs.map((j) => j.returnvalue)).toEqual([w.character(pilots[4]!)!.name, w.character(pilots[5]!)!.name]);
    // attempts: 1 and no failure: the waits did not count (attemptsMade is 1 = the successful run).
    expect(jobs.map((j) => j.attemptsMade)).toEqual([1, 1]);
    // …though each was started at least twice (blocked once, then run).
    expect(jobs.map((j) => j.attemptsStarted)).toEqual([2, 2]);
    // Requests already in flight may meet the 420; none is sent after the first 420 came back.
    const [guard] = (await budgetEvents()).filter((e) => e.kind === "guard");
    expect(guard).toMatchObject({ reason: "status-420" });
    const log = sim.requests();
    const limited = log.filter((r) => r.status === 420);
    expect(limited.length).toBeGreaterThanOrEqual(1);
    expect(limited.every((r) => r.at <= guard!.setAt)).toBe(true);
    expect(log.filter((r) => r.at > guard!.setAt && r.at < guard!.until)).toEqual([]);
    expect(log.filter((r) => r.status === 200)).toHaveLength(2);
  });
});
