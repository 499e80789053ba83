// The README's "Adding a queue" section is the real contract: its registry entry is the one in
// server/queues/registry.ts, its processor is queue/type.ts, and that processor, written exactly as the
// README shows into a folder of its own, runs a job under `bun queue` with its outbox row closed.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sql } from "../server/db/client.ts";
import { enqueueJob } from "../server/queues/enqueue.ts";
import { getQueue } from "../server/queues/queue.ts";
import { workKey } from "../server/queues/registry.ts";
import { useTestDatabase } from "./support/database.ts";
import { useTestQueues } from "./support/isolation.ts";
import { run } from "./support/spawn.ts";
import { useSimulator } from "./support/upstream.ts";

const ROOT = resolve(import.meta.dirname, "..");
const queues = useTestQueues("readme");
const database = useTestDatabase("readme");
const { env: simEnv } = await useSimulator({ seed: 5 });

/** The TypeScript code blocks of one README section (### heading up to the next heading). */
function codeBlocks(heading: string): string[] {
  const readme = readFileSync(resolve(ROOT, "README.md"), "utf8");
  const start = readme.indexOf(`\n### ${heading}\n`);
  expect(start, `README has a section '${heading}'`).toBeGreaterThan(0);
  const end = readme.slice(start + 1).search(/\n##+ /);
  const section = readme.slice(start, end === -1 ? undefined : start + 1 + end);
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

const [entry, processorFile] = codeBlocks("Adding a queue");
const folder = resolve(ROOT, `.readme-processors-${queues.prefix}`);
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe("README: Adding a queue", () => {
  it("shows the registry entry and the processor file as they are in the repository", () => {
    expect(entry).toBeDefined();
    expect(processorFile).toBeDefined();
    expect(readFileSync(resolve(ROOT, "server/queues/registry.ts"), "utf8")).toContain(entry!);
    expect(readFileSync(resolve(ROOT, "queue/type.ts"), "utf8")).toBe(processorFile!);
  });

  it("runs a job through the processor as written, and closes the job's outbox row", async () => {
    mkdirSync(folder, { recursive: true });
    writeFileSync(resolve(folder, "type.ts"), processorFile!);
    const key = workKey("type", { id: 587 });
    // As a stored kill's fan-out would have asked for it.
    await sql()`insert into outbox (queue, job_key, payload, priority, relayed_at) values ('type', ${key}, '{"id": 587}', 8, now())`;
    const { jobId } = await enqueueJob("type", { id: 587 });

    const result = await run("queue.ts", ["type", "--dir", folder, "--limit", "1", "--no-services", "--summary-interval", "0"], {
      ...queues.env,
      ...database.env,
      ...simEnv,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(await getQueue("type").getJobState(jobId)).toBe("completed");
    const [type] = await sql()<{ name: string }[]>`select name from types where type_id = 587`;
    expect(type?.name).toBe("Rifter");
    expect(await sql()`select 1 from outbox where queue = 'type' and job_key = ${key}`).toHaveLength(0);
  }, 60_000);
});
