// checkEsiKillmail (ajv, for bulk paths) must accept and reject exactly what esiKillmailSchema (zod)
// does: the real corpus, simulated kills, and bodies broken one field at a time.
import { describe, expect, it } from "vitest";
import { simulatedKillmails } from "../../bench/kills.ts";
import { loadCorpus } from "../../test/support/corpus.ts";
import { checkEsiKillmail, esiKillmailSchema } from "./killmail-schema.ts";

const clone = <T>(x: T): T => structuredClone(x);

describe("checkEsiKillmail", () => {
  it("accepts every real corpus kill and simulated kill, unchanged", () => {
    const bodies = [...loadCorpus().map((k) => k.raw), ...simulatedKillmails(300).map((k) => k.esi)];
    for (const body of bodies) {
      const checked = checkEsiKillmail(clone(body));
      expect(checked.success).toBe(true);
      if (checked.success) expect(checked.data).toEqual(esiKillmailSchema.parse(body));
    }
  });

  it("rejects what zod rejects, naming the field", () => {
    const base = loadCorpus()[0]!.raw as Record<string, any>;
    const broken: [string, (b: Record<string, any>) => void, string][] = [
      ["negative damage", (b) => (b.attackers[0].damage_done = -1), "attackers.0.damage_done"],
      ["no attackers", (b) => (b.attackers = []), "attackers"],
      ["fractional id", (b) => (b.killmail_id = 1.5), "killmail_id"],
      ["id as a string", (b) => (b.solar_system_id = "30000142"), "solar_system_id"],
      ["not a time", (b) => (b.killmail_time = "yesterday"), "killmail_time"],
      ["missing victim ship", (b) => delete b.victim.ship_type_id, "victim"],
      [
        "nested item with a bad flag",
        (b) => (b.victim.items = [{ flag: 5, item_type_id: 3, singleton: 0, items: [{ flag: -1, item_type_id: 4, singleton: 0 }] }]),
        "victim.items.0.items.0.flag",
      ],
      ["final_blow not a boolean", (b) => (b.attackers[0].final_blow = 1), "attackers.0.final_blow"],
    ];
    for (const [what, breakIt, path] of broken) {
      const body = clone(base);
      breakIt(body);
      expect(esiKillmailSchema.safeParse(body).success, what).toBe(false);
      const checked = checkEsiKillmail(body);
      expect(checked.success, what).toBe(false);
      if (!checked.success) expect(checked.issue, what).toContain(path);
    }
  });

  it("drops unknown fields, as zod does", () => {
    const body = { ...clone(loadCorpus()[0]!.raw), zkb: { totalValue: 1 } };
    const checked = checkEsiKillmail(body);
    expect(checked.success).toBe(true);
    if (checked.success) expect(Object.keys(checked.data)).not.toContain("zkb");
  });
});
