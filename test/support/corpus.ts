// The 106 real killmails in ../shared/killmails (beside the project in CI): bodies as ESI sends them,
// their hashes and manifest categories.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { type EsiKillmail, esiKillmailSchema } from "../../server/esi/killmail-schema.ts";
import { ROOT } from "./spawn.ts";

export const SHARED = resolve(ROOT, "../shared");

export interface CorpusKill {
  esi: EsiKillmail;
  /** Exactly what ESI sends (the file minus its extra `killmail_hash`). */
  raw: Record<string, unknown>;
  hash: string;
  category: string;
}

export function loadCorpus(): CorpusKill[] {
  const dir = resolve(SHARED, "killmails/shrike-corpus");
  if (!existsSync(dir)) throw new Error(`the real killmail corpus is missing: expected ${dir} (../shared beside the project)`);
  const manifest = JSON.parse(readFileSync(resolve(SHARED, "killmails/shrike-corpus-manifest.json"), "utf8")) as Record<string, string>;
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => {
      const { killmail_hash, ...raw } = JSON.parse(readFileSync(resolve(dir, f), "utf8")) as Record<string, unknown>;
      const esi = esiKillmailSchema.parse(raw);
      return { esi, raw, hash: String(killmail_hash), category: manifest[String(esi.killmail_id)] ?? "unknown" };
    });
}
