// alliance processor: names an alliance in bulk.
import { nameEntity } from "../server/entities/enrich.ts";
import { defineProcessor } from "../server/queues/processor.ts";

export default defineProcessor("alliance", (payload, job) => nameEntity("alliance", payload, job));
