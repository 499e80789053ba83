// corporation processor: refreshes one corporation from ESI (fan-out of stored kills).
import { refreshCorporation } from "../server/entities/corporations.ts";
import { runOutboxJob } from "../server/entities/outbox-job.ts";
import { defineProcessor } from "../server/helpers/processor.ts";

export const { name, options, processor, createWorker } = defineProcessor({
  name: "corporation",
  options: { concurrency: 8, limiter: { max: 30, duration: 1_000 } },
  handle: (payload, job) =>
    runOutboxJob("corporation", `corporation-${payload.id}`, job, () => refreshCorporation(payload.id, job, payload.force)),
});
