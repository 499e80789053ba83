// Daily alliance snapshots: for every stored alliance (not deleted), its member count (sum of
// member_count of the corporations in it, from the corporations table) and corporation count on a day,
// in one set-based statement. One row per (alliance, date): rerunning the same day updates the row
// with the current counts instead of adding one. The daily job scheduler (backfill queue, task
// `alliance-snapshot`, declared in the registry) is created by `bun queue` or
// `bun cli snapshot:alliances --schedule`.
import type { Job } from "bullmq";
import { sql } from "../db/client.ts";
import { jobLog, jobProgress } from "../queues/job-report.ts";
import { ALLIANCE_SNAPSHOT_SCHEDULER_ID } from "../queues/registry.ts";
import { removeScheduler, upsertScheduler } from "../queues/schedulers.ts";

export interface SnapshotResult {
  date: string;
  alliances: number;
  /** Rows new for the day, and rows of the day rewritten (a rerun). */
  inserted: number;
  updated: number;
  members: number;
  corporations: number;
}

/** Today's UTC date, YYYY-MM-DD. */
export function utcDate(at = new Date()): string {
  return at.toISOString().slice(0, 10);
}

/** Writes (or rewrites) the snapshot rows of `date` (default today, UTC) from the current tables. */
export async function snapshotAlliances(date: string = utcDate()): Promise<SnapshotResult> {
  const [r] = await sql()<Omit<SnapshotResult, "date">[]>`
    with counts as (
      select a.alliance_id, coalesce(sum(c.member_count), 0)::int as member_count, count(c.corporation_id)::int as corporation_count
      from alliances a left join corporations c on c.alliance_id = a.alliance_id and not c.deleted
      where not a.deleted
      group by a.alliance_id
    ), written as (
      insert into alliance_snapshots as s (alliance_id, date, member_count, corporation_count)
      select alliance_id, ${date}::date, member_count, corporation_count from counts
      on conflict (alliance_id, date) do update set
        member_count = excluded.member_count, corporation_count = excluded.corporation_count
      returning (xmax = 0) as inserted, s.member_count, s.corporation_count
    )
    select count(*)::int as alliances, count(*) filter (where inserted)::int as inserted,
           count(*) filter (where not inserted)::int as updated,
           coalesce(sum(member_count), 0)::int8 as members, coalesce(sum(corporation_count), 0)::int as corporations
    from written`;
  return { date, ...r! };
}

/** The `alliance-snapshot` backfill task (what the daily scheduler enqueues). */
export async function allianceSnapshotTask(payload: { date?: string | undefined }, job?: Job): Promise<SnapshotResult> {
  const date = payload.date ?? utcDate();
  await jobLog(job, `snapshot of every alliance for ${date}`);
  const r = await snapshotAlliances(date);
  await jobProgress(
    job,
    100,
    `${r.alliances} alliances: ${r.inserted} rows new, ${r.updated} rewritten (${r.members} members, ${r.corporations} corporations)`,
  );
  return r;
}

/** Creates or updates the daily scheduler (idempotent: one scheduler id); default: the registry's cron. */
export async function scheduleAllianceSnapshots(cron?: string): Promise<void> {
  await upsertScheduler(ALLIANCE_SNAPSHOT_SCHEDULER_ID, cron ? { cron } : undefined);
}

export function unscheduleAllianceSnapshots(): Promise<boolean> {
  return removeScheduler(ALLIANCE_SNAPSHOT_SCHEDULER_ID);
}
