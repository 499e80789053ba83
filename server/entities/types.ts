// Item types with their group and category (valuation needs both). Types barely change: a known type is
// not fetched again unless forced; a group or category is fetched once across all processes (a lease in
// Redis). A market type that arrives for the first time asks the price queue for the history of new
// types, so kills naming it can be valued.

import type { Job } from "bullmq";
import { sql } from "../db/client.ts";
import { getCategory, getGroup, getType, isNotFound, withEsi } from "../esi/index.ts";
import { underLease } from "../helpers/lease.ts";
import { enqueueJob } from "../queues/enqueue.ts";

export type TypeOutcome = "known" | "stored" | "deleted";

const known = async (table: "groups" | "categories", key: "group_id" | "category_id", id: number) => {
  const db = sql();
  return (await db`select 1 from ${db(table)} where ${db(key)} = ${id}`).length > 0;
};

/** A group (and its category) is fetched once, whichever of the processes' type jobs needs it first. */
async function ensureGroup(groupId: number, job: Job): Promise<void> {
  await underLease(
    `group-${groupId}`,
    () => known("groups", "group_id", groupId),
    () => fetchGroup(groupId, job),
  );
}

async function fetchGroup(groupId: number, job: Job): Promise<void> {
  const group = (await withEsi(job, () => getGroup(groupId))).data;
  const [category] = await sql()`select 1 from categories where category_id = ${group.category_id}`;
  if (!category) {
    await underLease(
      `category-${group.category_id}`,
      () => known("categories", "category_id", group.category_id),
      async () => {
        const c = (await withEsi(job, () => getCategory(group.category_id))).data;
        await sql()`insert into categories (category_id, name, published) values (${c.category_id}, ${c.name}, ${c.published})
                  on conflict (category_id) do update set name = excluded.name, published = excluded.published, updated_at = now()`;
      },
    );
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
