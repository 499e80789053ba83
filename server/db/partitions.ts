// Kill partitions (10M killmail ids each, see drizzle/0001_kill_partitions.sql): created ahead of the
// newest stored or announced kill so inserts never fall into the default partition.
import { sql } from "./client.ts";

/** Headroom kept beyond the highest known killmail id. */
const HEADROOM = 20_000_000;

/** Creates missing partitions up to `maxId` (default: the highest known id + headroom); returns how many. */
export async function ensureKillPartitions(maxId?: number): Promise<number> {
  const target =
    maxId ??
    (
      await sql()<{ max: number }[]>`
        select greatest(coalesce((select max(killmail_id) from killmails), 0),
                        coalesce((select max(killmail_id) from killmail_intake), 0))::int8 as max`
    )[0]!.max + HEADROOM;
  const [row] = await sql()<{ created: number }[]>`select ensure_kill_partitions(${target}) as created`;
  return row!.created;
}

/** Killmail ids a day when the stored kills of the last week cannot tell (old imports only): about EVE's rate. */
export const DEFAULT_IDS_PER_DAY = 40_000;

export interface PartitionRunway {
  /** Killmail ids between the newest stored or announced kill and the end of the last partition. */
  idsAhead: number;
  /** idsAhead at the recent rate of new killmail ids (the last week's kills, else DEFAULT_IDS_PER_DAY). */
  daysAhead: number;
}

/** How far the kill partitions reach beyond the newest kill: index probes and the catalog, no table scan. */
export async function partitionRunway(): Promise<PartitionRunway> {
  const [row] = await sql()<{ upper: number | null; newest: number; recentId: number | null; recentAt: Date | null }[]>`
    select
      (select max(substring(pg_get_expr(c.relpartbound, c.oid) from 'TO \\(''?(\\d+)''?\\)')::int8)
         from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'killmails'::regclass) as upper,
      greatest(coalesce((select max(killmail_id) from killmails), 0),
               coalesce((select max(killmail_id) from killmail_intake), 0))::int8 as newest,
      r.killmail_id as "recentId", r.killmail_time as "recentAt"
    from (select 1) one
    left join lateral (select killmail_id, killmail_time from killmails
                        where killmail_time > now() - interval '7 days'
                        order by killmail_time limit 1) r on true`;
  const idsAhead = Math.max(0, (row?.upper ?? 0) - (row?.newest ?? 0));
  let idsPerDay = DEFAULT_IDS_PER_DAY;
  if (row?.recentId && row.recentAt) {
    const days = (Date.now() - row.recentAt.getTime()) / 86_400_000;
    const ids = row.newest - row.recentId;
    if (days >= 1 && ids > 0) idsPerDay = ids / days;
  }
  return { idsAhead, daysAhead: idsAhead / idsPerDay };
}
