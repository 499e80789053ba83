// type processor: stores an item type with its group and category (valuation needs them).
import { runOutboxJob } from "../server/entities/outbox-job.ts";
import { refreshType } from "../server/entities/types.ts";
import { defineProcessor } from "../server/helpers/processor.ts";

export const { name, options, processor, createWorker } = defineProcessor({
  name: "type",
  options: { concurrency: 8, limiter: { max: 30, duration: 1_000 } },
  handle: (payload, job) => runOutboxJob("type", `type-${payload.id}`, job, () => refreshType(payload.id, job, payload.force)),
});
