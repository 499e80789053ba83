// R2Z2 (live feed + daily history), the zKillboard API and EVE Ref archives, as clients see them.
import { Readable } from "node:stream";
import tarStream from "tar-stream";
import unbzip2 from "unbzip2-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SEQUENCE_BASE } from "./routes/r2z2.ts";
import { type Simulator, startSimulator } from "./server.ts";

let sim: Simulator;
const UA = "sim-feeds/1.0 (tests@example.com)";

beforeAll(async () => {
  sim = await startSimulator({
    seed: 3,
    killmails: 2500,
    days: 6,
    quiet: true,
    feedRate: 0,
    feedShare: 0.25,
    sequenceEvery: 1,
    zkbDelaySeconds: 0,
    limits: { zkbPerSecond: 0, r2z2PerSecond: 0 },
  });
});
afterAll(() => sim.stop());

const getJson = async (path: string) => {
  const res = await fetch(sim.url + path, { headers: { "User-Agent": UA } });
  return { status: res.status, body: res.status === 200 ? ((await res.json()) as unknown) : undefined };
};

describe("R2Z2", () => {
  it("sequence.json, envelopes up to the head, 404 past it, advance moves the head", async () => {
    const head = sim.world.feedHead();
    expect(head).toBe(1875);
    const seq = (await getJson("/r2z2/ephemeral/sequence.json")).body as { sequence: number };
    expect(seq.sequence).toBe(SEQUENCE_BASE + head - 1);
    const env = (await getJson(`/r2z2/ephemeral/${seq.sequence}.json`)).body as Record<string, unknown>;
    expect(Object.keys(env)).toEqual(["killmail_id", "hash", "esi", "zkb", "uploaded_at", "sequence_id"]);
    expect(env.sequence_id).toBe(seq.sequence);
    expect(env.hash).toMatch(/^[0-9a-f]{40}$/);
    expect((env.esi as { killmail_id: number }).killmail_id).toBe(env.killmail_id);
    expect((env.zkb as { hash: string }).hash).toBe(env.hash);
    expect((await getJson(`/r2z2/ephemeral/${seq.sequence + 1}.json`)).status).toBe(404);
    sim.advanceFeed(3);
    expect((await getJson(`/r2z2/ephemeral/${seq.sequence + 1}.json`)).status).toBe(200);
    expect((await getJson(`/r2z2/ephemeral/${seq.sequence + 3}.json`)).status).toBe(200);
    expect((await getJson(`/r2z2/ephemeral/${seq.sequence + 4}.json`)).status).toBe(404);
    const moved = await fetch(`${sim.url}/_sim/feed/advance?n=2`, { method: "POST" });
    expect(((await moved.json()) as { head: number }).head).toBe(head + 5);
    // The envelope of a sequence number is the same kill the history lists.
    const envelope = (await getJson(`/r2z2/ephemeral/${seq.sequence + 5}.json`)).body as {
      killmail_id: number;
      hash: string;
      esi: { killmail_time: string };
    };
    const day = envelope.esi.killmail_time.slice(0, 10).replaceAll("-", "");
    const list = (await getJson(`/r2z2/history/${day}.json`)).body as Record<string, string>;
    expect(list[String(envelope.killmail_id)]).toBe(envelope.hash);
  });

  it("sequence.json lags when it is rewritten every N kills", async () => {
    const lagging = await startSimulator({
      seed: 3,
      killmails: 600,
      quiet: true,
      feedRate: 0,
      sequenceEvery: 51,
      corpus: false,
      catalog: "builtin",
    });
    try {
      const head = lagging.world.feedHead();
      const res = await fetch(`${lagging.url}/r2z2/ephemeral/sequence.json`);
      const { sequence } = (await res.json()) as { sequence: number };
      expect(sequence).toBeLessThanOrEqual(SEQUENCE_BASE + head - 1);
      expect((sequence - SEQUENCE_BASE) % 51).toBe(0);
    } finally {
      await lagging.stop();
    }
  });

  it("history files agree with totals; raw files hold the ESI bodies", async () => {
    const totals = (await getJson("/r2z2/history/totals.json")).body as Record<string, number>;
    const days = Object.keys(totals);
    expect(days.length).toBeGreaterThan(5);
    expect(days).toEqual([...days].sort());
    let sum = 0;
    for (const day of days.slice(-4)) {
      const list = (await getJson(`/r2z2/history/${day}.json`)).body as Record<string, string>;
      expect(Object.keys(list).length).toBe(totals[day]);
      sum += totals[day]!;
      const raw = (await getJson(`/r2z2/history/raw/${day}.json`)).body as Record<string, { killmail_id: number; killmail_time: string }>;
      expect(Object.keys(raw).sort()).toEqual(Object.keys(list).sort());
      for (const [id, body] of Object.entries(raw)) {
        expect(body.killmail_id).toBe(Number(id));
        expect(body.killmail_time.slice(0, 10).replaceAll("-", "")).toBe(day);
        expect(sim.world.killmailById(Number(id))!.hash).toBe(list[id]);
      }
    }
    // Everything published (and only that) is in the history: generated kills below the head plus the corpus.
    const all = Object.values(totals).reduce((s, n) => s + n, 0);
    expect(all).toBe(sim.world.feedHead() + sim.world.corpus.length);
    expect(sum).toBeGreaterThan(0);
    expect((await getJson("/r2z2/history/20200101.json")).status).toBe(404);
  });
  it("rawMissing leaves a share of kills out of the raw files only (the id/hash list keeps them)", async () => {
    const gappy = await startSimulator({
      seed: 3,
      killmails: 600,
      days: 2,
      quiet: true,
      feedRate: 0,
      feedShare: 0,
      corpus: false,
      catalog: "builtin",
      rawMissing: 0.2,
    });
    try {
      const get = async (path: string) =>
        (await (await fetch(gappy.url + path, { headers: { "User-Agent": UA } })).json()) as Record<string, unknown>;
      const totals = (await get("/r2z2/history/totals.json")) as Record<string, number>;
      let listed = 0;
      let lacking = 0;
      for (const day of Object.keys(totals)) {
        const list = await get(`/r2z2/history/${day}.json`);
        const raw = await get(`/r2z2/history/raw/${day}.json`);
        expect(Object.keys(list)).toHaveLength(totals[day]!);
        for (const id of Object.keys(raw)) expect(list).toHaveProperty(id);
        listed += Object.keys(list).length;
        lacking += Object.keys(list).length - Object.keys(raw).length;
      }
      expect(listed).toBe(600);
      expect(lacking / listed).toBeGreaterThan(0.12);
      expect(lacking / listed).toBeLessThan(0.28);
    } finally {
      await gappy.stop();
    }
  });
});

