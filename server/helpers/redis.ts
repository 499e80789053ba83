// Redis connections (ioredis), made in one place from the configuration: standalone (REDIS_URL), Sentinel
// (REDIS_SENTINELS + REDIS_SENTINEL_NAME) or Cluster (REDIS_CLUSTER_NODES). BullMQ workers need
// maxRetriesPerRequest: null; every other use shares one lazily created client per target. What must
// reach every master of a cluster lives here too: key deletion by pattern, the eviction-policy check and
// the health round trip (SCAN, CONFIG and a key reach one node only when sent through the cluster client).
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from "ioredis";
import { type Config, config, describeRedis, hashTag } from "./config.ts";
import { log } from "./logger.ts";
import { withTimeout } from "./timeout.ts";
import "./tracing-channel.ts";

/** A connection of any mode: both speak the same commands (a Cluster routes each by its key's slot). */
export type RedisClient = Redis | Cluster;

/** The options a caller may set; for a cluster they are split between the cluster and its node connections. */
export type ConnectionOptions = Pick<
  RedisOptions,
  "lazyConnect" | "connectTimeout" | "maxRetriesPerRequest" | "retryStrategy" | "enableOfflineQueue" | "enableReadyCheck"
>;

/** The username, password, TLS and database REDIS_URL gives (also used for Sentinel and Cluster nodes). */
function urlAuth(url: string): RedisOptions {
  const u = new URL(url);
  const auth: RedisOptions = {};
  if (u.username) auth.username = decodeURIComponent(u.username);
  if (u.password) auth.password = decodeURIComponent(u.password);
  if (u.protocol === "rediss:") auth.tls = {};
  const db = Number(u.pathname.slice(1));
  if (Number.isInteger(db) && db > 0) auth.db = db;
  return auth;
}

/** A new connection to the configured Redis; the caller closes it. */
export function createRedis(opts: ConnectionOptions = {}, cfg: Config = config()): RedisClient {
  const base = { maxRetriesPerRequest: null, enableReadyCheck: true, ...opts };
  if (cfg.redisClusterNodes) {
    const { lazyConnect, retryStrategy, enableOfflineQueue, enableReadyCheck, ...node } = base;
    const { db: _db, ...auth } = urlAuth(cfg.redisUrl); // a cluster has database 0 only
    const options: ClusterOptions = {
      redisOptions: { ...auth, ...node },
      ...(lazyConnect !== undefined ? { lazyConnect } : {}),
      ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}),
      enableReadyCheck,
      ...(retryStrategy ? { clusterRetryStrategy: retryStrategy } : {}),
    };
    return new Cluster(cfg.redisClusterNodes, options);
  }
  if (cfg.redisSentinels) {
    return new Redis({ ...urlAuth(cfg.redisUrl), sentinels: cfg.redisSentinels, name: cfg.redisSentinelName!, ...base });
  }
  return new Redis(cfg.redisUrl, base);
}

const shared = new Map<string, RedisClient>();

/** The process-wide connection (queues, budgets, caches). Closed by closeRedis(). */
export function redis(cfg: Config = config()): RedisClient {
  // Keyed by the target, so that a test switching REDIS_URL (setConfig) gets a connection to the new one.
  const target = JSON.stringify([cfg.redisUrl, cfg.redisSentinels, cfg.redisSentinelName, cfg.redisClusterNodes]);
  let client = shared.get(target);
  if (!client) {
    client = createRedis({}, cfg);
    // While Redis is away ioredis reconnects and its commands wait; say so once a minute, not per attempt.
    let lastLog = 0;
    const where = describeRedis(cfg);
    client.on("error", (err: Error) => {
      if (Date.now() - lastLog < 60_000) return;
      lastLog = Date.now();
      log("redis").warn({ err: err.message, redis: where }, "Redis connection failed; reconnecting (commands wait)");
    });
    shared.set(target, client);
  }
  return client;
}

/** Closes the shared connections: a polite QUIT, or a hard disconnect when Redis is gone (QUIT would wait for it). */
export async function closeRedis(): Promise<void> {
  const clients = [...shared.values()];
  shared.clear();
  await Promise.all(clients.map((c) => withTimeout(c.quit(), 2_000, "Redis QUIT").catch(() => c.disconnect())));
}

