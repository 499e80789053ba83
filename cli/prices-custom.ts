// `prices:custom list|set|remove`: the operator's custom prices (zKillboard's fixed-price list, seeded
// by migration). A change reprices the type and flags the kills it changes; the flagged value backfill
// re-values them.
import type { Command } from "commander";
import { integer, isoDate } from "./_args.ts";
import { print, printJson, table } from "./_output.ts";
import { EXIT_FAILURE, onCleanup, runCommand, UsageError } from "./_run.ts";

interface Options {
  from?: string;
  to?: string;
  note?: string;
  json?: boolean;
}

const ACTIONS = ["list", "set", "remove"] as const;

export function register(program: Command): void {
  program
    .command("prices:custom")
    .summary("List, set or remove custom prices (zKillboard's fixed prices), repricing and flagging kills")
    .description(
      "Custom prices outrank every market rule (zKillboard's getFixedPrice). The list starts as zKillboard's\n" +
        "(rare hulls, dated prices, market-manipulated items); set and remove reprice the type's days at once and\n" +
        "flag the kills whose values change: re-value them with `bun cli backfill:values --mode=flagged`.",
    )
    .argument("<action>", `${ACTIONS.join(" | ")}`)
    .argument("[type]", "type id (list: only this type)", integer(1))
    .argument("[price]", "set: ISK per unit (up to 2 decimals)")
    .option("--from <date>", "set: first day (default 2003-01-01); remove: only the price starting that day", isoDate)
    .option("--to <date>", "set: last day, inclusive (default: open-ended)", isoDate)
    .option("--note <text>", "set: a note (why)")
    .option("--json", "print JSON for scripts")
    .addHelpText(
      "after",
      "\nExamples:\n  bun cli prices:custom list\n  bun cli prices:custom set 42126 700000000000 --note 'Vanquisher, zKillboard 2026-12'\n" +
        "  bun cli prices:custom set 42241 350000000000 --to 2019-06-30\n  bun cli prices:custom remove 42126",
    )
    .action(
      runCommand(async (action: string, type: number | undefined, price: string | undefined, opts: Options) => {
        if (!(ACTIONS as readonly string[]).includes(action)) throw new UsageError(`unknown action '${action}': use ${ACTIONS.join(", ")}`);
        if (action !== "list" && type === undefined) throw new UsageError(`${action} needs a type id`);
        if (action === "set" && (price === undefined || !/^\d{1,18}(\.\d{1,2})?$/.test(price))) {
          throw new UsageError(`set needs a price in ISK with up to 2 decimals, got '${price ?? ""}'`);
        }
        if (opts.from && opts.to && opts.to < opts.from) throw new UsageError("--to must not be before --from");
        const [{ closeDb }, custom] = await Promise.all([import("../server/db/client.ts"), import("../server/prices/custom.ts")]);
        onCleanup(closeDb);
        if (action === "list") {
          const rows = await custom.listCustomPrices(type);
          if (opts.json) return printJson(rows);
          print(
            table(
              ["type", "name", "from", "to", "price", "note"],
              rows.map((r) => ({ type: r.typeId, name: r.name, from: r.validFrom, to: r.validTo, price: r.price, note: r.note })),
              { alignRight: ["type", "price"] },
            ),
          );
          return;
        }
        if (action === "set") {
          const r = await custom.setCustomPrice({ typeId: type!, price: price!, validFrom: opts.from, validTo: opts.to, note: opts.note });
          if (opts.json) return printJson({ typeId: type, price, ...r });
          print(`type ${type}: ${price} ISK from ${opts.from ?? custom.EARLIEST_DAY}${opts.to ? ` to ${opts.to}` : ""}`);
          print(`${r.written} daily prices written, ${r.marked} kills flagged (bun cli backfill:values --mode=flagged)`);
          return;
        }
        const r = await custom.removeCustomPrice(type!, opts.from);
        if (opts.json) printJson({ typeId: type, removed: r.removed, ...r.refresh });
        if (r.removed === 0) {
          if (!opts.json) process.stderr.write(`error: type ${type} has no custom price${opts.from ? ` starting ${opts.from}` : ""}\n`);
          return EXIT_FAILURE;
        }
        if (!opts.json) {
          print(`type ${type}: ${r.removed} custom price(s) removed`);
          print(`${r.refresh.written} daily prices written, ${r.refresh.deleted} removed, ${r.refresh.marked} kills flagged`);
        }
      }),
    );
}
