// `scan:entities`: walks the stored kills in batches and enqueues (backfill tier, de-duplicated) the
// characters, corporations, alliances and types they name that are missing from their tables; NPC
// characters and corporations are skipped. Resumable: the position is saved in Postgres after each
// batch, and rerunning the same command continues an unfinished scan.
import type { Command } from "commander";
import { integer } from "./_args.ts";
import { plural, print, printJson, table } from "./_output.ts";
import { createProgress } from "./_progress.ts";
import { EXIT_FAILURE, onCleanup, runCommand, stopOnSignals, UsageError } from "./_run.ts";

interface Options {
  fromId?: number;
  toId?: number;
  batchSize: number;
  restart?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("scan:entities")
    .summary("Enqueue the characters, corporations, alliances and types of stored kills missing from their tables")
    .description(
      "Walk the stored kills in batches (by killmail_id) and enqueue a refresh job (backfill tier) for every\n" +
        "character, corporation, alliance and type they name that is missing from its table. NPC characters\n" +
        "(≤ 3,999,999) and corporations (≤ 1,999,999) are never enqueued; work already pending is not duplicated.",
    )
    .option("--from-id <id>", "only kills with this id or higher", integer(0))
    .option("--to-id <id>", "only kills with this id or lower", integer(0))
    .option("--batch-size <n>", "kills per batch", integer(1), 5_000)
    .option("--restart", "start the range again instead of resuming an unfinished scan")
    .option("--json", "print the summary as JSON")
    .addHelpText(
      "after",
      "\nThe position is saved in Postgres (table cursors, name 'scan-entities' or 'scan-entities-<from>-<to>')\n" +
        "after every batch: after a crash or Ctrl-C, run the same command again to resume. A finished scan\n" +
        "starts over on the next run. The jobs are done by `bun queue character corporation alliance type`.\n" +
        "Exit code 1 when interrupted (resumable).\n\n" +
        "Examples:\n  bun cli scan:entities\n  bun cli scan:entities --from-id 130000000 --to-id 131000000 --json\n  bun cli scan:entities --restart",
    )
    .action(
      runCommand(async (opts: Options) => {
        if (opts.fromId !== undefined && opts.toId !== undefined && opts.fromId > opts.toId)
          throw new UsageError("--from-id is above --to-id");
        const [{ scanEntities, ENTITY_KINDS }, { closeDb }] = await Promise.all([
          import("../server/enrichment/scan.ts"),
          import("../server/db/client.ts"),
        ]);
        onCleanup(closeDb);
        let stop = false;
        stopOnSignals(() => {
          stop = true;
          process.stderr.write("stopping after the current batch…\n");
        });

        let progress: Awaited<ReturnType<typeof createProgress>> | undefined;
        const result = await scanEntities({
          ...(opts.fromId !== undefined ? { fromId: opts.fromId } : {}),
          ...(opts.toId !== undefined ? { toId: opts.toId } : {}),
          batchSize: opts.batchSize,
          restart: opts.restart ?? false,
          shouldStop: () => stop,
          onBatch: (_state, n) => progress?.increment(n),
          onStart: async (r) => {
            process.stderr.write(
              r.resumedFrom !== null
                ? `resuming scan after killmail ${r.resumedFrom}: ${r.remaining} kills to go\n`
                : `scanning ${r.remaining} kills\n`,
            );
            progress = await createProgress({ label: "kills", total: r.remaining });
          },
        });
        progress?.stop();
        const s = result.state;
        const summary = {
          status: result.finished ? "done" : "interrupted",
          cursor: result.cursor,
          resumedFrom: result.resumedFrom,
          lastKillmailId: s.after >= 0 ? s.after : null,
          kills: s.kills,
          batches: s.batches,
          counts: s.counts,
        };
        if (opts.json) printJson(summary);
        else {
          print(
            `scan ${summary.status}: ${plural(s.kills, "kill")} in ${s.batches} ${s.batches === 1 ? "batch" : "batches"}${result.resumedFrom !== null ? " (totals of the whole scan, resumed)" : ""}`,
          );
          const rows = ENTITY_KINDS.map((kind) => ({ kind, enqueued: s.counts[kind].enqueued, "already pending": s.counts[kind].pending }));
          print(table(["kind", "enqueued", "already pending"], rows));
          if (!result.finished) print(`stopped after killmail ${s.after}: rerun the same command to resume`);
        }
        return result.finished ? 0 : EXIT_FAILURE;
      }),
    );
}
