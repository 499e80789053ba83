// alliance processor: refreshes one alliance from ESI.
import { refreshAlliance } from "../server/entities/corporations.ts";
import { defineProcessor } from "../server/queues/processor.ts";

export default defineProcessor("alliance", (payload, job) => refreshAlliance(payload.id, job, payload.force));
