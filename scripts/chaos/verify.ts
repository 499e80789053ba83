// What a chaos scenario is judged by: the kills the source offered against what Postgres holds —
// every kill stored once (its attackers and items not doubled), valued, its body read back equal to the
// ESI body, and every character, corporation, alliance and type it names known (or marked deleted).
import { isDeepStrictEqual } from "node:util";
import { pgArray } from "../../server/db/arrays.ts";
import { sql } from "../../server/db/client.ts";
import type { EsiItem, EsiKillmail } from "../../server/esi/killmail-schema.ts";
import { referencesOf } from "../../server/killmails/flatten.ts";
import { loadKillmail } from "../../server/killmails/read.ts";

const countItems = (items: EsiItem[] | undefined): number => (items ?? []).reduce((n, i) => n + 1 + countItems(i.items), 0);

export interface Figures {
  offered: number;
  stored: number;
  lost: number;
  /** Kills with more attacker or item rows than their body has. */
  duplicated: number;
  withoutValues: number;
  /** Kills whose stored body differs from ESI's. */
  bodyMismatches: number;
  /** Characters, corporations, alliances and types the kills name that are not in their tables. */
  entitiesMissing: number;
  /** Kills still pending or failed in the intake ledger. */
  intakeOpen: number;
}

export function clean(f: Figures): boolean {
  return f.lost + f.duplicated + f.withoutValues + f.bodyMismatches + f.entitiesMissing + f.intakeOpen === 0 && f.stored === f.offered;
}

/** Counts what is stored of `offered`; cheap enough to poll (no body reads). */
export async function storedFigures(offered: EsiKillmail[]): Promise<Pick<Figures, "stored" | "withoutValues" | "intakeOpen">> {
  const ids = pgArray(offered.map((k) => k.killmail_id));
  const [row] = await sql()<{ stored: number; valued: number; open: number }[]>`
    select (select count(*) from killmails where killmail_id = any(${ids}::int8[]))::int as stored,
           (select count(*) from killmail_values where killmail_id = any(${ids}::int8[]))::int as valued,
           (select count(*) from killmail_intake where killmail_id = any(${ids}::int8[]))::int as open`;
  return { stored: row!.stored, withoutValues: row!.stored - row!.valued, intakeOpen: row!.open };
}

/** Ids the kills name that their tables do not hold (NPCs left out, as the fan-out does). */
export async function missingEntities(offered: EsiKillmail[]): Promise<number> {
  const want = { characters: new Set<number>(), corporations: new Set<number>(), alliances: new Set<number>(), types: new Set<number>() };
  for (const esi of offered) {
    const refs = referencesOf(esi);
    for (const id of refs.characters) want.characters.add(id);
    for (const id of refs.corporations) want.corporations.add(id);
    for (const id of refs.alliances) want.alliances.add(id);
    for (const id of refs.types) want.types.add(id);
  }
  const [row] = await sql()<{ n: number }[]>`
    select (select count(*) from unnest(${pgArray([...want.characters])}::int4[]) u(id) where not exists (select 1 from characters c where c.character_id = u.id))
         + (select count(*) from unnest(${pgArray([...want.corporations])}::int4[]) u(id) where not exists (select 1 from corporations c where c.corporation_id = u.id))
         + (select count(*) from unnest(${pgArray([...want.alliances])}::int4[]) u(id) where not exists (select 1 from alliances a where a.alliance_id = u.id))
         + (select count(*) from unnest(${pgArray([...want.types])}::int4[]) u(id) where not exists (select 1 from types t where t.type_id = u.id))
      as n`;
  return Number(row!.n);
}

/** The whole comparison (reads every stored body back through the same code the HTTP API uses). */
export async function figures(offered: EsiKillmail[]): Promise<Figures> {
  const ids = pgArray(offered.map((k) => k.killmail_id));
  const stored = await storedFigures(offered);
  const rows = await sql()<{ id: number; attackers: number; items: number }[]>`
    select k.killmail_id as id,
           (select count(*) from attackers a where a.killmail_id = k.killmail_id)::int as attackers,
           (select count(*) from items i where i.killmail_id = k.killmail_id)::int as items
    from killmails k where k.killmail_id = any(${ids}::int8[])`;
  const byId = new Map(offered.map((k) => [k.killmail_id, k]));
  let duplicated = 0;
  for (const r of rows) {
    const esi = byId.get(r.id)!;
    if (r.attackers > esi.attackers.length || r.items > countItems(esi.victim.items)) duplicated++;
  }
  let bodyMismatches = 0;
  for (const esi of offered) {
    const back = await loadKillmail(esi.killmail_id);
    if (back && !isDeepStrictEqual(JSON.parse(JSON.stringify(back.killmail)), JSON.parse(JSON.stringify(esi)))) bodyMismatches++;
  }
  return {
    offered: offered.length,
    stored: stored.stored,
    lost: offered.length - stored.stored,
    duplicated,
    withoutValues: stored.withoutValues,
    bodyMismatches,
    entitiesMissing: await missingEntities(offered),
    intakeOpen: stored.intakeOpen,
  };
}