describe("zKillboard API", () => {
  const H = { "User-Agent": UA, "Accept-Encoding": "gzip" };
  const busiest = () => {
    const w = sim.world;
    let best = { id: 0, n: 0 };
    for (const id of w.allianceIds()) {
      const n = w.entityKills("alliance", id).filter((i) => w.isPublished(i)).length;
      if (n > best.n) best = { id, n };
    }
    return best;
  };

  it("pages of 200, newest first, full ESI killmail plus zkb, empty past the end", async () => {
    const { id, n } = busiest();
    expect(n).toBeGreaterThan(200);
    const p1 = await fetch(`${sim.url}/zkb/allianceID/${id}/page/1/`, { headers: H });
    expect(p1.status).toBe(200);
    const page1 = (await p1.json()) as { killmail_id: number; zkb: { hash: string }; attackers: unknown[]; victim: unknown }[];
    expect(page1).toHaveLength(200);
    const ids = page1.map((k) => k.killmail_id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    const first = sim.world.killmailById(ids[0]!)!;
    expect(page1[0]).toEqual({ ...first.esi, zkb: first.zkb });
    const p2 = (await (await fetch(`${sim.url}/zkb/allianceID/${id}/page/2/`, { headers: H })).json()) as { killmail_id: number }[];
    expect(p2.length).toBe(Math.min(200, n - 200));
    expect(p2[0]!.killmail_id).toBeLessThan(ids.at(-1)!);
    const far = await fetch(`${sim.url}/zkb/allianceID/${id}/page/100/`, { headers: H });
    expect(await far.json()).toEqual([]);
    // Unpublished kills are not there.
    for (const k of [...page1, ...p2]) expect(sim.world.isPublished(sim.world.indexOfId(k.killmail_id)!)).toBe(true);
  });

  it("characters and corporations too; the rules: trailing slash, no query string, gzip + User-Agent, pages 1–100", async () => {
    const w = sim.world;
    const pilot = w.entities.pilots.find((p) => w.entityKills("character", p).some((i) => w.isPublished(i)))!;
    const char = await fetch(`${sim.url}/zkb/characterID/${pilot}/page/1/`, { headers: H });
    expect(((await char.json()) as unknown[]).length).toBeGreaterThan(0);
    const corp = w.entities.characters.get(pilot)!.corporationId;
    expect((await fetch(`${sim.url}/zkb/corporationID/${corp}/page/1/`, { headers: H })).status).toBe(200);
    const noSlash = await fetch(`${sim.url}/zkb/characterID/${pilot}/page/1`, { headers: H });
    expect(noSlash.status).toBe(404);
    expect(await noSlash.json()).toHaveProperty("error");
    expect((await fetch(`${sim.url}/zkb/characterID/${pilot}/page/1/?x=1`, { headers: H })).status).toBe(403);
    expect((await fetch(`${sim.url}/zkb/characterID/${pilot}/page/101/`, { headers: H })).status).toBe(400);
    expect((await fetch(`${sim.url}/zkb/characterID/${pilot}/page/0/`, { headers: H })).status).toBe(400);
    expect(
      (await fetch(`${sim.url}/zkb/characterID/${pilot}/page/1/`, { headers: { "User-Agent": UA, "Accept-Encoding": "identity" } })).status,
    ).toBe(403);
    expect(
      (await fetch(`${sim.url}/zkb/characterID/${pilot}/page/1/`, { headers: { "User-Agent": "", "Accept-Encoding": "gzip" } })).status,
    ).toBe(403);
    const gz = await fetch(`${sim.url}/zkb/characterID/${pilot}/page/1/`, { headers: H });
    expect(gz.headers.get("content-encoding")).toBe("gzip");
    expect(sim.stats().violationsByKind).toMatchObject({ "zkb-query-string": 1, "zkb-no-gzip": 1, "missing-user-agent": 1 });
    sim.reset();
  });

  it("/killID/{id}/: one published kill as a one-element list, [] for an unknown or unpublished one", async () => {
    const w = sim.world;
    const rec = w.killmail(w.feedHead() - 1);
    const res = await fetch(`${sim.url}/zkb/killID/${rec.killmail_id}/`, { headers: H });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([{ ...rec.esi, zkb: rec.zkb }]);
    const ahead = w.killmail(w.feedHead());
    expect(await (await fetch(`${sim.url}/zkb/killID/${ahead.killmail_id}/`, { headers: H })).json()).toEqual([]);
    expect(await (await fetch(`${sim.url}/zkb/killID/12/`, { headers: H })).json()).toEqual([]);
    expect((await fetch(`${sim.url}/zkb/killID/${rec.killmail_id}`, { headers: H })).status).toBe(404);
    expect((await fetch(`${sim.url}/zkb/killID/${rec.killmail_id}/?x`, { headers: H })).status).toBe(403);
    sim.reset();
  });

  it("about 1 request per second: faster gets 429; too many errors get the client blocked", async () => {
    const strict = await startSimulator({
      seed: 3,
      killmails: 200,
      quiet: true,
      feedRate: 0,
      corpus: false,
      catalog: "builtin",
      limits: { zkbErrorLimit: 3 },
    });
    try {
      const id = strict.world.entities.pilots[0];
      const url = `${strict.url}/zkb/characterID/${id}/page/1/`;
      expect((await fetch(url, { headers: H })).status).toBe(200);
      const fast = await fetch(url, { headers: H });
      expect(fast.status).toBe(429);
      expect(fast.headers.get("retry-after")).toBe("1");
      for (let k = 0; k < 3; k++) await fetch(`${strict.url}/zkb/characterID/${id}/page/1/?q`, { headers: H });
      const blocked = await fetch(url, { headers: H });
      expect(blocked.status).toBe(403);
      expect(strict.stats().violationsByKind["zkb-blocked"]).toBe(1);
    } finally {
      await strict.stop();
    }
  });
});

describe("EVE Ref", () => {
  async function extract(buf: Buffer): Promise<Map<string, string>> {
    const files = new Map<string, string>();
    const extractor = tarStream.extract();
    extractor.on("entry", (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on("data", (c: unknown) => {
        chunks.push(c as Buffer);
      });
      stream.on("end", () => {
        files.set(header.name, Buffer.concat(chunks).toString("utf8"));
        next();
      });
    });
    await new Promise<void>((resolve, reject) => {
      extractor.on("finish", resolve);
      extractor.on("error", reject);
      Readable.from([buf]).pipe(unbzip2()).on("error", reject).pipe(extractor);
    });
    return files;
  }

  it("totals list whole days; an archive extracts to exactly that day's kills", async () => {
    const totals = (await getJson("/everef/killmails/totals.json")).body as Record<string, number>;
    const r2z2Totals = (await getJson("/r2z2/history/totals.json")).body as Record<string, number>;
    const days = Object.keys(totals);
    // The day the feed is in is not archived yet.
    expect(days.length).toBe(Object.keys(r2z2Totals).length - 1);
    const day = days.at(-1)!;
    const res = await fetch(
      `${sim.url}/everef/killmails/${day.slice(0, 4)}/killmails-${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6)}.tar.bz2`,
    );
    expect(res.status).toBe(200);
    const files = await extract(Buffer.from(await res.arrayBuffer()));
    expect(files.size).toBe(totals[day]);
    const list = (await getJson(`/r2z2/history/${day}.json`)).body as Record<string, string>;
    expect([...files.keys()].sort()).toEqual(
      Object.keys(list)
        .map((id) => `killmails/${id}.json`)
        .sort(),
    );
    for (const [name, text] of files) {
      const body = JSON.parse(text) as Record<string, unknown>;
      const rec = sim.world.killmailById(Number(/(\d+)\.json$/.exec(name)![1]))!;
      const { killmail_hash, http_last_modified, ...esi } = body;
      expect(killmail_hash).toBe(rec.hash);
      expect(typeof http_last_modified).toBe("string");
      expect(esi).toEqual(rec.esi);
    }
    expect((await fetch(`${sim.url}/everef/killmails/2026/killmails-2026-01-01.tar.bz2`)).status).toBe(404);
  });

  it("a corpus day archive holds the real killmail verbatim", async () => {
    const k = sim.world.corpus[0]!;
    const d = new Date(k.timeMs).toISOString().slice(0, 10);
    const res = await fetch(`${sim.url}/everef/killmails/${d.slice(0, 4)}/killmails-${d}.tar.bz2`);
    const files = await extract(Buffer.from(await res.arrayBuffer()));
    const body = JSON.parse(files.get(`killmails/${k.id}.json`)!) as Record<string, unknown>;
    expect(body.killmail_hash).toBe(k.hash);
    const { killmail_hash: _h, http_last_modified: _m, ...esi } = body;
    expect(esi).toEqual(k.esi);
  });
});
