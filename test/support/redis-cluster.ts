// A private 3-master Redis Cluster for tests (and the cluster test run, see vitest.cluster.config.ts):
// `redis-server --cluster-enabled yes` nodes on free local ports in a temporary folder, joined by
// `redis-cli --cluster create`, ready once every node reports cluster_state:ok; stopped and removed after.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePort } from "./redis-server.ts";

export interface PrivateCluster {
  /** `127.0.0.1:p1,127.0.0.1:p2,…`: the value of REDIS_CLUSTER_NODES. */
  nodes: string;
  ports: number[];
  /** FLUSHALL on every master (a cluster client's FLUSHALL reaches one node only). */
  flushAll(): Promise<void>;
  stop(): Promise<void>;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`Redis Cluster: timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

/** One command on one node, on a connection of its own that does not retry. */
async function onNode<T>(port: number, fn: (node: Redis) => Promise<T>): Promise<T> {
  const node = new Redis({ port, host: "127.0.0.1", lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 1 });
  node.on("error", () => {});
  try {
    await node.connect();
    return await fn(node);
  } finally {
    node.disconnect();
  }
}

export async function startRedisCluster(masters = 3): Promise<PrivateCluster> {
  const dir = mkdtempSync(join(tmpdir(), "kb-cluster-"));
  const ports: number[] = [];
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(
      children.map((child) => {
        if (child.exitCode !== null) return undefined;
        child.kill("SIGTERM");
        return new Promise((r) => child.once("exit", r));
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters; i++) {
      // The cluster bus gets a free port of its own (the default, port + 10000, may be taken or > 65535).
      const [port, bus] = [await freePort(), await freePort()];
      ports.push(port);
      children.push(
        spawn(
          "redis-server",
          [
            "--port",
            String(port),
            "--cluster-port",
            String(bus),
            "--bind",
            "127.0.0.1",
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            `nodes-${port}.conf`,
            "--cluster-node-timeout",
            "5000",
            "--dir",
            dir,
            "--save",
            "",
            "--appendonly",
            "no",
            "--maxmemory-policy",
            "noeviction",
          ],
          { stdio: "ignore" },
        ),
      );
    }
    for (const port of ports) await until(`node ${port} to start`, () => onNode(port, async (n) => (await n.ping()) === "PONG"));
    const created = spawnSync(
      "redis-cli",
      ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "0", "--cluster-yes"],
      { encoding: "utf8", timeout: 30_000 },
    );
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    for (const port of ports) {
      await until(`cluster_state:ok on ${port}`, () =>
        onNode(port, async (n) => ((await n.call("CLUSTER", "INFO")) as string).includes("cluster_state:ok")),
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    nodes: ports.map((p) => `127.0.0.1:${p}`).join(","),
    ports,
    async flushAll() {
      await Promise.all(ports.map((port) => onNode(port, (n) => n.flushall())));
    },
    stop,
  };
}
