// corporation processor: refreshes one corporation from ESI.
import { refreshCorporation } from "../server/entities/corporations.ts";
import { defineProcessor } from "../server/queues/processor.ts";

export default defineProcessor("corporation", (payload, job) => refreshCorporation(payload.id, job, payload.force));
