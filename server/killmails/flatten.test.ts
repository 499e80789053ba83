// The store's COPY text is the rows flattenKillmail describes (the rows the reader turns back into the
// ESI body): same values, same column order, same pre-order item indexes, parent links and
// first-of-entity flags, on every real kill and a thousand simulated ones.
import { describe, expect, it } from "vitest";
import { loadCorpus } from "../../test/support/corpus.ts";
import { copyLine, CopyWriter, type CopyValue } from "../db/copy.ts";
import type { EsiKillmail } from "../esi/killmail-schema.ts";
import { World } from "../../sim/world/index.ts";
import {
  ATTACKER_COPY_COLUMNS,
  flattenKillmail,
  ITEM_COPY_COLUMNS,
  writeAttackerRows,
  writeItemRows,
} from "./flatten.ts";

const camel = (column: string) => column.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** The rows flattenKillmail builds, written as COPY lines field by field in the given column order. */
function linesOf(rows: object[], columns: readonly string[]): string {
  return rows.map((row) => copyLine(columns.map((c) => (row as Record<string, CopyValue>)[camel(c)]!))).join("");
}

/** What a writer function writes for one kill, as text. */
function written(write: (out: CopyWriter, esi: EsiKillmail) => void, esi: EsiKillmail): string {
  const out = new CopyWriter(16); // tiny, so the tests also cover its growing
  write(out, esi);
  return new TextDecoder().decode(out.bytes());
}

function kills(): EsiKillmail[] {
  const world = new World({ seed: 11, killmails: 1000, corpus: false });
  return [...loadCorpus().map((c) => c.esi), ...Array.from({ length: 1000 }, (_, i) => world.killmail(i).esi as EsiKillmail)];
}

describe("COPY text of a kill's rows", () => {
  const all = kills();

  it("names every attacker and item field flattenKillmail fills", () => {
    const flat = flattenKillmail(all[0]!, "a".repeat(40));
    expect(ATTACKER_COPY_COLUMNS.map(camel).sort()).toEqual(Object.keys(flat.attackers[0]!).sort());
    const withItems = all.find((k) => k.victim.items?.some((i) => i.items?.length))!;
    expect(ITEM_COPY_COLUMNS.map(camel).sort()).toEqual(Object.keys(flattenKillmail(withItems, "a".repeat(40)).items[0]!).sort());
  });

  it("equals the flattened rows, line for line, on real and simulated kills", () => {
    let nested = 0;
    for (const esi of all) {
      const flat = flattenKillmail(esi, "a".repeat(40));
      expect(written(writeAttackerRows, esi), `attackers of ${esi.killmail_id}`).toBe(linesOf(flat.attackers, ATTACKER_COPY_COLUMNS));
      expect(written(writeItemRows, esi), `items of ${esi.killmail_id}`).toBe(linesOf(flat.items, ITEM_COPY_COLUMNS));
      if (flat.items.some((i) => i.parentIndex !== null)) nested++;
    }
    expect(nested).toBeGreaterThan(10); // containers with contents are among them
  });
});
