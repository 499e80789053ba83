// POST /api/killmails is open to anyone, and every kill it does not know costs an ESI fetch from the
// `killmail` token bucket (about 2 a second per IP, a 422 costing 5 tokens). These tests drive the route
// through hono's app.request() with the real killmail processor running against the simulator's ESI:
// id/hash pairs ESI refused are remembered (a repost costs no ESI call, another hash for the id may be
// tried), the body and id limits answer 413/400, and the Redis rate limits bound what a flood of bogus
// pairs costs ESI (and keep the error limit untouched), with the admin token exempt.
import { describe, expect, it } from "vitest";
import killmailProcessor from "../queue/killmail.ts";
import { createApp } from "../server/app.ts";
import { sql } from "../server/db/client.ts";
import { getQueue } from "../server/queues/queue.ts";
import { useTestDatabase } from "./support/database.ts";
import { useTestQueues } from "./support/isolation.ts";
import { runUntilFinal, useSimulator } from "./support/upstream.ts";

useTestDatabase("intake-protection");
useTestQueues("intake-protection");
const { sim } = await useSimulator({ seed: 31, killmails: 50 });
const app = createApp();

const hex40 = (n: number) => n.toString(16).padStart(40, "0");

async function post(body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await app.request("/api/killmails", {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "content-type": "application/json", ...headers },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** ESI killmail fetches the simulator answered so far. */
const killmailCalls = () => sim.stats().byRoute["esi.killmail"]?.total ?? 0;

/** Runs the real killmail processor until these jobs are final. */
async function work(jobIds: string[]) {
  return runUntilFinal("killmail", killmailProcessor.processor, jobIds);
}

describe("id/hash pairs ESI refused", () => {
  it("are remembered: a repost answers 400 without an ESI call, another hash for the id is tried", async () => {
    const real = sim.world.killmail(3);
    const wrong = hex40(1);
    const first = await post({ killmail_id: real.killmail_id, hash: wrong });
    expect(first.status).toBe(202);
    const before = killmailCalls();
    const [job] = await work([first.body.jobId as string]);
    expect(job!.state).toBe("failed");
    expect(killmailCalls()).toBe(before + 1);
    const [row] = await sql()`select hash, status, error from killmail_intake where killmail_id = ${real.killmail_id}`;
    expect(row).toMatchObject({ hash: wrong, status: "failed" });
    expect(row!.error).toMatch(/^ESI rejected this id\/hash pair: esi .* → 422: Invalid killmail_id and\/or killmail_hash/);

    // The same pair again, as ids or as an ESI URL: refused at once, nothing queued, ESI not asked.
    for (const again of [
      { killmail_id: real.killmail_id, hash: wrong },
      { url: `https://esi.evetech.net/latest/killmails/${real.killmail_id}/${wrong}/` },
    ]) {
      const res = await post(again);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ killmailId: real.killmail_id, status: "known-bad" });
      expect(res.body.error).toMatch(/^known bad pair: ESI rejected this id\/hash pair/);
    }
    expect(await getQueue("killmail").getJobCounts("prioritized", "waiting", "active")).toEqual({ prioritized: 0, waiting: 0, active: 0 });
    expect(killmailCalls()).toBe(before + 1);

    // The right hash is another pair: tried, and stored.
    const right = await post({ killmail_id: real.killmail_id, hash: real.hash });
    expect(right).toMatchObject({ status: 202, body: { status: "queued" } });
    const [stored] = await work([right.body.jobId as string]);
    expect(stored!.state).toBe("completed");
    expect(killmailCalls()).toBe(before + 2);
    expect((await post({ killmail_id: real.killmail_id, hash: wrong })).body).toMatchObject({ status: "already-stored" });
  });

  it("a kill ESI does not know (422, or 404) is remembered by pair too; a kill that failed otherwise is not", async () => {
    const unknown = { killmail_id: 2_000_000_001, hash: hex40(2) };
    await work([(await post(unknown)).body.jobId as string]);
    expect((await post(unknown)).status).toBe(400);
    sim.setFaults({ service: "esi", route: "killmail", notFoundRate: 1, count: 1 });
    const gone = { killmail_id: 2_000_000_003, hash: hex40(5) };
    await work([(await post(gone)).body.jobId as string]);
    sim.setFaults([]);
    expect((await post(gone)).body.error).toMatch(/^known bad pair: .* → 404: Not found/);

    // A ledger row failed for another reason (a body Postgres refused, say) is re-opened by a repost.
    await sql()`insert into killmail_intake (killmail_id, hash, source, priority, status, error)
                values (2000000002, ${hex40(3)}, 'http', 1, 'failed', 'value out of range')`;
    expect((await post({ killmail_id: 2_000_000_002, hash: hex40(3) })).body).toMatchObject({ status: "queued" });
  });

  it("a second hash posted while the first is queued is not taken for bad when the first fails", async () => {
    const real = sim.world.killmail(4);
    const a = await post({ killmail_id: real.killmail_id, hash: hex40(4) });
    // The second post joins the pending job (same work key) and the ledger row now names its hash.
    const b = await post({ killmail_id: real.killmail_id, hash: real.hash });
    expect(b.body).toMatchObject({ status: "already-queued", jobId: a.body.jobId });
    await work([a.body.jobId as string]);
    // The job tried the first hash; the row keeps the second, pending, for reconcile to queue.
    const [row] = await sql()`select hash, status from killmail_intake where killmail_id = ${real.killmail_id}`;
    expect(row).toEqual({ hash: real.hash, status: "pending" });
    const again = await post({ killmail_id: real.killmail_id, hash: real.hash });
    expect(again).toMatchObject({ status: 202, body: { status: "queued" } });
    const [done] = await work([again.body.jobId as string]);
    expect(done!.state).toBe("completed");
  });
});
