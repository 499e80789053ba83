// price processor: `update` refreshes ESI /markets/prices and fans out Forge history jobs (100 types each)
// for every market type kills name; `history` fetches those histories and reprices the types, which flags
// their kills for revaluation; `new-types` does that for every market type never fetched (the type
// processor asks for it, de-duplicated, when it stores a new market type). A daily scheduler runs
// `update` after ESI's 11:05 UTC market refresh.

import { defineProcessor } from "../server/helpers/processor.ts";
import { enqueueJobMany, JobPriority } from "../server/helpers/queue.ts";
import { fetchHistories, fetchNewTypes, pricedTypeIds, updateMarketPrices } from "../server/prices/fetch.ts";

const HISTORY_CHUNK = 100;

export const { name, options, processor, createWorker, schedulers } = defineProcessor({
  name: "price",
  // ESI's market routes are error-limited only; a few at once keeps well inside the budget.
  options: { concurrency: 4, lockDuration: 120_000 },
  async handle(payload) {
    if (payload.task === "history") return fetchHistories(payload.typeIds);
    if (payload.task === "new-types") return fetchNewTypes();
    const prices = await updateMarketPrices();
    const typeIds = payload.typeIds ?? (await pricedTypeIds());
    const chunks: { task: "history"; typeIds: number[] }[] = [];
    for (let i = 0; i < typeIds.length; i += HISTORY_CHUNK) chunks.push({ task: "history", typeIds: typeIds.slice(i, i + HISTORY_CHUNK) });
    const queued = await enqueueJobMany("price", chunks, { priority: JobPriority.LOW });
    return { prices, historyJobs: queued.added, types: typeIds.length };
  },
  schedulers: [{ id: "price-daily", data: { task: "update" }, cron: "15 11 * * *", priority: JobPriority.NORMAL }],
});
