// Checks that Redis (every master, in any mode: see server/helpers/redis.ts) and PostgreSQL answer at
// the configured addresses (defaults: the local ones) and that Redis will not evict jobs; prints one
// clear line per problem and exits 1 on any.
import postgres from "postgres";
import { config, describeRedis, exitOnConfigError, redactUrl } from "../server/helpers/config.ts";
import { createRedis, evictionPolicy, roundTrip } from "../server/helpers/redis.ts";

let cfg: ReturnType<typeof config>;
try {
  cfg = config();
} catch (err) {
  exitOnConfigError(err);
}
let failed = false;

const client = createRedis({ lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000, retryStrategy: () => null });
client.on("error", () => {}); // reported below
try {
  await client.connect();
  await roundTrip(client, 5_000, cfg);
  const policy = await evictionPolicy(client);
  console.log(`redis ok at ${describeRedis(cfg)} (maxmemory-policy ${policy})`);
  if (policy !== "noeviction") console.warn(`warning: Redis maxmemory-policy is '${policy}'; BullMQ needs 'noeviction'`);
} catch (err) {
  console.error(`Redis is not reachable at ${describeRedis(cfg)}: ${(err as Error).message}`);
  failed = true;
} finally {
  client.disconnect();
}

const sql = postgres(cfg.databaseUrl, { max: 1, connect_timeout: 3, onnotice: () => {} });
try {
  const [row] = await sql<{ version: string }[]>`select current_setting('server_version') as version`;
  console.log(`postgres ok at ${redactUrl(cfg.databaseUrl)} (version ${row!.version})`);
} catch (err) {
  console.error(`PostgreSQL is not reachable at ${redactUrl(cfg.databaseUrl)}: ${(err as Error).message}`);
  failed = true;
} finally {
  await sql.end({ timeout: 1 });
}
process.exit(failed ? 1 : 0);
