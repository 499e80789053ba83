// killmail processor: stores the kills a job names (one, or a batch job's) with their values and
// fan-out; see server/killmails/ingest.ts.
import { fetchKillmailFromEsi } from "../server/killmails/fetch.ts";
import { ingestKillmailJob } from "../server/killmails/ingest.ts";
import { defineProcessor } from "../server/queues/processor.ts";

export default defineProcessor("killmail", (payload, job) => ingestKillmailJob(payload, job, fetchKillmailFromEsi));
