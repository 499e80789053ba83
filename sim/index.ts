// CLI: `bun run sim --port N --seed S …` starts the simulator and prints, as the first stdout line,
// "simulator listening on http://127.0.0.1:PORT". SIGINT/SIGTERM stop it cleanly (exit 0).
import { Command, InvalidArgumentError } from "commander";
import { faultsSchema } from "./faults.ts";
import { startSimulator } from "./server.ts";

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return n;
};
const num = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative number`);
  return n;
};

const program = new Command()
  .name("sim")
  .description("Local ESI / zKillboard / R2Z2 / EVE Ref simulator")
  .option("--port <n>", "port (0 = any free port)", int("--port"), 0)
  .option("--host <host>", "address to listen on", "127.0.0.1")
  .option("--seed <n>", "world seed", int("--seed"), 1)
  .option("--killmails <n>", "generated killmails", int("--killmails"), 3000)
  .option("--days <n>", "days the generated kills span", int("--days"), 30)
  .option("--start-date <date>", "first day of the world (YYYY-MM-DD)", "2026-07-26")
  .option("--feed-rate <n>", "R2Z2 kills per second (0 = frozen)", num("--feed-rate"), 5)
  .option("--feed-share <x>", "share of generated kills still ahead of the feed at start", num("--feed-share"), 0.1)
  .option("--sequence-every <n>", "R2Z2 sequence.json rewritten every N kills", int("--sequence-every"), 5)
  .option("--zkb-delay <s>", "zKillboard API leaves out kills younger than this (seconds)", int("--zkb-delay"), 300)
  .option("--raw-missing <x>", "share (0–1) of kills left out of R2Z2 raw history files", num("--raw-missing"), 0)
  .option(
    "--private-share <x>",
    "share (0–1) of kills nobody posted to zKillboard (ESI and members' tokens only)",
    num("--private-share"),
    0,
  )
  .option("--access-token-seconds <n>", "SSO access token lifetime", int("--access-token-seconds"), 1200)
  .option("--recent-page-size <n>", "kills per page of the recent-kills routes", int("--recent-page-size"), 50)
  .option("--recent-cache <s>", "Expires of the recent-kills routes (seconds)", int("--recent-cache"), 300)
  .option("--corpus", "serve the 106 real killmails from ../shared/killmails")
  .option("--no-corpus", "do not serve the real killmails")
  .option("--catalog <mode>", "type catalog: auto | builtin | shared", "auto")
  .option("--killmail-tokens <n>", "ESI killmail group tokens per window", int("--killmail-tokens"), 3600)
  .option("--killmail-window <s>", "ESI killmail group window (seconds)", int("--killmail-window"), 900)
  .option("--error-limit <n>", "ESI errors per window before 420", int("--error-limit"), 100)
  .option("--error-window <s>", "ESI error-limit window (seconds)", int("--error-window"), 60)
  .option("--zkb-per-second <n>", "zKillboard API requests per second per client (0 = unlimited)", int("--zkb-per-second"), 1)
  .option("--zkb-error-limit <n>", "zKillboard API errors per 5 minutes before blocking", int("--zkb-error-limit"), 40)
  .option("--r2z2-per-second <n>", "R2Z2 requests per second per client (0 = unlimited)", int("--r2z2-per-second"), 20)
  .option("--faults <json>", "fault rules as JSON (see sim/README.md)")
  .option("--quiet", "no log lines on stderr")
  .parse();

const o = program.opts<{
  port: number;
  host: string;
  seed: number;
  killmails: number;
  days: number;
  startDate: string;
  feedRate: number;
  feedShare: number;
  sequenceEvery: number;
  zkbDelay: number;
  rawMissing: number;
  privateShare: number;
  accessTokenSeconds: number;
  recentPageSize: number;
  recentCache: number;
  corpus?: boolean;
  catalog: string;
  killmailTokens: number;
  killmailWindow: number;
  errorLimit: number;
  errorWindow: number;
  zkbPerSecond: number;
  zkbErrorLimit: number;
  r2z2PerSecond: number;
  faults?: string;
  quiet?: boolean;
}>();

if (!["auto", "builtin", "shared"].includes(o.catalog)) {
  process.stderr.write(`sim: --catalog must be auto, builtin or shared\n`);
  process.exit(2);
}

try {
  const sim = await startSimulator({
    port: o.port,
    host: o.host,
    seed: o.seed,
    killmails: o.killmails,
    days: o.days,
    startDate: o.startDate,
    feedRate: o.feedRate,
    feedShare: o.feedShare,
    sequenceEvery: o.sequenceEvery,
    zkbDelaySeconds: o.zkbDelay,
    rawMissing: o.rawMissing,
    privateShare: Math.min(1, o.privateShare),
    accessTokenSeconds: o.accessTokenSeconds,
    recentPageSize: o.recentPageSize,
    recentCacheSeconds: o.recentCache,
    ...(o.corpus !== undefined ? { corpus: o.corpus } : {}),
    catalog: o.catalog as "auto" | "builtin" | "shared",
    limits: {
      killmailTokens: o.killmailTokens,
      killmailWindowSeconds: o.killmailWindow,
      errorLimit: o.errorLimit,
      errorWindowSeconds: o.errorWindow,
      zkbPerSecond: o.zkbPerSecond,
      zkbErrorLimit: o.zkbErrorLimit,
      r2z2PerSecond: o.r2z2PerSecond,
    },
    ...(o.faults ? { faults: faultsSchema.parse(JSON.parse(o.faults)) } : {}),
    quiet: o.quiet ?? false,
  });
  process.stdout.write(`simulator listening on ${sim.url}\n`);
  const w = sim.world;
  if (!o.quiet)
    process.stderr.write(
      `[sim] seed ${w.seed}: ${w.killmailCount} killmails (${w.corpus.length} real), ${w.catalog.source} catalog, ` +
        `feed head ${w.feedHead()}/${w.generatedCount} at ${w.feed.rate}/s\n`,
    );
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await sim.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
} catch (err) {
  process.stderr.write(`sim: ${(err as Error).message}\n`);
  process.exit(1);
}
