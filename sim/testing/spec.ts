// Test helper: the official ESI OpenAPI 3.0 spec (../shared/esi) turned into ajv validators, so tests can
// check that every body the simulator serves (including error bodies) matches the route's response schema.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { parse } from "yaml";
import { defaultSharedDir } from "../world/index.ts";

type Json = Record<string, unknown>;

/** OpenAPI 3.0 schema → JSON Schema: `nullable`, and the keys ajv does not know, handled. */
function convert(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(convert);
  if (!node || typeof node !== "object") return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) {
    if (k.startsWith("x-") || k === "example" || k === "nullable" || k === "discriminator" || k === "xml") continue;
    out[k] = convert(v);
  }
  if ((node as Json).nullable === true && typeof out.type === "string") out.type = [out.type, "null"];
  return out;
}

export interface EsiSpec {
  /** Validator for the JSON body of `status` ("200" or "default") on a path template and method. */
  validator(path: string, method: "get" | "post", status: "200" | "default"): ValidateFunction;
  paths: Json;
}

export function loadEsiSpec(sharedDir = defaultSharedDir()): EsiSpec {
  const doc = parse(readFileSync(join(sharedDir, "esi", "openapi-2026-08-18.yaml"), "utf8")) as Json;
  const ajv = new Ajv({ strict: false, allErrors: true });
  const addFormats = addFormatsModule as unknown as (a: Ajv) => void;
  addFormats(ajv);
  ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat("int32", { type: "number", validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31 });
  ajv.addFormat("double", { type: "number", validate: () => true });
  ajv.addFormat("float", { type: "number", validate: () => true });
  ajv.addSchema({ $id: "esi", components: { schemas: convert((doc.components as Json).schemas) } });
  const paths = doc.paths as Json;
  const cache = new Map<string, ValidateFunction>();
  return {
    paths,
    validator(path, method, status) {
      const key = `${method} ${path} ${status}`;
      const hit = cache.get(key);
      if (hit) return hit;
      const op = (paths[path] as Json | undefined)?.[method] as Json | undefined;
      if (!op) throw new Error(`no ${method} ${path} in the spec`);
      const response = (op.responses as Json)[status] as Json;
      const schema = ((response.content as Json)["application/json"] as Json).schema as Json;
      const ref = String(schema.$ref).replace(/^#/, "esi#");
      const fn = ajv.compile({ $ref: ref });
      cache.set(key, fn);
      return fn;
    },
  };
}
