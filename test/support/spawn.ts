// Runs a project entry point (`queue.ts`, `cli.ts`, …) as a real child process under Bun and
// collects its exit code and output; tests assert on both. After each test file, no process it started
// may have logged a key sent to the wrong Redis Cluster node or slot (MOVED, ASK, CROSSSLOT, TRYAGAIN).
import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { afterAll, expect } from "vitest";

export const ROOT = resolve(import.meta.dirname, "../..");

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Spawned {
  child: ChildProcess;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout+stderr contain the text (or rejects after timeoutMs). */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  result: Promise<RunResult>;
}

const children = new Set<ChildProcess>();

/** Lines of a process log that show keys sent to the wrong cluster node or slot. */
export function clusterErrors(log: string): string[] {
  return log.split("\n").filter((line) => /\b(MOVED|ASK|CROSSSLOT|TRYAGAIN)\b/.test(line));
}

const outputs: Promise<RunResult>[] = [];
afterAll(async () => {
  // killAll (afterEach) has ended every process by now: their results are in.
  const logs = await Promise.all(outputs.splice(0));
  expect(logs.flatMap((r) => clusterErrors(r.stdout + r.stderr))).toEqual([]);
});
// A test that fails or times out must not leave its process running (it would take later tests' jobs).
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

/** Kills every child process this test file started that is still running. */
export function killAll(): void {
  for (const child of children) child.kill("SIGKILL");
  children.clear();
}

export function start(entry: string, args: string[], env: Record<string, string> = {}): Spawned {
  const child = spawn(process.execPath.includes("bun") ? process.execPath : "bun", [resolve(ROOT, entry), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  child.on("exit", () => children.delete(child));
  let out = "";
  let err = "";
  const waiters: { test: (s: string) => boolean; resolve: () => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (!w.test(out + err)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  child.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
    check();
  });
  child.stderr!.on("data", (d: Buffer) => {
    err += d.toString();
    check();
  });
  const result = new Promise<RunResult>((res) => child.on("close", (code, signal) => res({ code, signal, stdout: out, stderr: err })));
  outputs.push(result);
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitFor(text, timeoutMs = 20_000) {
      const test = (s: string) => (typeof text === "string" ? s.includes(text) : text.test(s));
      if (test(out + err)) return Promise.resolve();
      return new Promise<void>((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`timed out waiting for ${text}\nstdout:\n${out}\nstderr:\n${err}`)), timeoutMs);
        waiters.push({
          test,
          resolve: () => {
            clearTimeout(timer);
            res();
          },
        });
        void result.then(() => {
          clearTimeout(timer);
          if (!test(out + err)) rej(new Error(`process exited before ${text}\nstdout:\n${out}\nstderr:\n${err}`));
        });
      });
    },
    result,
  };
}

/** Runs to completion. */
export function run(entry: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return start(entry, args, env).result;
}
