// `bun cli sync:alliance|corporation|character` as real processes against the simulator's zKillboard
// API: pages with bodies until an empty page or maxPages, backfill tier, kills already stored skipped,
// re-runs enqueue nothing new, SIGKILL mid-sync resumes at the saved page. (The client's 1 request/s
// across processes is tested in zkb.test.ts; here the spacing is shortened to keep the tests quick.)
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sql } from "../server/db/client.ts";
import { readCursor } from "../server/feeds/cursor.ts";
import { type SyncCursor, type SyncResult, syncCursorName } from "../server/imports/zkb-sync.ts";
import { Priority } from "../server/queues/priority.ts";
import { type Simulator, startSimulator } from "../sim/server.ts";
import { useTestDatabase } from "./support/database.ts";
import { intakeRows, parseJson, queuedKills, simEnv, storeSimKills } from "./support/imports.ts";
import { useTestQueues } from "./support/isolation.ts";
import { until } from "./support/poll.ts";
import { killAll, run, start } from "./support/spawn.ts";

const queues = useTestQueues("sync-zkb");
const database = useTestDatabase("sync-zkb");
afterEach(killAll);
let sim: Simulator;
let env: Record<string, string>;

beforeAll(async () => {
  sim = await startSimulator({
    seed: 23,
    killmails: 2500,
    days: 10,
    feedRate: 0,
    feedShare: 0,
    zkbDelaySeconds: 0,
    corpus: false,
    catalog: "builtin",
    quiet: true,
    limits: { zkbPerSecond: 0 },
  });
  env = { ...queues.env, ...database.env, ...simEnv(sim), ZKB_INTERVAL_MS: "300" };
});
afterAll(() => sim.stop());

/** The entity of a kind with the most kills (newest first, as the API lists them). */
function busiest(kind: "alliance" | "corporation" | "character", ids: number[]): { id: number; kills: number[] } {
  let best = { id: 0, kills: [] as number[] };
  for (const id of ids) {
    const kills = sim.world.entityKills(kind, id);
    if (kills.length > best.kills.length) best = { id, kills };
  }
  return { id: best.id, kills: best.kills.map((i) => sim.world.idOfIndex(i)) };
}

const sync = (kind: string, ...args: string[]) => run("cli.ts", [`sync:${kind}`, ...args, "--json"], env);
const zkbPages = () =>
  sim
    .requests()
    .filter((r) => r.service === "zkb" && r.status === 200)
    .map((r) => r.url);

describe("sync:*", () => {
  it("usage errors exit 2", async () => {
    expect((await run("cli.ts", ["sync:alliance", "abc"], env)).code).toBe(2);
    const tooMany = await run("cli.ts", ["sync:alliance", "99000001", "101"], env);
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toContain("maxPages must be 1–100");
  });

  it("sync:alliance reads pages with bodies until an empty one, at the backfill tier, skipping stored kills; a rerun adds nothing", async () => {
    const { id, kills } = busiest("alliance", sim.world.allianceIds());
    expect(kills.length).toBeGreaterThan(400); // three pages of 200 and an empty fourth
    await storeSimKills([sim.world.killmailById(kills[0]!)!, sim.world.killmailById(kills[300]!)!]);
    sim.reset();
    const res = await sync("alliance", String(id));
    expect(res.code, res.stderr).toBe(0);
    const pages = Math.ceil(kills.length / 200);
    expect(parseJson<SyncResult>(res.stdout, res.stderr)).toMatchObject({
      kind: "alliance",
      id,
      firstPage: 1,
      pages: pages + 1,
      stoppedBy: "empty-page",
      counts: { read: kills.length, alreadyStored: 2, enqueued: kills.length - 2, alreadyQueued: 0, bodyless: 0, invalid: 0 },
    });
    expect(zkbPages()).toEqual(Array.from({ length: pages + 1 }, (_, i) => `/zkb/allianceID/${id}/page/${i + 1}/`));

    const ids = new Set(kills.slice(1));
    ids.delete(kills[300]!);
    const rows = await intakeRows();
    expect(rows.map((r) => r.id).sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
    expect(rows.every((r) => r.source === "zkb" && r.hasBody && r.priority === Priority.backfill)).toBe(true);
    const queued = await queuedKills();
    expect(queued).toHaveLength(ids.size);
    for (const k of queued) {
      const kill = sim.world.killmailById(k.killmailId)!;
      expect(k.priority).toBe(Priority.backfill);
      expect(k.inBatch).toBe(true);
      expect({ killmailId: k.killmailId, hash: k.hash, esi: k.esi }).toEqual({
        killmailId: kill.killmail_id,
        hash: kill.hash,
        esi: kill.esi,
      });
    }
    expect(await readCursor<SyncCursor>(syncCursorName("alliance", id))).toMatchObject({ done: true, nextPage: 1 });

    const again = await sync("alliance", String(id));
    expect(parseJson<SyncResult>(again.stdout, again.stderr)).toMatchObject({
      firstPage: 1,
      counts: { read: kills.length, enqueued: 0, alreadyQueued: kills.length - 2, alreadyStored: 2 },
    });
    expect(await queuedKills()).toEqual(queued);
  });

  const corporations = () => [...new Set([...sim.world.entities.characters.values()].map((c) => c.corporationId))];

  it("stops at maxPages", async () => {
    const { id, kills } = busiest("corporation", corporations());
    expect(kills.length).toBeGreaterThan(200); // two pages at least
    const res = await sync("corporation", String(id), "1");
    expect(res.code, res.stderr).toBe(0);
    expect(parseJson<SyncResult>(res.stdout, res.stderr)).toMatchObject({ pages: 1, stoppedBy: "max-pages", counts: { read: 200 } });
  });

  it("resumes at the saved page after SIGKILL, without gaps or duplicates", async () => {
    const { id, kills } = busiest("corporation", corporations());
    const name = syncCursorName("corporation", id);
    // Slow pacing for the first process, so it can be killed between two pages.
    const first = start("cli.ts", ["sync:corporation", String(id)], { ...env, ZKB_INTERVAL_MS: "3000" });
    await until(async () => ((await readCursor<SyncCursor>(name))?.nextPage ?? 1) >= 2, 30_000, "the first page saved");
    first.child.kill("SIGKILL");
    await first.result;
    const saved = (await readCursor<SyncCursor>(name))!;
    expect(saved.done).toBe(false);

    const second = await sync("corporation", String(id));
    expect(second.code, second.stderr).toBe(0);
    const result = parseJson<SyncResult>(second.stdout, second.stderr);
    expect(result).toMatchObject({ firstPage: saved.nextPage, stoppedBy: "empty-page" });
    expect(result.counts.read).toBe(kills.length - (saved.nextPage - 1) * 200);
    // Every kill of the corporation is queued or stored, each once.
    const queuedNow = await queuedKills();
    expect(new Set(queuedNow.map((k) => k.killmailId)).size).toBe(queuedNow.length);
    const stored = new Set((await sql()<{ id: number }[]>`select killmail_id as id from killmails`).map((r) => r.id));
    const queued = new Set(queuedNow.map((k) => k.killmailId));
    expect(kills.filter((k) => !queued.has(k) && !stored.has(k))).toEqual([]);
    expect(await readCursor<SyncCursor>(name)).toMatchObject({ done: true });
  });
});
