// `bun cli` single-job and scheduler commands as real processes: jobs:list (paging, across queues),
// job:show, job:retry (the de-duplication rule), job:remove, job:promote, queue:clean, and
// schedulers:upsert/pause/resume/remove/list — their output, JSON, exit codes and effect on Redis.
import type { Worker } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";
import { enqueueJob } from "../server/queues/enqueue.ts";
import { getQueue, getQueueStats } from "../server/queues/queue.ts";
import { QUEUE_NAMES } from "../server/queues/registry.ts";
import { useTestQueues } from "./support/isolation.ts";
import { until } from "./support/poll.ts";
import { killAll, run } from "./support/spawn.ts";
import { plainWorker } from "./support/workers.ts";

const { env } = useTestQueues("cli-jobs");
const cli = (...args: string[]) => run("cli.ts", args, env);

const workers: Worker[] = [];
afterEach(async () => {
  killAll();
  await Promise.all(workers.splice(0).map((w) => w.close()));
  for (const q of QUEUE_NAMES) {
    await getQueue(q).obliterate({ force: true });
    for (const s of await getQueue(q).getJobSchedulers()) await getQueue(q).removeJobScheduler(s.id ?? s.key);
  }
  await cli("schedulers:remove", "price-daily");
});

/** Character jobs for these ids, failed once each by a worker that logs a line first. */
async function failCharacters(ids: number[]): Promise<string[]> {
  const worker = plainWorker("character", async (data, job) => {
    await job.log(`looking up ${data.id}`);
    throw new Error(`upstream refused ${data.id}`);
  });
  workers.push(worker);
  const jobIds: string[] = [];
  for (const id of ids) jobIds.push((await enqueueJob("character", { id }, { attempts: 1 })).jobId);
  await until(async () => (await getQueueStats("character")).failed === ids.length);
  await worker.close();
  return jobIds;
}

describe("jobs:list and job:show", () => {
  it("lists a state a page at a time, across queues without a queue, and shows one job with its log", async () => {
    const [first, second] = await failCharacters([97_001, 97_002]);
    const page = await cli("jobs:list", "character", "--state", "failed", "--limit", "1", "--json");
    expect(page.code).toBe(0);
    const json = JSON.parse(page.stdout) as { total: number; jobs: { id: string; failedReason: string }[] };
    expect(json.total).toBe(2);
    expect(json.jobs).toHaveLength(1);
    const next = JSON.parse((await cli("jobs:list", "character", "--state", "failed", "--start", "1", "--json")).stdout) as typeof json;
    expect([json.jobs[0]!.id, next.jobs[0]!.id].sort()).toEqual([first, second].sort());

    const text = await cli("jobs:list", "--state", "failed");
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("failed jobs in any queue: 1–2 of 2");
    expect(text.stdout).toMatch(new RegExp(`character\\s+${first}\\s+.*1/1\\s+upstream refused 97001`));

    const bad = await cli("jobs:list", "character", "--state", "sleeping");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--state must be one of");

    const show = await cli("job:show", "character", first!);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`job ${first} in character: failed`);
    expect(show.stdout).toContain("reason      upstream refused 97001");
    expect(show.stdout).toContain("work key    character-97001");
    expect(show.stdout).toMatch(/stack trace \(last failure\):\n {2}Error: upstream refused 97001/);
    expect(show.stdout).toMatch(/log \(1 lines?\):\n {2}looking up 97001/);
    const missing = await cli("job:show", "character", "no-such-job", "--json");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no job 'no-such-job' in character");
  });
});

