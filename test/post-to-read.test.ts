// The path a killboard's users see, end to end: kills posted to the HTTP API as ESI killmail links
// ({killmail_id, hash}), fetched from the simulator's ESI by a real `bun queue killmail` process, stored,
// and read back through GET /api/killmails/:id deep-equal to the body ESI served, with their values.
// Every kill the simulator serves: its generated ones and the real corpus (the 296-attacker fight,
// nested containers, structures, 2008 mails).
import { afterEach, describe, expect, it } from "vitest";
import { createApp } from "../server/app.ts";
import { sql } from "../server/db/client.ts";
import type { EsiKillmail } from "../server/esi/killmail-schema.ts";
import { config, setConfig } from "../server/helpers/config.ts";
import { useTestDatabase } from "./support/database.ts";
import { useTestQueues } from "./support/isolation.ts";
import { until } from "./support/poll.ts";
import { killAll, start } from "./support/spawn.ts";
import { useSimulator } from "./support/upstream.ts";

const database = useTestDatabase("post-to-read");
const { env: queueEnv } = useTestQueues("post-to-read");
// ESI's real killmail budget would pace 166 fetches over more than a minute; the budget logic has its own tests.
const { sim, env: simEnv } = await useSimulator({
  seed: 21,
  killmails: 60,
  limits: { killmailTokens: 100_000, killmailWindowSeconds: 60 },
});
afterEach(killAll);
// One client posting 166 unknown kills in a few seconds: the intake's rate limits (tested in
// intake-protection.test.ts) are off here, this test is about the path.
setConfig({ intake: { ...config().intake, clientPostsPerMinute: 0, clientFetchesPerMinute: 0, totalFetchesPerMinute: 0 } });

const app = createApp();

describe("kills posted over HTTP", () => {
  it("come back from GET /api/killmails/:id exactly as ESI served them, every one of them, valued", async () => {
    const kills = Array.from({ length: sim.world.killmailCount }, (_, i) => sim.world.killmail(i));
    expect(kills.length).toBe(60 + sim.world.corpus.length);
    expect(sim.world.corpus.length).toBeGreaterThan(100);
    for (const k of kills) {
      const res = await app.request("/api/killmails", {
        method: "POST",
        body: JSON.stringify({ killmail_id: k.killmail_id, hash: k.hash }),
        headers: { "content-type": "application/json" },
      });
      expect(res.status).toBe(202);
    }

    const worker = start("queue.ts", ["killmail", "--summary-interval", "0", "--no-services"], { ...database.env, ...queueEnv, ...simEnv });
    const stored = async () => (await sql()<{ n: number }[]>`select count(*)::int as n from killmail_values`)[0]!.n;
    await until(async () => (await stored()) === kills.length, 120_000, `${kills.length} kills stored and valued`);

    let nested = 0;
    let biggest = 0;
    for (const k of kills) {
      const served = (await (await fetch(`${sim.url}/killmails/${k.killmail_id}/${k.hash}/`)).json()) as EsiKillmail;
      const res = await app.request(`/api/killmails/${k.killmail_id}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { killmail: typeof served; values: Record<string, string> };
      expect(body.killmail, `killmail ${k.killmail_id}`).toEqual(served);
      const { total, destroyed, dropped, fitted } = body.values;
      expect(Number(total)).toBeCloseTo(Number(destroyed) + Number(dropped), 2);
      expect(Number(fitted)).toBeLessThanOrEqual(Number(total));
      biggest = Math.max(biggest, served.attackers.length);
      if (served.victim.items?.some((i) => i.items?.length)) nested++;
    }
    expect(biggest).toBe(296);
    expect(nested).toBeGreaterThan(0);
    const [ledger] = await sql()<{ pending: number }[]>`select count(*)::int as pending from killmail_intake`;
    expect(ledger).toEqual({ pending: 0 });

    worker.child.kill("SIGTERM");
    expect((await worker.result).code).toBe(0);
  });
});
