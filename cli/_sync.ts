// Shared by `sync:character`, `sync:corporation` and `sync:alliance`: one entity's kills from the
// zKillboard API, page after page (with bodies), into the pipeline at the backfill tier until an empty page
// or maxPages; the client keeps to ~1 request/s across processes; resumable from the saved page.
import type { Command } from "commander";
import type { SyncKind } from "../server/imports/zkb-sync.ts";
import { integer } from "./_args.ts";
import { type CommonOptions, commonOptions, countsLine, importSettings, rates, timingLine } from "./_import.ts";
import { print, printJson } from "./_output.ts";
import { createProgress } from "./_progress.ts";
import { onCleanup, runCommand, UsageError } from "./_run.ts";

const EXAMPLE_IDS: Record<SyncKind, number> = { character: 90000001, corporation: 98000001, alliance: 99000001 };

const article = (kind: SyncKind) => (kind === "alliance" ? "an" : "a");

export function registerSyncCommand(program: Command, kind: SyncKind): void {
  commonOptions(
    program
      .command(`sync:${kind}`)
      .summary(`Import ${article(kind)} ${kind}'s kills and losses from the zKillboard API`)
      .description(
        `Import ${article(kind)} ${kind}'s kills and losses from the zKillboard API (${kind}ID/{id}/page/{n}/, newest first, with ESI ` +
          "bodies), page after page until an empty page or maxPages, at about one request a second (shared by every " +
          "process). Kills already stored are skipped; jobs go in at the backfill tier.",
      )
      .argument("<id>", `${kind} id`, integer(1))
      .argument("[maxPages]", "last page to read (1–100, default 100)", integer(1)),
  )
    .addHelpText(
      "after",
      `\nThe next page is saved in Postgres (cursor 'sync:zkb:${kind}ID:<id>'): after a crash or CTRL+C the same\n` +
        "command resumes there; a finished sync starts again at page 1.\n\n" +
        `Examples:\n  bun cli sync:${kind} ${EXAMPLE_IDS[kind]}\n  bun cli sync:${kind} ${EXAMPLE_IDS[kind]} 5 --json`,
    )
    .action(
      runCommand(async (id: number, maxPages: number | undefined, opts: CommonOptions) => {
        if (maxPages !== undefined && maxPages > 100) throw new UsageError("maxPages must be 1–100 (the zKillboard API serves 100 pages)");
        const [{ syncZkb }, { closeDb }, { requireEsiUserAgent }] = await Promise.all([
          import("../server/imports/zkb-sync.ts"),
          import("../server/db/client.ts"),
          import("../server/helpers/config.ts"),
        ]);
        requireEsiUserAgent();
        onCleanup(closeDb);
        const progress = await createProgress({ label: `sync:${kind} ${id} kills`, total: 0 });
        const result = await syncZkb(kind, id, {
          ...importSettings(opts),
          ...(maxPages !== undefined ? { maxPages } : {}),
          onPage: (_page, _n, counts) => progress.update(counts.read),
        });
        progress.stop();
        if (opts.json) return printJson({ ...result, ...rates(result) });
        const last = result.firstPage + result.pages - 1;
        print(
          `sync:${kind} ${id}: pages ${result.firstPage}–${last} (${result.stoppedBy === "empty-page" ? "stopped at an empty page" : "reached maxPages"}); ` +
            countsLine(result.counts),
        );
        print(timingLine(result));
      }),
    );
}
