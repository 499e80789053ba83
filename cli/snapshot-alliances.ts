// `snapshot:alliances`: writes today's per-alliance member and corporation counts into
// alliance_snapshots (one row per alliance and day; a rerun the same day rewrites the row), or with
// `--schedule` registers the daily job scheduler that does it on the backfill queue.
import { type Command, InvalidArgumentError } from "commander";
import { ALLIANCE_SNAPSHOT_SCHEDULER_ID, schedulerDeclaration } from "../server/queues/registry.ts";
import { isoDate } from "./_args.ts";
import { print, printJson } from "./_output.ts";
import { onCleanup, runCommand, UsageError } from "./_run.ts";

interface Options {
  date?: string;
  schedule?: boolean;
  cron?: string;
  unschedule?: boolean;
  json?: boolean;
}

/** A 5- or 6-field cron pattern (BullMQ checks the fields themselves when the scheduler is created). */
function cronPattern(value: string): string {
  const fields = value.trim().split(/\s+/);
  if (fields.length < 5 || fields.length > 6 || !fields.every((f) => /^[\w*,/?#-]+$/.test(f))) {
    throw new InvalidArgumentError("must be a cron pattern of 5 or 6 fields, e.g. '0 12 * * *'");
  }
  return value.trim();
}

export function register(program: Command): void {
  program
    .command("snapshot:alliances")
    .summary("Record per-alliance member and corporation counts for today (or schedule it daily)")
    .description(
      "For every stored alliance, write its member count (sum of member_count of its corporations in the\n" +
        "corporations table) and corporation count into alliance_snapshots for the day. Idempotent per\n" +
        "(alliance, date). With --schedule, create or update the daily job scheduler instead.",
    )
    .option("--date <date>", "the day to record (YYYY-MM-DD, default today UTC); the counts are the current ones", isoDate)
    .option("--schedule", "register the daily scheduler 'alliance-snapshot-daily' on the backfill queue (idempotent)")
    .option(
      "--cron <pattern>",
      "cron pattern (UTC) of the scheduler",
      cronPattern,
      schedulerDeclaration(ALLIANCE_SNAPSHOT_SCHEDULER_ID).scheduler.cron,
    )
    .option("--unschedule", "remove the daily scheduler")
    .option("--json", "print the summary as JSON")
    .addHelpText(
      "after",
      "\nThe scheduler enqueues a backfill job (task alliance-snapshot) that `bun queue backfill` runs.\n" +
        "Counts are as fresh as the corporations table (see queue:alliance-corporations).\n\n" +
        "Examples:\n  bun cli snapshot:alliances\n  bun cli snapshot:alliances --schedule\n" +
        "  bun cli snapshot:alliances --schedule --cron '30 12 * * *'\n  bun cli snapshot:alliances --unschedule",
    )
    .action(
      runCommand(async (opts: Options, cmd: Command) => {
        if (opts.schedule && opts.unschedule) throw new UsageError("--schedule and --unschedule exclude each other");
        if ((opts.schedule || opts.unschedule) && opts.date) throw new UsageError("--date applies to a snapshot, not to the scheduler");
        if (!opts.schedule && cmd.getOptionValueSource("cron") === "cli") throw new UsageError("--cron needs --schedule");
        const snapshots = await import("../server/enrichment/snapshots.ts");
        if (opts.unschedule) {
          const removed = await snapshots.unscheduleAllianceSnapshots();
          if (opts.json) return printJson({ id: ALLIANCE_SNAPSHOT_SCHEDULER_ID, removed });
          return print(removed ? `removed scheduler ${ALLIANCE_SNAPSHOT_SCHEDULER_ID}` : `no scheduler ${ALLIANCE_SNAPSHOT_SCHEDULER_ID}`);
        }
        if (opts.schedule) {
          try {
            await snapshots.scheduleAllianceSnapshots(opts.cron);
          } catch (err) {
            // BullMQ rejects a pattern whose fields do not parse: a usage error, not a runtime failure.
            if (err instanceof Error && /validation|constraint|invalid|cron/i.test(err.message))
              throw new UsageError(`--cron '${opts.cron}': ${err.message}`);
            throw err;
          }
          if (opts.json) return printJson({ id: ALLIANCE_SNAPSHOT_SCHEDULER_ID, cron: opts.cron, tz: "UTC" });
          return print(`scheduler ${ALLIANCE_SNAPSHOT_SCHEDULER_ID}: alliance snapshot daily at '${opts.cron}' UTC (backfill queue)`);
        }
        const { closeDb } = await import("../server/db/client.ts");
        onCleanup(closeDb);
        const r = await snapshots.snapshotAlliances(opts.date);
        if (opts.json) return printJson(r);
        print(
          `snapshot ${r.date}: ${r.alliances} alliances (${r.inserted} new, ${r.updated} rewritten), ${r.corporations} corporations, ${r.members} members`,
        );
      }),
    );
}
