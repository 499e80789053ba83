// A simulator import with zKillboard's values, for the parity test and `bun scripts/zkb-parity.ts`: the
// world's generated kills plus crafted ones (rare hulls at fixed prices, first-hour and 01:00:00 kills,
// an old kill id with a blueprint in a container), stored through the store path with their types, their
// zkb blocks handed to the intake, then market prices and Forge history fetched from the simulator's ESI
// and every kill (re)valued.
import { sql } from "../../server/db/client.ts";
import { type EsiKillmail, esiKillmailSchema } from "../../server/esi/killmail-schema.ts";
import { referencesOf } from "../../server/killmails/flatten.ts";
import { submitKillmails } from "../../server/killmails/intake.ts";
import { storeKillmails } from "../../server/killmails/store.ts";
import { valueRange } from "../../server/killmails/values.ts";
import { fetchHistories, pricedTypeIds, updateMarketPrices } from "../../server/prices/fetch.ts";
import { zkbBlockSchema } from "../../server/zkb/schemas.ts";
import type { Simulator } from "../../sim/server.ts";
import { computeZkb } from "../../sim/world/zkb.ts";

export interface ParityKill {
  esi: EsiKillmail;
  hash: string;
  zkb: ReturnType<typeof computeZkb>;
}

/** Rare hulls zKillboard prices by hand, put on copies of capital kills. */
export const RARE_HULLS = [42126, 42125, 42241, 11940];
export const OLD_KILL_ID = 20_000_001;

function clone(k: ParityKill, id: number, patch: (esi: EsiKillmail) => void, sim: Simulator): ParityKill {
  const esi = structuredClone(k.esi);
  esi.killmail_id = id;
  patch(esi);
  const hash = id.toString(16).padStart(40, "0");
  return { esi, hash, zkb: computeZkb(esi as never, hash, sim.world.catalog, sim.world.market, sim.world.seed) };
}

/** The world's first `count` generated kills and the crafted ones. */
export function parityKills(sim: Simulator, count: number): ParityKill[] {
  const kills: ParityKill[] = [];
  for (let i = 0; i < count; i++) {
    const r = sim.world.killmail(i);
    kills.push({ esi: esiKillmailSchema.parse(r.esi), hash: r.hash, zkb: r.zkb as ParityKill["zkb"] });
  }
  const base = 990_000_000;
  const capital = kills.find((k) => [30, 659].includes(sim.world.catalog.types.get(k.esi.victim.ship_type_id)?.groupId ?? 0)) ?? kills[0]!;
  const crafted: ParityKill[] = RARE_HULLS.map((hull, n) => clone(capital, base + n, (e) => (e.victim.ship_type_id = hull), sim));
  const sample = kills[1]!;
  const day = sample.esi.killmail_time.slice(0, 10);
  for (const [n, time] of ["00:30:00", "01:00:00", "01:00:01"].entries()) {
    crafted.push(clone(sample, base + 10 + n, (e) => (e.killmail_time = `${day}T${time}Z`), sim));
  }
  const withContainer = kills.find((k) => k.esi.victim.items?.some((i) => i.items?.length)) ?? sample;
  const blueprint = sim.world.catalog.pools.blueprints[0];
  crafted.push(
    clone(
      withContainer,
      OLD_KILL_ID,
      (e) => {
        const container = e.victim.items?.find((i) => i.items?.length);
        if (container && blueprint) container.items!.push({ flag: 0, item_type_id: blueprint, quantity_destroyed: 1, singleton: 0 });
      },
      sim,
    ),
  );
  return [...kills, ...crafted];
}

/** Stores the kills with their types, hands their zkb blocks to the intake, fetches prices and values every kill. */
export async function importWithPrices(sim: Simulator, kills: ParityKill[], onStep?: (step: string) => void): Promise<void> {
  const db = sql();
  const typeIds = new Set<number>();
  for (const k of kills) for (const t of referencesOf(k.esi).types) typeIds.add(t);
  for (const id of typeIds) {
    const t = sim.world.type(id) as { name: string; group_id: number; market_group_id?: number; published: boolean } | undefined;
    if (!t) continue;
    const g = sim.world.group(t.group_id) as { name: string; category_id: number };
    const c = sim.world.category(g.category_id) as { name: string };
    await db`insert into categories (category_id, name) values (${g.category_id}, ${c.name}) on conflict do nothing`;
    await db`insert into groups (group_id, name, category_id) values (${t.group_id}, ${g.name}, ${g.category_id}) on conflict do nothing`;
    await db`insert into types (type_id, name, group_id, market_group_id, published)
             values (${id}, ${t.name}, ${t.group_id}, ${t.market_group_id ?? null}, ${t.published}) on conflict do nothing`;
  }
  onStep?.(`types: ${typeIds.size}`);
  for (let i = 0; i < kills.length; i += 500) await storeKillmails(db, kills.slice(i, i + 500));
  onStep?.(`stored: ${kills.length}`);
  for (let i = 0; i < kills.length; i += 1000) {
    const items = kills.slice(i, i + 1000).map((k) => ({ killmailId: k.esi.killmail_id, hash: k.hash, zkb: zkbBlockSchema.parse(k.zkb) }));
    await submitKillmails(items, { source: "zkb" });
  }
  onStep?.("zkb blocks recorded");
  await updateMarketPrices();
  const ids = await pricedTypeIds();
  for (let i = 0; i < ids.length; i += 100) await fetchHistories(ids.slice(i, i + 100));
  onStep?.(`prices: ${ids.length} types`);
  const [range] = await db<{ lo: number; hi: number }[]>`select min(killmail_id)::int8 as lo, max(killmail_id)::int8 as hi from killmails`;
  await valueRange(db, { fromId: range!.lo, toId: range!.hi, mode: "all" });
  onStep?.("valued");
}
