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

/** Killmail ids a day when the stored kills cannot tell (too few, or over less than an hour): about EVE's rate. */
export const DEFAULT_IDS_PER_DAY = 40_000;
/** The rate of new killmail ids is measured over this many ids back from the newest kill. */
const RATE_SPAN_IDS = 200_000;

export interface PartitionRunway {
  /** Killmail ids between the newest stored or announced kill and the end of the last partition. */
  idsAhead: number;
  /** idsAhead at the rate of new killmail ids of the newest kills (else DEFAULT_IDS_PER_DAY). */
  daysAhead: number;
}

/**
 * How far the kill partitions reach beyond the newest kill. Primary-key probes (the newest kill, the
 * kill RATE_SPAN_IDS before it) and the catalog: the cost does not grow with the kills stored.
 */
export async function partitionRunway(): Promise<PartitionRunway> {
  const [row] = await sql()<{ upper: number | null; newestId: number | null; newestAt: Date | null; intakeId: number | null }[]>`
    select
      (select max(substring(pg_get_expr(c.relpartbound, c.oid) from 'TO \\(''?(\\d+)''?\\)')::int8)
         from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'killmails'::regclass) as upper,
      n.killmail_id as "newestId", n.killmail_time as "newestAt",
      (select killmail_id from killmail_intake order by killmail_id desc limit 1) as "intakeId"
    from (select 1) one
    left join lateral (select killmail_id, killmail_time from killmails order by killmail_id desc limit 1) n on true`;
  const newest = Math.max(row?.newestId ?? 0, row?.intakeId ?? 0);
  const idsAhead = Math.max(0, (row?.upper ?? 0) - newest);
  let idsPerDay = DEFAULT_IDS_PER_DAY;
  if (row?.newestId && row.newestAt) {
    const [back] = await sql()<{ id: number; at: Date }[]>`
      select killmail_id as id, killmail_time as at from killmails
      where killmail_id <= ${Math.max(0, row.newestId - RATE_SPAN_IDS)} order by killmail_id desc limit 1`;
    const [oldest] = back
      ? [back]
      : await sql()<{ id: number; at: Date }[]>`select killmail_id as id, killmail_time as at from killmails order by killmail_id limit 1`;
    const days = (row.newestAt.getTime() - (oldest?.at.getTime() ?? 0)) / 86_400_000;
    if (oldest && days >= 1 / 24 && row.newestId > oldest.id) idsPerDay = (row.newestId - oldest.id) / days;
  }
  return { idsAhead, daysAhead: idsAhead / idsPerDay };
}
