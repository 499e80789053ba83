// detail processor: reads an entity's own ESI route after its name was resolved in bulk.
import { refreshDetail } from "../server/entities/enrich.ts";
import { defineProcessor } from "../server/queues/processor.ts";

export default defineProcessor("detail", (payload, job) => refreshDetail(payload.kind, payload.id, job, payload.force));
