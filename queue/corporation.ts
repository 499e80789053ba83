// corporation processor: names a corporation in bulk.
import { nameEntity } from "../server/entities/enrich.ts";
import { defineProcessor } from "../server/queues/processor.ts";

export default defineProcessor("corporation", (payload, job) => nameEntity("corporation", payload, job));
