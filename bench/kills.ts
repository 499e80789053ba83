// Killmails for benchmarks and tests. simulatedKillmails(): the local simulator's world (realistic
// shapes: heavy-tailed attacker counts, nested containers, NPCs), as the feed and archives deliver
// them. benchKillmails(): the real corpus (../shared) re-numbered into fresh ids from `firstId`, player
// ids remapped into a pool so fan-out de-duplication has work to do (kills with > 100 attackers left
// out), for tests that need disjoint id ranges in one database.
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { type EsiItem, type EsiKillmail, esiKillmailSchema } from "../server/esi/killmail-schema.ts";
import { World } from "../sim/world/index.ts";

export interface BenchKill {
  esi: EsiKillmail;
  hash: string;
  /** Item rows, nested ones included. */
  items: number;
}

const countItems = (items: EsiItem[] | undefined): number => (items ?? []).reduce((n, i) => n + 1 + countItems(i.items), 0);

export function benchKillmails(n: number, firstId = 150_000_000): BenchKill[] {
  const dir = resolve(import.meta.dirname, "../../shared/killmails/shrike-corpus");
  const corpus = readdirSync(dir)
    .map((f) => esiKillmailSchema.parse(JSON.parse(readFileSync(resolve(dir, f), "utf8"))))
    .filter((k) => k.attackers.length <= 100);
  const remap = (id: number | undefined, pool: number, base: number) => (id === undefined || id < 4_000_000 ? id : base + (id % pool));
  return Array.from({ length: n }, (_, i) => {
    const base = corpus[i % corpus.length]!;
    const round = Math.floor(i / corpus.length);
    const shift = (round * 7919) % 20_000;
    const esi: EsiKillmail = {
      ...base,
      killmail_id: firstId + i,
      victim: { ...base.victim, character_id: remap(base.victim.character_id && base.victim.character_id + shift, 20_000, 90_000_000) },
      attackers: base.attackers.map((a) => ({ ...a, character_id: remap(a.character_id && a.character_id + shift, 20_000, 90_000_000) })),
    };
    const hash = (BigInt(esi.killmail_id) * 0x9e3779b97f4a7c15n).toString(16).padStart(40, "0").slice(-40);
    return { esi, hash, items: countItems(esi.victim.items) };
  });
}

/** The first n generated kills of the simulator's world for `seed` (no real corpus kills). */
export function simulatedKillmails(n: number, seed = 7): BenchKill[] {
  const world = new World({ seed, killmails: n, corpus: false });
  return Array.from({ length: n }, (_, i) => {
    const k = world.killmail(i);
    const esi = esiKillmailSchema.parse(k.esi);
    return { esi, hash: k.hash, items: countItems(esi.victim.items) };
  });
}
