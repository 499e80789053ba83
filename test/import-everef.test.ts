// `bun cli import:everef` as a real process: day archives from the simulator's EVE Ref and from local
// files (both decompressors), entries validated (hash taken, extras dropped, bad bodies body-less, junk
// counted invalid), backfill tier, kills already stored skipped, re-runs enqueue nothing, streamed (entries
// reach the intake while the archive is still arriving through a FIFO), resumable after SIGKILL.
import { spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { readCursor } from "../server/feeds/cursor.ts";
import { type EverefCursor, everefCursorName } from "../server/imports/everef.ts";
import type { ImportResult } from "../server/imports/history.ts";
import { Priority } from "../server/queues/priority.ts";
import { tar } from "../sim/routes/everef.ts";
import { type Simulator, startSimulator } from "../sim/server.ts";
import { useTestDatabase } from "./support/database.ts";
import { intakeRows, parseJson, type QueuedKill, queuedKills, simEnv, storeSimKills } from "./support/imports.ts";
import { useTestQueues } from "./support/isolation.ts";
import { until } from "./support/poll.ts";
import { killAll, run, start } from "./support/spawn.ts";

const queues = useTestQueues("import-everef");
const database = useTestDatabase("import-everef");
afterEach(killAll);
let sim: Simulator;
let env: Record<string, string>;
const dir = mkdtempSync(join(tmpdir(), "kb-everef-"));

// 2,000 kills over 2026-07-26 … 2026-07-30 (400 a day), all published and archived.
beforeAll(async () => {
  sim = await startSimulator({
    seed: 22,
    killmails: 2000,
    days: 5,
    feedRate: 0,
    feedShare: 0,
    corpus: false,
    catalog: "builtin",
    quiet: true,
  });
  env = { ...queues.env, ...database.env, ...simEnv(sim) };
});
afterAll(async () => {
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

const archiveUrl = (day: string) => `${sim.url}/everef/killmails/${day.slice(0, 4)}/killmails-${day}.tar.bz2`;

/** Downloads a day's archive from the simulator into the temp folder. */
async function download(day: string): Promise<{ path: string; bytes: Buffer }> {
  const bytes = Buffer.from(await (await fetch(archiveUrl(day))).arrayBuffer());
  const path = join(dir, `killmails-${day}.tar.bz2`);
  writeFileSync(path, bytes);
  return { path, bytes };
}

/** The simulator's kills of a day (what its archive holds). */
function dayKills(day: string) {
  const start = Date.parse(`${day}T00:00:00Z`);
  const out = [];
  for (let i = 0; i < sim.world.killmailCount; i++) {
    const t = sim.world.timeOfIndex(i);
    if (t >= start && t < start + 86_400_000) out.push(sim.world.killmail(i));
  }
  return out;
}

function bzip2(data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn("bzip2", ["-c"], { stdio: ["pipe", "pipe", "ignore"] });
    const out: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.on("error", reject);
    child.on("close", () => resolve(Buffer.concat(out)));
    child.stdin.end(data);
  });
}

const importEveref = (...args: string[]) => run("cli.ts", ["import:everef", ...args, "--json"], env);
const killsOf = async (ids: Set<number>) => (await queuedKills()).filter((k) => ids.has(k.killmailId));
const payloadOf = (k: QueuedKill) =>
  k.esi === undefined ? { killmailId: k.killmailId, hash: k.hash } : { killmailId: k.killmailId, hash: k.hash, esi: k.esi };

describe("import:everef", () => {
  it("usage errors exit 2", async () => {
    const bad = await run("cli.ts", ["import:everef", "2026-07-32"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("'2026-07-32' is neither a date (YYYY-MM-DD) nor an existing archive file");
    const both = await run("cli.ts", ["import:everef", "2026-07-26", "--from", "2026-07-26", "--to", "2026-07-27"], env);
    expect(both.code).toBe(2);
    const badFrom = await run("cli.ts", ["import:everef", "--from", "26/07/2026", "--to", "2026-07-27"], env);
    expect(badFrom.code).toBe(2);
    expect(badFrom.stderr).toMatch(/expected a date YYYY-MM-DD/);
  });

  it("imports a day from EVEREF_URL with its bodies at the backfill tier, checked against totals.json, skipping stored kills", async () => {
    const day = "2026-07-26";
    const kills = dayKills(day);
    await storeSimKills(kills.slice(0, 3));
    const res = await importEveref(day);
    expect(res.code, res.stderr).toBe(0);
    const result = parseJson<ImportResult>(res.stdout, res.stderr);
    expect(result.days).toEqual([
      { day, expected: kills.length, withBody: kills.length, idHashOnly: 0, missing: 0, invalid: 0, status: "imported" },
    ]);
    expect(result.counts).toEqual({
      read: kills.length,
      alreadyStored: 3,
      enqueued: kills.length - 3,
      alreadyQueued: 0,
      bodyless: 0,
      invalid: 0,
    });
    const ids = new Set(kills.map((k) => k.killmail_id));
    const rows = (await intakeRows()).filter((r) => ids.has(r.id));
    expect(rows).toHaveLength(kills.length - 3);
    expect(rows.every((r) => r.source === "everef" && r.hasBody && r.priority === Priority.backfill)).toBe(true);
    const queued = await killsOf(ids);
    expect(queued).toHaveLength(kills.length - 3);
    for (const k of queued) {
      const kill = sim.world.killmailById(k.killmailId)!;
      expect(k.priority).toBe(Priority.backfill);
      expect(k.inBatch).toBe(true);
      expect(payloadOf(k)).toEqual({ killmailId: kill.killmail_id, hash: kill.hash, esi: kill.esi }); // EVE Ref's extras dropped
    }

    // Again: the day is done (totals unchanged) — nothing read, nothing enqueued.
    const again = parseJson<ImportResult>((await importEveref(day)).stdout, "");
    expect(again.days[0]!.status).toBe("done-earlier");
    expect(again.counts).toMatchObject({ read: 0, enqueued: 0 });
    expect(await killsOf(ids)).toHaveLength(kills.length - 3);
  });

  it("a range from EVEREF_URL: days done earlier are skipped, the others imported; --force enqueues nothing new", async () => {
    const res = await importEveref("--from", "2026-07-26", "--to", "2026-07-27");
    expect(res.code, res.stderr).toBe(0);
    const result = parseJson<ImportResult>(res.stdout, res.stderr);
    expect(result.days.map((d) => d.status)).toEqual(["done-earlier", "imported"]);
    const second = dayKills("2026-07-27");
    expect(result.counts).toMatchObject({ read: second.length, enqueued: second.length });
    const forced = parseJson<ImportResult>((await importEveref("--from", "2026-07-26", "--to", "2026-07-27", "--force")).stdout, "");
    expect(forced.counts).toMatchObject({ enqueued: 0, alreadyStored: 3, alreadyQueued: forced.counts.read - 3 });
  });

  it("retries a broken download", async () => {
    sim.reset();
    sim.setFaults({ service: "everef", route: "archive", resetRate: 1, count: 1 });
    const res = await importEveref("2026-07-27", "--force");
    expect(res.code, res.stderr).toBe(0);
    expect(parseJson<ImportResult>(res.stdout, res.stderr).days[0]).toMatchObject({
      status: "imported",
      withBody: dayKills("2026-07-27").length,
    });
    expect(
      sim
        .requests()
        .filter((r) => r.route === "archive")
        .map((r) => r.status),
    ).toEqual([0, 200]);
    sim.setFaults([]);
  });

  it("imports a local archive file, with either decompressor, the same way", async () => {
    const day = "2026-07-28";
    const { path } = await download(day);
    const kills = dayKills(day);
    const ids = new Set(kills.map((k) => k.killmail_id));
    const first = await importEveref(path, "--decompressor", "bzip2");
    expect(first.code, first.stderr).toBe(0);
    expect(parseJson<ImportResult>(first.stdout, first.stderr)).toMatchObject({
      days: [{ day, expected: null, withBody: kills.length, status: "imported" }],
      counts: { read: kills.length, enqueued: kills.length, invalid: 0 },
    });
    expect(await killsOf(ids)).toHaveLength(kills.length);
    // Same file again: already imported whole, nothing read.
    const same = parseJson<ImportResult>((await importEveref(path)).stdout, "");
    expect(same.days[0]!.status).toBe("done-earlier");
    // Forced through the JavaScript decompressor: same entries, nothing new.
    const js = await importEveref(path, "--decompressor", "js", "--force");
    expect(js.code, js.stderr).toBe(0);
    expect(parseJson<ImportResult>(js.stdout, js.stderr).counts).toMatchObject({
      read: kills.length,
      enqueued: 0,
      alreadyQueued: kills.length,
    });
    expect(await killsOf(ids)).toHaveLength(kills.length);
  });

  it("validates entries: a bad body with a good hash goes in body-less, junk is counted invalid, a truncated archive fails", async () => {
    const [a, b, c, d] = dayKills("2026-07-29").slice(0, 4);
    const file = (name: string, value: unknown) => ({
      name,
      body: Buffer.from(typeof value === "string" ? value : JSON.stringify(value)),
      mtimeSec: 0,
    });
    const archive = await bzip2(
      tar([
        file(`killmails/${a!.killmail_id}.json`, { ...a!.esi, killmail_hash: a!.hash, http_last_modified: "2026-07-29T10:00:00Z" }),
        file(`killmails/${b!.killmail_id}.json`, { ...b!.esi, attackers: [], killmail_hash: b!.hash }), // invalid body, good hash
        file(`killmails/${c!.killmail_id}.json`, "{not json"),
        file(`killmails/${d!.killmail_id + 1}.json`, { ...d!.esi, killmail_hash: d!.hash }), // name and id disagree
        file("killmails/readme.txt", "not a killmail"),
      ]),
    );
    const path = join(dir, "handmade.tar.bz2");
    writeFileSync(path, archive);
    const res = await importEveref(path);
    expect(res.code, res.stderr).toBe(0);
    expect(parseJson<ImportResult>(res.stdout, res.stderr)).toMatchObject({
      days: [{ day: "handmade.tar.bz2", withBody: 1, idHashOnly: 1, invalid: 3 }],
      counts: { read: 4, enqueued: 2, bodyless: 1, invalid: 3 },
    });
    const queued = await killsOf(new Set([a!.killmail_id, b!.killmail_id, c!.killmail_id, d!.killmail_id]));
    expect(queued.map(payloadOf)).toEqual([
      { killmailId: a!.killmail_id, hash: a!.hash, esi: a!.esi },
      { killmailId: b!.killmail_id, hash: b!.hash },
    ]);

    const truncated = join(dir, "truncated.tar.bz2");
    const { bytes } = await download("2026-07-29");
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const broken = await importEveref(truncated);
    expect(broken.code).toBe(1);
    expect(parseJson<ImportResult>(broken.stdout, broken.stderr).days[0]).toMatchObject({
      status: "failed",
      error: expect.stringMatching(/cannot read the archive \(truncated or corrupt\?\)/),
    });
  });

  it("streams: entries reach the intake while the archive is still arriving", async () => {
    // An archive of 1,600 kills (several bzip2 blocks), fed through a FIFO: half now, the rest later.
    const kills = ["2026-07-26", "2026-07-27", "2026-07-28", "2026-07-29"].flatMap(dayKills);
    const entries = kills.map((k) => ({
      name: `killmails/${k.killmail_id}.json`,
      body: Buffer.from(JSON.stringify({ ...k.esi, killmail_hash: k.hash })),
      mtimeSec: 0,
    }));
    const bytes = await bzip2(tar(entries));
    await Bun.$`mkdir -p ${join(dir, "fifo")}`;
    const fifo = join(dir, "fifo", "stream.tar.bz2");
    await Bun.$`mkfifo ${fifo}`;
    const importer = start("cli.ts", ["import:everef", fifo, "--batch", "50", "--json"], env);
    const writer = createWriteStream(fifo);
    writer.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
    // Half the archive is in: batches are already in the intake (the cursor counts them) while the
    // import still waits for the rest.
    const position = async () => (await readCursor<EverefCursor>("import:everef:file:stream.tar.bz2"))?.entries ?? 0;
    await until(async () => (await position()) >= 50, 30_000, "entries from the first half");
    expect(importer.child.exitCode).toBeNull();
    expect(await position()).toBeLessThan(kills.length);
    writer.end(bytes.subarray(Math.floor(bytes.length / 2)));
    const done = await importer.result;
    expect(done.code, done.stderr).toBe(0);
    expect(parseJson<ImportResult>(done.stdout, done.stderr)).toMatchObject({
      days: [{ withBody: kills.length, status: "imported" }],
      counts: { read: kills.length, invalid: 0 },
    });
  });

  it("resumes an archive after SIGKILL: the rerun skips the entries already in, no duplicates", async () => {
    const day = "2026-07-30";
    const { path: copy } = await download(day);
    const kills = dayKills(day);
    const ids = new Set(kills.map((k) => k.killmail_id));
    const pending = (await intakeRows()).length;
    const first = start("cli.ts", ["import:everef", copy, "--batch", "50", "--max-pending", String(pending + 100)], env);
    await first.waitFor("waiting for the workers to drain it");
    first.child.kill("SIGKILL");
    await first.result;
    const cursor = (await readCursor<EverefCursor>(everefCursorName(day)))!;
    expect(cursor.done).toBe(false);
    expect(cursor.entries).toBeGreaterThanOrEqual(100);
    expect(cursor.entries).toBeLessThan(kills.length);

    const second = await importEveref(copy);
    expect(second.code, second.stderr).toBe(0);
    const result = parseJson<ImportResult>(second.stdout, second.stderr);
    expect(result.days[0]).toMatchObject({ withBody: kills.length, status: "imported" });
    expect(result.counts.read).toBe(kills.length - cursor.entries);
    const queued = await queuedKills();
    expect(new Set(queued.map((k) => k.killmailId)).size).toBe(queued.length);
    expect(queued.filter((k) => ids.has(k.killmailId))).toHaveLength(kills.length);
  });
});
