// price processor: market prices and Forge histories; see server/prices/tasks.ts.
import { priceTask } from "../server/prices/tasks.ts";
import { defineProcessor } from "../server/queues/processor.ts";

export default defineProcessor("price", (payload) => priceTask(payload));
