// killmail processor: stores a killmail (body from the payload, or fetched from ESI as the exception)
// with its values and fan-out, micro-batched with other jobs into one transaction per batch.
import { defineProcessor } from "../server/helpers/processor.ts";
import { fetchKillmailFromEsi } from "../server/killmails/fetch.ts";
import { ingestKillmail } from "../server/killmails/ingest.ts";

export const { name, options, processor, createWorker } = defineProcessor({
  name: "killmail",
  // Many jobs in flight so the batcher can fill a transaction; ESI fetches are paced by the shared budget.
  options: { concurrency: 500, lockDuration: 60_000 },
  handle: (payload, job) => ingestKillmail(payload, job, fetchKillmailFromEsi),
});
