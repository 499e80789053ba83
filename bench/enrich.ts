// `bun run bench:enrich [--killmails N] [--sample S (default 300)] [--keep]`: how fast the names on stored kills arrive,
// and what they cost ESI. A simulator world of N kills (default 100,000; the real error limit and
// token buckets; entities of all ages, ~4 % of pilots biomassed) is stored with its bodies (no killmail
// fetches), which fans out one job per unknown character, corporation and alliance. Then:
//  - bulk: `bun queue character corporation alliance` names them all through /universe/names and
//    /characters/affiliation; measured until every id the kills name has a name and (characters) an
//    affiliation, or is marked deleted;
//  - per entity (the path before bulk names, in the same run): each entity of the first S kills read by
//    its own route (detail jobs, `bun queue detail`), from an emptied entity table.
// Prints, for both: ESI calls per entity, non-2xx answers per 1,000 calls, 420s, the share of the error
// budget used (the most errors in one window over its allowance), and time. Own database and prefix.
import { pgArray } from "../server/db/arrays.ts";
import { closeDb, sql } from "../server/db/client.ts";
import { esiKillmailSchema } from "../server/esi/killmail-schema.ts";
import { closeRedis } from "../server/helpers/redis.ts";
import { referencesOf } from "../server/killmails/flatten.ts";
import { storeKillmails } from "../server/killmails/store.ts";
import { enqueueJobs } from "../server/queues/enqueue.ts";
import { closeQueues, getQueue } from "../server/queues/queue.ts";
import { startSimulator } from "../sim/server.ts";
import type { SimRequest } from "../sim/stats.ts";
import { benchEnvironment, numberOption, say, spawnEntry } from "./support.ts";

const N = numberOption("killmails", 100_000);
const SAMPLE = numberOption("sample", 300);
const ERROR_LIMIT = 100;
const ERROR_WINDOW_MS = 60_000;

const bench = await benchEnvironment("enrich");
say(`bench:enrich — ${N} killmails, per-entity sample of ${SAMPLE} kills, database ${bench.database}, prefix ${bench.prefix}`);
const sim = await startSimulator({
  port: 0,
  seed: 17,
  killmails: N,
  feedShare: 0,
  feedRate: 0,
  corpus: false,
  catalog: "builtin",
  quiet: true,
});

interface Named {
  characters: Set<number>;
  corporations: Set<number>;
  alliances: Set<number>;
}
const wanted = (from: number, to: number): Named => {
  const w: Named = { characters: new Set(), corporations: new Set(), alliances: new Set() };
  for (let i = from; i < to; i++) {
    const r = referencesOf(esiKillmailSchema.parse(sim.world.killmail(i).esi));
    for (const id of r.characters) w.characters.add(id);
    for (const id of r.corporations) w.corporations.add(id);
    for (const id of r.alliances) w.alliances.add(id);
  }
  return w;
};
const size = (n: Named) => n.characters.size + n.corporations.size + n.alliances.size;

say("storing the kills (bodies carried: no killmail fetch)…");
const t0 = performance.now();
for (let start = 0; start < N; start += 500) {
  const kills = [];
  for (let i = start; i < Math.min(N, start + 500); i++) {
    const k = sim.world.killmail(i);
    kills.push({ esi: esiKillmailSchema.parse(k.esi), hash: k.hash });
  }
  await storeKillmails(sql(), kills);
  if (start % 20_000 === 0) say(`  ${start + kills.length} stored`);
}
const all = wanted(0, N);
say(
  `stored ${N} kills in ${Math.round((performance.now() - t0) / 1000)} s; they name ${all.characters.size} characters, ${all.corporations.size} corporations, ${all.alliances.size} alliances`,
);

const env = {
  DATABASE_URL: bench.url,
  QUEUE_PREFIX: bench.prefix,
  ESI_URL: sim.url,
  ESI_USER_AGENT: "killboard-bench/1.0 (bench:enrich; bench@localhost)",
  LOG_LEVEL: "info",
  DEFAULT_SCHEDULERS: "off",
};

/** Ids of `n` without a name yet (characters also without an affiliation), deleted ones counted as done. */
async function missing(n: Named): Promise<number> {
  const [row] = await sql()<{ n: number }[]>`
    select (select count(*) from unnest(${pgArray([...n.characters])}::int4[]) u(id) where not exists
              (select 1 from characters c where c.character_id = u.id and (c.deleted or (c.name is not null and c.corporation_id is not null))))
         + (select count(*) from unnest(${pgArray([...n.corporations])}::int4[]) u(id) where not exists
              (select 1 from corporations c where c.corporation_id = u.id and (c.deleted or c.name is not null)))
         + (select count(*) from unnest(${pgArray([...n.alliances])}::int4[]) u(id) where not exists
              (select 1 from alliances a where a.alliance_id = u.id and (a.deleted or a.name is not null))) as n`;
  return Number(row!.n);
}

interface PathFigures {
  entities: number;
  seconds: number;
  esi_calls: number;
  esi_calls_per_entity: number;
  non_2xx_per_1000_calls: number;
  status_420: number;
  error_budget_used_share: number;
  calls_by_route: Record<string, number>;
}

