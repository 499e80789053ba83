// Helpers shared by the benchmark scripts: spawning entry points as real processes.
import { spawn } from "node:child_process";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "..");

export interface BenchProcess {
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<number | null>;
  output(): string;
}

/** Runs `bun <entry> …args` from the project root; stop() sends SIGTERM and waits for the exit. */
export function spawnEntry(entry: string, args: string[], env: Record<string, string>): BenchProcess {
  const child = spawn(process.execPath, [resolve(ROOT, entry), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  process.on("exit", () => child.kill("SIGKILL"));
  return {
    output: () => out,
    async waitFor(text, timeoutMs = 30_000) {
      const end = Date.now() + timeoutMs;
      while (!out.includes(text)) {
        if (Date.now() > end) throw new Error(`${entry} did not print '${text}' in time:\n${out}`);
        if (child.exitCode !== null) throw new Error(`${entry} exited (${child.exitCode}):\n${out}`);
        await Bun.sleep(50);
      }
    },
    async stop() {
      child.kill("SIGTERM");
      return exited;
    },
  };
}
