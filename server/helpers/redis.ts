// Redis connections (ioredis). BullMQ workers need maxRetriesPerRequest: null; every other use shares
// one lazily created client per URL. Also checks the server's eviction policy (BullMQ needs noeviction).
import { Redis, type RedisOptions } from "ioredis";
import { config, redactUrl } from "./config.ts";
import { log } from "./logger.ts";
import "./tracing-channel.ts";

const shared = new Map<string, Redis>();

/** A new connection; the caller closes it. */
export function createRedis(url: string = config().redisUrl, opts: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...opts });
}

/** The process-wide connection for a URL (queues, budgets, caches). Closed by closeRedis(). */
export function redis(url: string = config().redisUrl): Redis {
  let client = shared.get(url);
  if (!client) {
    client = createRedis(url);
    // While Redis is away ioredis reconnects and its commands wait; say so once a minute, not per attempt.
    let lastLog = 0;
    client.on("error", (err: Error) => {
      if (Date.now() - lastLog < 60_000) return;
      lastLog = Date.now();
      log("redis").warn({ err: err.message, url: redactUrl(url) }, "Redis connection failed; reconnecting (commands wait)");
    });
    shared.set(url, client);
  }
  return client;
}

export async function closeRedis(): Promise<void> {
  const clients = [...shared.values()];
  shared.clear();
  await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
}

/** Redis' maxmemory-policy; BullMQ loses jobs under any policy but `noeviction`. */
export async function evictionPolicy(client: Redis = redis()): Promise<string> {
  const reply = (await client.config("GET", "maxmemory-policy")) as string[];
  return reply[1] ?? "unknown";
}

/** Deletes every key matching a glob pattern (SCAN + DEL in pages), on a connection of its own. */
export async function deleteKeys(pattern: string, url: string = config().redisUrl): Promise<void> {
  const client = createRedis(url);
  try {
    let cursor = "0";
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = next;
      if (keys.length) await client.del(...keys);
    } while (cursor !== "0");
  } finally {
    client.disconnect();
  }
}
