// killmail processor: stores a killmail (body from the payload, or fetched from ESI as the exception),
// or a batch of kills with their bodies (bulk sources), with values and fan-out; the kills of many
// concurrent jobs are micro-batched into one transaction.
import { defineProcessor } from "../server/helpers/processor.ts";
import { fetchKillmailFromEsi } from "../server/killmails/fetch.ts";
import { ingestKillmail, ingestKillmailBatch } from "../server/killmails/ingest.ts";

export const { name, options, processor, createWorker } = defineProcessor({
  name: "killmail",
  // Enough jobs in flight for the batcher to fill a transaction from single-kill jobs, few enough that
  // batch jobs (up to 250 kills each) keep memory bounded; ESI fetches are paced by the shared budget.
  options: { concurrency: 64, lockDuration: 60_000 },
  handle: (payload, job) => ("batch" in payload ? ingestKillmailBatch(payload, job) : ingestKillmail(payload, job, fetchKillmailFromEsi)),
});