/** ESI figures of the requests in `log` (the simulator's request log) for `entities` entities. */
function figures(log: SimRequest[], entities: number, seconds: number): PathFigures {
  const esi = log.filter((r) => r.service === "esi");
  const errors = esi.filter((r) => r.status < 200 || r.status >= 400);
  const byRoute: Record<string, number> = {};
  for (const r of esi) byRoute[r.route] = (byRoute[r.route] ?? 0) + 1;
  // The most error-counted non-2xx/3xx answers in one error window (fixed windows, as ESI counts them:
  // the first error opens one), over the allowance.
  let worst = 0;
  let windowStart = -Infinity;
  let inWindow = 0;
  for (const at of errors.filter((r) => r.route !== "killmail").map((r) => r.at)) {
    if (at - windowStart >= ERROR_WINDOW_MS) {
      windowStart = at;
      inWindow = 0;
    }
    worst = Math.max(worst, ++inWindow);
  }
  return {
    entities,
    seconds: Math.round(seconds * 10) / 10,
    esi_calls: esi.length,
    esi_calls_per_entity: Math.round((esi.length / Math.max(1, entities)) * 10_000) / 10_000,
    non_2xx_per_1000_calls: Math.round((errors.length / Math.max(1, esi.length)) * 1000 * 10) / 10,
    status_420: esi.filter((r) => r.status === 420).length,
    error_budget_used_share: Math.round((worst / ERROR_LIMIT) * 100) / 100,
    calls_by_route: byRoute,
  };
}

// ---- bulk: names and affiliations in bulk ---------------------------------------------------------
sim.reset();
say(`\n▶ bulk names: bun queue character corporation alliance (${size(all)} entities)`);
const bulkStart = performance.now();
const workers = spawnEntry("queue.ts", ["character", "corporation", "alliance", "--summary-interval", "0"], env);
await workers.waitFor("worker started", 60_000);
let left = size(all);
for (let last = ""; left > 0; ) {
  await Bun.sleep(1_000);
  left = await missing(all);
  const line = `  ${Math.round((performance.now() - bulkStart) / 1000)} s: ${size(all) - left} of ${size(all)} named`;
  if (line !== last) say(line);
  last = line;
  if (performance.now() - bulkStart > 30 * 60_000)
    throw new Error(`bulk names did not finish in 30 minutes:\n${workers.output().slice(-4000)}`);
}
const bulk = figures(sim.requests(), size(all), (performance.now() - bulkStart) / 1000);
await workers.stop();
say(`bulk: ${JSON.stringify(bulk)}`);

// ---- per entity: each entity's own route, for the entities of the first SAMPLE kills --------------
const sample = wanted(0, Math.min(SAMPLE, N));
await sql()`truncate characters, corporations, alliances`;
// The bulk phase queued a detail job for every entity it named: only the sample's jobs may run here.
await getQueue("detail").obliterate({ force: true });
sim.reset();
say(`\n▶ per entity: bun queue detail (${size(sample)} entities of the first ${Math.min(SAMPLE, N)} kills)`);
await enqueueJobs("detail", [
  ...[...sample.characters].map((id) => ({ kind: "character" as const, id, force: true })),
  ...[...sample.corporations].map((id) => ({ kind: "corporation" as const, id, force: true })),
  ...[...sample.alliances].map((id) => ({ kind: "alliance" as const, id, force: true })),
]);
const oneStart = performance.now();
const detail = spawnEntry("queue.ts", ["detail", "--summary-interval", "0", "--no-services"], { ...env, QUEUE_DETAIL_RATE: "90" });
await detail.waitFor("worker started", 60_000);
for (left = size(sample); left > 0; ) {
  await Bun.sleep(1_000);
  left = await missing(sample);
  if (performance.now() - oneStart > 60 * 60_000) throw new Error("the per-entity path did not finish in an hour");
}
const perEntity = figures(sim.requests(), size(sample), (performance.now() - oneStart) / 1000);
await detail.stop();
say(`per entity: ${JSON.stringify(perEntity)}`);

const ratio = Math.round((perEntity.esi_calls_per_entity / Math.max(1e-9, bulk.esi_calls_per_entity)) * 10) / 10;
say(
  `\nbulk: ${bulk.esi_calls} ESI calls for ${bulk.entities} entities in ${bulk.seconds} s; per entity: ${perEntity.esi_calls_per_entity} calls per entity — ${ratio}× more`,
);
process.stdout.write(
  `${JSON.stringify({
    bench: "enrich",
    killmails: N,
    entities: bulk.entities,
    bulk,
    per_entity: perEntity,
    per_entity_calls_over_bulk: ratio,
    // At the per-entity path's own pace, naming every entity of the N kills would take about:
    per_entity_estimated_seconds_for_all: Math.round((perEntity.seconds / Math.max(1, perEntity.entities)) * bulk.entities),
  })}\n`,
);

await sim.stop();
await Promise.allSettled([closeQueues(), closeRedis(), closeDb()]);
await bench.drop();
process.exit(0);
