// Every Redis script under server/ keeps the layout lua.ts relies on: a header naming each KEYS/ARGV entry
// in order, locals bound to them in that order at the top, a body that only uses the locals, and source
// that the real Redis compiles. The checks themselves are shown to fail on broken scripts.
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { headerLines, type LuaHeader, loadLua, parseLuaHeader } from "./lua.ts";
import { createRedis } from "./redis.ts";

const SERVER = resolve(import.meta.dirname, "..");
const scripts = readdirSync(SERVER, { recursive: true, encoding: "utf8" })
  .filter((f) => f.endsWith(".lua"))
  .sort();

/** Problems with a script's bindings: `local xKey = KEYS[i]`, then `local x = ARGV[i]` (or tonumber(ARGV[i])). */
function bindingProblems(source: string, header: LuaHeader): string[] {
  const skipped = headerLines(source).length;
  const lines = source.split("\n").slice(skipped);
  let at = 0;
  const next = () => {
    while (lines[at]?.trim() === "") at++;
    return lines[at++] ?? "";
  };
  const problems: string[] = [];
  header.keys.forEach((name, i) => {
    const line = next();
    const ok = `local ${name}Key = KEYS[${i + 1}]`;
    if (line !== ok) problems.push(`KEYS[${i + 1}]: expected "${ok}", got "${line}"`);
  });
  header.argv.forEach((name, i) => {
    const line = next();
    const ok = [`local ${name} = ARGV[${i + 1}]`, `local ${name} = tonumber(ARGV[${i + 1}])`];
    if (!ok.includes(line)) problems.push(`ARGV[${i + 1}]: expected "${ok[0]}" or "${ok[1]}", got "${line}"`);
  });
  lines.forEach((line, i) => {
    if (i >= at && /\b(KEYS|ARGV)\s*\[/.test(line)) problems.push(`line ${skipped + i + 1} uses KEYS/ARGV directly: "${line.trim()}"`);
  });
  return problems;
}

const redis = createRedis({ lazyConnect: true });
afterAll(() => redis.quit());

describe("Redis scripts under server/", () => {
  it("are found where the modules load them from", () => {
    expect(scripts).toEqual(expect.arrayContaining(["esi/lua/acquire.lua", "esi/lua/settle.lua", "zkb/lua/reserve-slot.lua"]));
  });

  describe.each(scripts)("%s", (file) => {
    const path = join(SERVER, file);
    const source = readFileSync(path, "utf8");

    it("has a header naming its keys, arguments and reply", () => {
      const header = parseLuaHeader(source, file);
      expect(header.keys.length).toBeGreaterThan(0);
      expect(headerLines(source).some((line) => /^-- Returns /.test(line))).toBe(true);
      expect(loadLua(pathToFileURL(path)).numberOfKeys).toBe(header.keys.length);
    });

    it("binds every entry to a local in order and uses only the locals", () => {
      expect(bindingProblems(source, parseLuaHeader(source, file))).toEqual([]);
    });

    it("compiles in Redis (SCRIPT LOAD)", async () => {
      const sha = await redis.script("LOAD", source);
      expect(sha).toMatch(/^[0-9a-f]{40}$/);
    });
  });
});

describe("the checks catch broken scripts", () => {
  const good = [
    "-- Adds to a counter.",
    "-- KEYS[1] counter: string",
    "-- KEYS[2] log: list",
    "-- ARGV[1] by: step",
    "-- Returns the new value.",
    "local counterKey = KEYS[1]",
    "local logKey = KEYS[2]",
    "local by = tonumber(ARGV[1])",
    "return redis.call('INCRBY', counterKey, by)",
  ];
  const edit = (i: number, line: string) => good.map((l, j) => (j === i ? line : l)).join("\n");

  it("accepts the good one", () => {
    const source = good.join("\n");
    expect(parseLuaHeader(source, "x.lua")).toEqual({ summary: "Adds to a counter.", keys: ["counter", "log"], argv: ["by"] });
    expect(bindingProblems(source, parseLuaHeader(source, "x.lua"))).toEqual([]);
  });

  it("rejects a missing header, a gap, a repeat, a name without meaning", () => {
    expect(() => parseLuaHeader(good.slice(5).join("\n"), "x.lua")).toThrow(/x\.lua: no header/);
    expect(() => parseLuaHeader(edit(2, "-- KEYS[3] log: list"), "x.lua")).toThrow(/KEYS\[3\] where KEYS\[2\] was expected/);
    expect(() => parseLuaHeader(edit(2, "-- KEYS[2] counter: again"), "x.lua")).toThrow(/names KEYS "counter" twice/);
    expect(() => parseLuaHeader(edit(3, "-- ARGV[1] by"), "x.lua")).toThrow(/malformed header line "-- ARGV\[1\] by"/);
  });

  it("rejects bindings out of order and KEYS/ARGV in the body", () => {
    const swapped = edit(6, "local logKey = KEYS[1]");
    expect(bindingProblems(swapped, parseLuaHeader(swapped, "x.lua"))).toEqual([
      'KEYS[2]: expected "local logKey = KEYS[2]", got "local logKey = KEYS[1]"',
    ]);
    const direct = edit(8, "return redis.call('INCRBY', KEYS[1], by)");
    expect(bindingProblems(direct, parseLuaHeader(direct, "x.lua"))).toEqual([
      `line 9 uses KEYS/ARGV directly: "return redis.call('INCRBY', KEYS[1], by)"`,
    ]);
  });

  it("lets Redis reject source that does not compile", async () => {
    await expect(redis.script("LOAD", "local x = ")).rejects.toThrow(/Error compiling script/);
  });
});
