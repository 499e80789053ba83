// type processor: stores an item type with its group and category (valuation needs them).
import { refreshType } from "../server/entities/types.ts";
import { defineProcessor } from "../server/queues/processor.ts";

export default defineProcessor("type", (payload, job) => refreshType(payload.id, job, payload.force));