describe("job:retry, job:remove, job:promote", () => {
  it("retries one failed job, skipping it while the same work is pending again", async () => {
    const [jobId] = await failCharacters([98_001]);
    const newer = await enqueueJob("character", { id: 98_001 });
    const skipped = await cli("job:retry", "character", jobId!);
    expect(skipped.code).toBe(0);
    expect(skipped.stdout.trim()).toBe(`character ${jobId}: skipped (the same work is pending in a newer job)`);
    expect(await getQueueStats("character")).toMatchObject({ failed: 1, prioritized: 1 });

    await getQueue("character").remove(newer.jobId);
    const retried = await cli("job:retry", "character", jobId!, "--json");
    expect(retried.code).toBe(0);
    expect(JSON.parse(retried.stdout)).toEqual({ queue: "character", id: jobId, outcome: "retried" });
    expect(await getQueueStats("character")).toMatchObject({ failed: 0, prioritized: 1 });
    expect((await getQueue("character").getJob(jobId!))!.attemptsMade).toBe(0);

    const again = await cli("job:retry", "character", jobId!);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("is not failed");
  });

  it("promotes a delayed job, then removes it; an unknown queue exits 2", async () => {
    const { jobId } = await enqueueJob("type", { id: 50 }, { delay: 3_600_000 });
    const promoted = await cli("job:promote", "type", jobId);
    expect(promoted.code).toBe(0);
    expect(promoted.stdout.trim()).toBe(`type ${jobId}: promoted`);
    expect((await getQueueStats("type")).delayed).toBe(0);
    expect((await cli("job:promote", "type", jobId)).code).toBe(1);

    const removed = await cli("job:remove", "type", jobId);
    expect(removed.code).toBe(0);
    expect(await getQueue("type").getJob(jobId)).toBeUndefined();
    const gone = await cli("job:remove", "type", jobId);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`no job '${jobId}' in type`);
    const unknown = await cli("job:remove", "nope", "x");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown queue 'nope'");
  });
});

describe("queue:clean", () => {
  it("removes a state's jobs older than the grace period, at most --limit", async () => {
    workers.push(plainWorker("type", async () => "ok"));
    for (let id = 60; id < 64; id++) await enqueueJob("type", { id });
    await until(async () => (await getQueueStats("type")).completed === 4);
    const young = await cli("queue:clean", "type", "--grace", "3600");
    expect(young.stdout.trim()).toBe("type: removed 0 completed jobs older than 3600 s");
    const some = await cli("queue:clean", "type", "--state", "completed", "--limit", "3", "--json");
    expect(JSON.parse(some.stdout)).toEqual({ queue: "type", state: "completed", grace: 0, removed: 3 });
    expect((await getQueueStats("type")).completed).toBe(1);
    expect((await cli("queue:clean", "type", "--state", "active")).code).toBe(2);
  });
});

describe("schedulers:*", () => {
  it("upserts, pauses, resumes and removes a scheduler; bad timings exit 2", async () => {
    const up = await cli("schedulers:upsert", "price-daily", "--cron", "30 11 * * *");
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/^price-daily \(price\): cron 30 11 \* \* \* \(UTC\), next run \d{4}-\d\d-\d\d 11:30:00Z/);
    const every = await cli("schedulers:upsert", "price-daily", "--every", "10m", "--json");
    expect(JSON.parse(every.stdout)).toMatchObject({ id: "price-daily", every: 600_000, pattern: null, paused: false });

    const badCron = await cli("schedulers:upsert", "price-daily", "--cron", "99 * * * *");
    expect(badCron.code).toBe(2);
    expect(badCron.stderr).toContain("--cron: not a valid cron pattern");
    expect((await cli("schedulers:upsert", "price-daily", "--cron", "0 * * * *", "--every", "1h")).code).toBe(2);
    expect((await cli("schedulers:upsert", "price-daily", "--every", "5 minutes")).code).toBe(2);
    expect((await cli("schedulers:upsert", "no-such-scheduler", "--every", "1h")).code).toBe(1);

    const paused = await cli("schedulers:pause", "price-daily");
    expect(paused.code).toBe(0);
    expect(paused.stdout.trim()).toBe("price-daily (price): every 10m, paused");
    expect(await getQueue("price").getJobScheduler("price-daily")).toBeUndefined();
    const list = await cli("schedulers:list");
    expect(list.stdout).toMatch(/price-daily\s+price\s+every 10m\s+paused\s+-\s+-/);
    expect((await cli("schedulers:pause", "price-daily")).stdout).toContain("(was already paused)");

    const resumed = await cli("schedulers:resume", "price-daily", "--json");
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ id: "price-daily", paused: false, every: 600_000, changed: true });
    expect(await getQueue("price").getJobScheduler("price-daily")).toMatchObject({ every: 600_000 });

    expect((await cli("schedulers:remove", "price-daily")).stdout.trim()).toBe("removed scheduler price-daily");
    expect(await getQueue("price").getJobScheduler("price-daily")).toBeUndefined();
    const again = await cli("schedulers:remove", "price-daily");
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("no job scheduler 'price-daily'");
  });
});