/** Resolves once a cluster client knows its nodes (a standalone one needs no wait). */
async function ready(client: RedisClient): Promise<void> {
  if (!(client instanceof Cluster) || client.status === "ready") return;
  if (client.status === "wait") await client.connect();
  else
    await new Promise<void>((resolve, reject) => {
      const onReady = () => {
        client.off("end", onEnd);
        resolve();
      };
      const onEnd = () => {
        client.off("ready", onReady);
        reject(new Error("Redis Cluster connection closed"));
      };
      client.once("ready", onReady);
      client.once("end", onEnd);
    });
}

/** The connections to every master: a cluster's master nodes, or the connection itself. */
export async function masters(client: RedisClient): Promise<Redis[]> {
  if (!(client instanceof Cluster)) return [client];
  await ready(client);
  return client.nodes("master");
}

/** A node's address for messages. */
export function nodeName(node: Redis): string {
  return `${node.options.host}:${node.options.port}`;
}

/**
 * Redis' maxmemory-policy, of every master (BullMQ loses jobs under any policy but `noeviction`): the
 * policy when all agree, else each master's.
 */
export async function evictionPolicy(client: RedisClient = redis()): Promise<string> {
  const policies = await Promise.all(
    (await masters(client)).map(async (node) => {
      const reply = (await node.config("GET", "maxmemory-policy")) as string[];
      return { node: nodeName(node), policy: reply[1] ?? "unknown" };
    }),
  );
  const distinct = new Set(policies.map((p) => p.policy));
  return distinct.size === 1 ? [...distinct][0]! : policies.map((p) => `${p.policy} on ${p.node}`).join(", ");
}

/** Deletes every key matching a glob pattern (SCAN + DEL in pages, on every master), on a connection of its own. */
export async function deleteKeys(pattern: string, cfg: Config = config()): Promise<number> {
  const client = createRedis({}, cfg);
  client.on("error", () => {}); // a failure surfaces on the command
  let deleted = 0;
  try {
    for (const node of await masters(client)) {
      let cursor = "0";
      do {
        const [next, keys] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1000);
        cursor = next;
        if (keys.length === 0) continue;
        // One DEL per key: on a cluster the keys of one page may lie in different slots (CROSSSLOT in one DEL).
        const pipeline = node.pipeline();
        for (const key of keys) pipeline.del(key);
        await pipeline.exec();
        deleted += keys.length;
      } while (cursor !== "0");
    }
  } finally {
    client.disconnect();
  }
  return deleted;
}

/** Redis Cluster's key slot (CRC16/XMODEM of the key, or of its hash tag, modulo 16384). */
export function keySlot(key: string): number {
  const tag = /\{([^}]+)\}/.exec(key);
  const bytes = Buffer.from(tag && tag.index === key.indexOf("{") ? tag[1]! : key);
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

/**
 * A real command round trip on every master within timeoutMs: SET then GET of a short-lived key (a
 * connection may answer PING while refusing every command: wrong node, ACL, read-only replica, OOM).
 * On a cluster each master gets a key of a slot it serves. Throws naming the node that failed.
 */
export async function roundTrip(client: RedisClient, timeoutMs: number, cfg: Config = config()): Promise<number> {
  const nodes = await withTimeout(masters(client), timeoutMs, "Redis");
  // Outside the prefix's hash tag, on purpose: the tag would put every key in one master's slot.
  const base = `${cfg.queuePrefix.replace(/[{}]/g, "")}:health`;
  const keys = new Map<string, string>();
  if (client instanceof Cluster) {
    for (let i = 0; keys.size < nodes.length && i < 100_000; i++) {
      const key = `${base}:{${i}}`;
      const owner = client.slots[keySlot(key)]?.[0];
      if (owner && !keys.has(owner)) keys.set(owner, key);
    }
  }
  await Promise.all(
    nodes.map(async (node) => {
      const name = nodeName(node);
      const key = keys.get(name) ?? `${base}:{${hashTag(cfg.queuePrefix) ?? "0"}}`;
      const value = `${process.pid}-${Date.now()}`;
      try {
        await withTimeout(
          (async () => {
            // A single-node connection to a cluster node answers for a third of the keys only (MOVED for the rest).
            if (!(client instanceof Cluster) && /cluster_enabled:1/.test(await node.info("cluster"))) {
              throw new Error("this server is a Redis Cluster node: set REDIS_CLUSTER_NODES (and a hash-tagged QUEUE_PREFIX)");
            }
            await node.set(key, value, "PX", 10_000);
            const read = await node.get(key);
            if (read !== value) throw new Error(`read back ${JSON.stringify(read)} for the value just written`);
          })(),
          timeoutMs,
          "Redis",
        );
      } catch (err) {
        throw new Error(`${name}: ${(err as Error).message}`);
      }
    }),
  );
  return nodes.length;
}
