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
