// `bun run sim` as a real process: prints its address as the first stdout line, serves, works without
// ../shared (fresh clone), and stops cleanly on SIGTERM.
import { afterAll, describe, expect, it } from "vitest";
import { killAll, start } from "../test/support/spawn.ts";

afterAll(() => killAll());

function address(out: string): string {
  const first = out.split("\n")[0]!;
  expect(first).toMatch(/^simulator listening on http:\/\/127\.0\.0\.1:\d+$/);
  return first.replace("simulator listening on ", "");
}

describe("sim CLI", () => {
  it("bun run sim --port 0 --seed 7 prints the first line and serves", async () => {
    const p = start("sim/index.ts", ["--port", "0", "--seed", "7", "--quiet"]);
    await p.waitFor("simulator listening on");
    const url = address(p.stdout());
    const res = await fetch(`${url}/universe/types/587/`, { headers: { "User-Agent": "sim-cli-test/1.0" } });
    expect(((await res.json()) as { name: string }).name).toBe("Rifter");
    const seq = await fetch(`${url}/r2z2/ephemeral/sequence.json`);
    expect(seq.status).toBe(200);
    p.child.kill("SIGTERM");
    const result = await p.result;
    expect(result.code).toBe(0);
  });

  it("works with no ../shared: built-in catalog, no corpus", async () => {
    const p = start("sim/index.ts", ["--port", "0", "--seed", "7"], { SIM_SHARED_DIR: "/nonexistent/shared" });
    await p.waitFor("simulator listening on");
    const url = address(p.stdout());
    const world = (await (await fetch(`${url}/_sim/world`)).json()) as {
      catalog: string;
      corpus: number;
      sample: { killmails: { killmail_id: number; hash: string }[] };
    };
    expect(world.catalog).toBe("builtin");
    expect(world.corpus).toBe(0);
    const k = world.sample.killmails[0]!;
    const km = await fetch(`${url}/killmails/${k.killmail_id}/${k.hash}/`, { headers: { "User-Agent": "sim-cli-test/1.0" } });
    expect(km.status).toBe(200);
    expect((await fetch(`${url}/universe/types/33329/`, { headers: { "User-Agent": "sim-cli-test/1.0" } })).status).toBe(200);
    p.child.kill("SIGINT");
    expect((await p.result).code).toBe(0);
  });

  it("--catalog builtin --no-corpus with ../shared present; --catalog shared without it fails", async () => {
    const p = start("sim/index.ts", ["--port", "0", "--catalog", "builtin", "--no-corpus", "--quiet"]);
    await p.waitFor("simulator listening on");
    const world = (await (await fetch(`${address(p.stdout())}/_sim/world`)).json()) as { catalog: string; corpus: number };
    expect(world).toMatchObject({ catalog: "builtin", corpus: 0 });
    p.child.kill("SIGTERM");
    expect((await p.result).code).toBe(0);
    const bad = await start("sim/index.ts", ["--port", "0", "--catalog", "shared"], { SIM_SHARED_DIR: "/nonexistent/shared" }).result;
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/no SDE/);
  });
});
