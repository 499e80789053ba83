// The price queue's tasks: `update` refreshes ESI /markets/prices and fans out Forge history jobs (100
// types each) for every market type kills name; `history` fetches those histories and reprices the
// types, which flags their kills for revaluation; `new-types` does that for every market type never
// fetched (the type processor asks for it when it stores a new market type). The daily scheduler
// (registry) runs `update` after ESI's 11:05 UTC market refresh.
import { enqueueJobs } from "../queues/enqueue.ts";
import type { PayloadOf } from "../queues/registry.ts";
import { fetchHistories, fetchNewTypes, pricedTypeIds, updateMarketPrices } from "./fetch.ts";

const HISTORY_CHUNK = 100;

export async function priceTask(payload: PayloadOf<"price">): Promise<unknown> {
  if (payload.task === "history") return fetchHistories(payload.typeIds);
  if (payload.task === "new-types") return fetchNewTypes();
  const prices = await updateMarketPrices();
  const typeIds = payload.typeIds ?? (await pricedTypeIds());
  const chunks: PayloadOf<"price">[] = [];
  for (let i = 0; i < typeIds.length; i += HISTORY_CHUNK) chunks.push({ task: "history", typeIds: typeIds.slice(i, i + HISTORY_CHUNK) });
  const queued = await enqueueJobs("price", chunks, { priority: "backfill" });
  return { prices, historyJobs: queued.added, types: typeIds.length };
}
