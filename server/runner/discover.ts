// Finds processor modules in a folder (queue/ by default): every *.ts file that is not a test and
// not prefixed with '_' is imported; those whose default export is a processor (defineProcessor) are
// kept, keyed by queue name, which must be the file's name (queue/<name>.ts).
import { readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { isProcessorModule, type ProcessorModule } from "../queues/processor.ts";

export const DEFAULT_PROCESSOR_DIR = resolve(import.meta.dirname, "../../queue");

export interface Discovered {
  modules: Map<string, ProcessorModule>;
  /** Files imported that do not export a processor (reported, not fatal). */
  ignored: string[];
}

export async function discoverProcessors(dir: string = DEFAULT_PROCESSOR_DIR): Promise<Discovered> {
  const files = (await readdir(dir)).filter(
    (f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.endsWith(".d.ts") && !f.startsWith("_"),
  );
  const modules = new Map<string, ProcessorModule>();
  const ignored: string[] = [];
  for (const file of files.sort()) {
    const { default: mod } = (await import(join(resolve(dir), file))) as { default?: unknown };
    if (!isProcessorModule(mod)) {
      ignored.push(file);
      continue;
    }
    if (`${mod.name}.ts` !== file) throw new Error(`${join(dir, file)} defines the '${mod.name}' processor: name the file ${mod.name}.ts`);
    modules.set(mod.name, mod);
  }
  return { modules, ignored };
}

/** Picks the requested modules (all when none named); unknown names are reported together. */
export function selectProcessors(
  modules: Map<string, ProcessorModule>,
  names: string[],
): { selected: ProcessorModule[]; unknown: string[] } {
  if (names.length === 0) return { selected: [...modules.values()], unknown: [] };
  const unknown = names.filter((n) => !modules.has(n));
  const selected = [...new Set(names)].filter((n) => modules.has(n)).map((n) => modules.get(n)!);
  return { selected, unknown };
}
