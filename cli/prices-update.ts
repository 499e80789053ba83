// `prices:update`: runs the price update now, in this process: ESI /markets/prices, then the Forge history
// of every market type kills name (only those past ESI's Expires, conditionally), repricing the types that
// changed and flagging their kills for revaluation. Progress on stderr, then a summary.
import type { Command } from "commander";
import { print, printJson } from "./_output.ts";
import { createProgress } from "./_progress.ts";
import { onCleanup, runCommand, UsageError } from "./_run.ts";

interface Options {
  types?: string;
  reprice?: boolean;
  json?: boolean;
}

const CHUNK = 100;

export function register(program: Command): void {
  program
    .command("prices:update")
    .summary("Fetch market prices and Forge history now, reprice, flag kills for revaluation")
    .description("Run the daily price update now: ESI /markets/prices, then the Forge history of every market type kills name")
    .option("--types <ids>", "only these type ids (comma-separated)")
    .option("--reprice", "then recompute every type's daily prices over all days (after a rule change or an upgrade)")
    .option("--json", "print the summary as JSON")
    .addHelpText(
      "after",
      "\nHistory is asked for only once ESI's Expires has passed (conditionally, with the stored ETag).\n" +
        "Kills whose prices changed are flagged; the flagged value backfill revalues them\n" +
        "(scheduled by `bun queue backfill`, or now: bun cli backfill:values --mode=flagged).\n\n" +
        "After an upgrade that changes the price rules, --reprice recomputes every stored daily price and flags\n" +
        "the kills whose prices changed (then: bun cli backfill:values --mode=flagged).\n\n" +
        "Examples:\n  bun cli prices:update\n  bun cli prices:update --types 587,670 --json\n  bun cli prices:update --reprice",
    )
    .action(
      runCommand(async (opts: Options) => {
        let only: number[] | undefined;
        if (opts.types !== undefined) {
          only = opts.types.split(",").map((t) => Number(t.trim()));
          if (only.length === 0 || only.some((t) => !Number.isInteger(t) || t <= 0)) {
            throw new UsageError(`--types must be positive integer ids separated by commas, got '${opts.types}'`);
          }
        }
        const [{ fetchHistories, pricedTypeIds, updateMarketPrices }, { closeDb }, { requireEsiUserAgent }] = await Promise.all([
          import("../server/prices/fetch.ts"),
          import("../server/db/client.ts"),
          import("../server/helpers/config.ts"),
        ]);
        requireEsiUserAgent();
        onCleanup(closeDb);
        const started = Date.now();
        const prices = await updateMarketPrices();
        if (!opts.json) {
          print(
            prices.notModified
              ? "markets/prices: not modified since the last update"
              : `markets/prices: ${prices.types} types, ${prices.changed} changed`,
          );
        }
        const typeIds = only ?? (await pricedTypeIds());
        const progress = await createProgress({ label: "history", total: typeIds.length });
        const total = { asked: 0, fresh: 0, notModified: 0, notMarket: 0, rows: 0, prices: 0, flagged: 0 };
        for (let i = 0; i < typeIds.length; i += CHUNK) {
          const r = await fetchHistories(typeIds.slice(i, i + CHUNK), (n) => progress.update(i + n));
          for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += r[k];
        }
        progress.stop();
        let reprice: { written: number; deleted: number; marked: number } | undefined;
        if (opts.reprice) {
          const { refreshTypePrices } = await import("../server/prices/refresh.ts");
          const r = await refreshTypePrices();
          reprice = { written: r.written, deleted: r.deleted, marked: r.marked };
          total.flagged += r.marked;
        }
        const seconds = Math.round((Date.now() - started) / 100) / 10;
        if (opts.json)
          return printJson({ marketPrices: prices, types: typeIds.length, ...total, ...(reprice ? { reprice } : {}), seconds });
        if (reprice) {
          print(`reprice: ${reprice.written} daily prices written, ${reprice.deleted} removed, ${reprice.marked} kills flagged`);
        }
        print(
          `history: ${typeIds.length} types — ${total.asked} asked (${total.notModified} not modified, ${total.notMarket} not on the market), ${total.fresh} still fresh`,
        );
        print(
          `stored ${total.rows} history days; ${total.prices} daily prices written; ${total.flagged} kills flagged for revaluation (${seconds} s)`,
        );
      }),
    );
}
