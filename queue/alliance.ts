// alliance processor: refreshes one alliance from ESI (fan-out of stored kills, alliance scans).
import { refreshAlliance } from "../server/entities/corporations.ts";
import { runOutboxJob } from "../server/entities/outbox-job.ts";
import { defineProcessor } from "../server/helpers/processor.ts";

export const { name, options, processor, createWorker } = defineProcessor({
  name: "alliance",
  options: { concurrency: 4, limiter: { max: 20, duration: 1_000 } },
  handle: (payload, job) => runOutboxJob("alliance", `alliance-${payload.id}`, job, () => refreshAlliance(payload.id, job, payload.force)),
});
