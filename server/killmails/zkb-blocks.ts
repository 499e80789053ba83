// zKillboard's own numbers for kills (the zkb block of R2Z2 envelopes and zKillboard API answers), kept
// as they came in killmail_zkb: the four values verify:zkb compares ours with (server/backfill/verify-zkb.ts),
// and points/npc/solo/awox/labels, which a board shows. One statement per intake chunk; a newer block
// for the same kill replaces the older one (zKillboard re-values kills too).
import { type ArrayElement, pgArray } from "../db/arrays.ts";
import { sql } from "../db/client.ts";
import type { ZkbBlock } from "../zkb/schemas.ts";

export interface ZkbBlockItem {
  killmailId: number;
  zkb: ZkbBlock;
}

/** Upserts the zkb blocks of these kills (those without one are left alone). */
export async function recordZkbBlocks(items: readonly ZkbBlockItem[], source: string): Promise<void> {
  if (items.length === 0) return;
  const unique = new Map(items.map((i) => [i.killmailId, i.zkb]));
  const ids = [...unique.keys()];
  const blocks = [...unique.values()];
  const col = <T extends ArrayElement>(f: (z: ZkbBlock) => T) => pgArray(blocks.map(f));
  await sql()`
    insert into killmail_zkb (killmail_id, total_value, destroyed_value, dropped_value, fitted_value, total_droppable_value,
                              points, npc, solo, awox, labels, source, received_at)
    select u.id, u.total, u.destroyed, u.dropped, u.fitted, u.droppable, u.points, u.npc, u.solo, u.awox,
           case when u.labels is null then null else string_to_array(u.labels, ',') end, ${source}, now()
    from unnest(${pgArray(ids)}::int8[], ${col((z) => z.totalValue)}::numeric[], ${col((z) => z.destroyedValue)}::numeric[],
                ${col((z) => z.droppedValue)}::numeric[], ${col((z) => z.fittedValue)}::numeric[],
                ${col((z) => z.totalDroppableValue ?? null)}::numeric[], ${col((z) => z.points)}::int4[],
                ${col((z) => z.npc)}::bool[], ${col((z) => z.solo)}::bool[], ${col((z) => z.awox)}::bool[],
                ${col((z) => z.labels.join(","))}::text[])
      as u(id, total, destroyed, dropped, fitted, droppable, points, npc, solo, awox, labels)
    on conflict (killmail_id) do update set
      total_value = excluded.total_value, destroyed_value = excluded.destroyed_value, dropped_value = excluded.dropped_value,
      fitted_value = excluded.fitted_value, total_droppable_value = excluded.total_droppable_value, points = excluded.points,
      npc = excluded.npc, solo = excluded.solo, awox = excluded.awox, labels = excluded.labels, source = excluded.source,
      received_at = excluded.received_at
    where (killmail_zkb.total_value, killmail_zkb.destroyed_value, killmail_zkb.dropped_value, killmail_zkb.fitted_value,
           killmail_zkb.total_droppable_value, killmail_zkb.points, killmail_zkb.labels)
          is distinct from (excluded.total_value, excluded.destroyed_value, excluded.dropped_value, excluded.fitted_value,
                            excluded.total_droppable_value, excluded.points, excluded.labels)`;
}
