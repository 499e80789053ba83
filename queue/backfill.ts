// backfill processor: long batch work cut into jobs, dispatched by task; see server/backfill/tasks.ts.
import { backfillTask } from "../server/backfill/tasks.ts";
import { defineProcessor } from "../server/queues/processor.ts";

export default defineProcessor("backfill", (payload, job) => backfillTask(payload, job));
