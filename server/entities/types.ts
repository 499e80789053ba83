// Item types with their group and category (valuation needs both). Types barely change: a known type is
// not fetched again unless forced. A market type that arrives for the first time asks the price queue
// for the history of new types, so kills naming it can be valued.
import type { Job } from "bullmq";
import { sql } from "../db/client.ts";
import { getCategory, getGroup, getType, isNotFound, withEsi } from "../esi/index.ts";
import { enqueueJob } from "../queues/enqueue.ts";

export type TypeOutcome = "known" | "stored" | "deleted";

/** Group/category fetches in flight in this process: concurrent type jobs of one group ask ESI once. */
const inFlight = new Map<string, Promise<void>>();

/**
 * Runs `work` unless the same key is already being fetched, then waits for that instead. A waiter whose
 * fetch-owner failed (its job delayed by the ESI budget, say) does the work itself, under its own job.
 */
async function once(key: string, work: () => Promise<void>): Promise<void> {
  const pending = inFlight.get(key);
  if (pending) {
    try {
      return await pending;
    } catch {
      return work();
    }
  }
  const mine = work().finally(() => inFlight.delete(key));
  inFlight.set(key, mine);
  return mine;
}

async function ensureGroup(groupId: number, job: Job): Promise<void> {
  const [known] = await sql()`select 1 from groups where group_id = ${groupId}`;
  if (known) return;
  await once(`group-${groupId}`, () => fetchGroup(groupId, job));
}

async function fetchGroup(groupId: number, job: Job): Promise<void> {
  const group = (await withEsi(job, () => getGroup(groupId))).data;
  const [category] = await sql()`select 1 from categories where category_id = ${group.category_id}`;
  if (!category) {
    await once(`category-${group.category_id}`, async () => {
      const c = (await withEsi(job, () => getCategory(group.category_id))).data;
      await sql()`insert into categories (category_id, name, published) values (${c.category_id}, ${c.name}, ${c.published})
                  on conflict (category_id) do update set name = excluded.name, published = excluded.published, updated_at = now()`;
    });
  }
  await sql()`insert into groups (group_id, name, category_id, published) values (${group.group_id}, ${group.name}, ${group.category_id}, ${group.published})
              on conflict (group_id) do update set name = excluded.name, category_id = excluded.category_id,
                published = excluded.published, updated_at = now()`;
}

export async function refreshType(id: number, job: Job, force = false): Promise<TypeOutcome> {
  if (!force) {
    const [known] = await sql()`select 1 from types where type_id = ${id}`;
    if (known) return "known";
  }
  try {
    const t = (await withEsi(job, () => getType(id))).data;
    await ensureGroup(t.group_id, job);
    const [stored] = await sql()<{ isNew: boolean }[]>`
      insert into types (type_id, name, group_id, market_group_id, published, deleted, updated_at)
      values (${id}, ${t.name}, ${t.group_id}, ${t.market_group_id ?? null}, ${t.published}, false, now())
      on conflict (type_id) do update set name = excluded.name, group_id = excluded.group_id,
        market_group_id = excluded.market_group_id, published = excluded.published, deleted = false, updated_at = now()
      returning (xmax = 0) as "isNew"`;
    if (stored?.isNew && t.market_group_id !== undefined) {
      // One pending job fetches every new type's history (de-duplicated; a short delay gathers types).
      await enqueueJob("price", { task: "new-types" }, { priority: "enrichment", delay: 2_000 });
    }
    return "stored";
  } catch (err) {
    if (!isNotFound(err)) throw err;
    // Unknown to ESI (removed from the game): remembered so kills naming it stop asking for it;
    // its kills keep the row unpriced.
    await sql()`insert into types (type_id, name, group_id, published, deleted, updated_at)
                values (${id}, ${`Unknown type ${id}`}, 0, false, true, now())
                on conflict (type_id) do update set deleted = true, updated_at = now()`;
    return "deleted";
  }
}
