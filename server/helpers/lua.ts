// Loads a Redis Lua script kept in its own file, laid out like BullMQ's commands: a comment header that
// says what the script does, names every `KEYS[i]` and `ARGV[i]` (`-- KEYS[1] guard: meaning`, in order
// from 1), and what it returns. The key count ioredis needs is read from that header, so it is stated
// once, next to the keys themselves. The script binds each entry to a local at the top (`KEYS[i]` named
// `x` → `local xKey`, `ARGV[i]` named `x` → `local x`); lua.test.ts holds every script to that.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type RedisClient, redis } from "./redis.ts";

/** What a script's header declares: its first line and the names of its keys and arguments, in order. */
export interface LuaHeader {
  summary: string;
  keys: string[];
  argv: string[];
}

const ENTRY = /^--\s+(KEYS|ARGV)\[(\d+)\]\s+([A-Za-z_]\w*):\s+\S/;
const MENTION = /^--\s*(KEYS|ARGV)\b/;

/** The leading `--` comment lines of a script (its header). */
export function headerLines(source: string): string[] {
  const lines = source.split("\n");
  const end = lines.findIndex((line) => !line.startsWith("--"));
  return lines.slice(0, end < 0 ? lines.length : end);
}

/** Parses a script's header; throws naming `file` when it is missing or its entries are out of order. */
export function parseLuaHeader(source: string, file: string): LuaHeader {
  const lines = headerLines(source);
  const summary = lines[0]?.replace(/^--\s*/, "").trim() ?? "";
  if (!summary) throw new Error(`${file}: no header (the first line must be a "-- what this script does" comment)`);
  const names: Record<"KEYS" | "ARGV", string[]> = { KEYS: [], ARGV: [] };
  for (const line of lines) {
    if (!MENTION.test(line)) continue;
    const m = ENTRY.exec(line);
    if (!m) throw new Error(`${file}: malformed header line "${line}" (expected "-- KEYS[n] name: meaning")`);
    const [, kind, index, name] = m as unknown as [string, "KEYS" | "ARGV", string, string];
    const list = names[kind];
    if (Number(index) !== list.length + 1) {
      throw new Error(`${file}: header lists ${kind}[${index}] where ${kind}[${list.length + 1}] was expected (1..n, in order)`);
    }
    if (list.includes(name)) throw new Error(`${file}: header names ${kind} "${name}" twice`);
    list.push(name);
  }
  return { summary, keys: names.KEYS, argv: names.ARGV };
}

/** Reads a script for ioredis `defineCommand`; `url` is usually `new URL("./lua/x.lua", import.meta.url)`. */
export function loadLua(url: URL): { lua: string; numberOfKeys: number } {
  const lua = readFileSync(url, "utf8");
  return { lua, numberOfKeys: parseLuaHeader(lua, fileURLToPath(url)).keys.length };
}

type LuaScript = ReturnType<typeof loadLua>;

/**
 * The shared connection with these scripts defined as commands (once per connection: a test or a
 * configuration change may bring a new one). `C` types the commands: name → (keys…, args…) → reply.
 */
export function scriptedRedis<C>(scripts: Record<keyof C & string, LuaScript>): () => RedisClient & C {
  const prepared = new WeakSet<RedisClient>();
  return () => {
    const r = redis();
    if (!prepared.has(r)) {
      for (const [name, script] of Object.entries<LuaScript>(scripts)) r.defineCommand(name, script);
      prepared.add(r);
    }
    return r as RedisClient & C;
  };
}
