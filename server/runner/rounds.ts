// Rounds of work that one process of many should do (reconcile, kill partition upkeep), whatever the
// number of `bun queue` processes or hosts: the first to ask takes the round's lease in Redis and runs
// it; the lease is then kept until `holdMs` after the round began, so processes started together, or
// whose timers tick apart, skip the round instead of running it again (a round at most every `holdMs`;
// with holdMs a little under the interval, the next tick of any process runs the next one). Both are
// logged with the process. A process that dies mid-round frees it after `maxRunMs`.
import type { Logger } from "pino";
import { leaseHolder, processName, tryLease } from "../helpers/lease.ts";

export interface RoundOptions {
  /** Longest a round may hold the lease while running. */
  maxRunMs: number;
  /** How long after a round began its lease is kept (other processes skip rounds meanwhile). */
  holdMs: number;
  logger: Logger;
}

/** Runs `work` if this process wins the round `name`; false when another process has it. */
export async function runRound(name: string, opts: RoundOptions, work: () => Promise<void>): Promise<boolean> {
  const release = await tryLease(name, opts.maxRunMs);
  if (!release) {
    const holder = (await leaseHolder(name))?.split(":").slice(0, 2).join(":");
    opts.logger.info(
      { round: name, process: processName(), runBy: holder ?? "(just finished)" },
      `${name}: another process runs this round; skipping`,
    );
    return false;
  }
  opts.logger.info({ round: name, process: processName() }, `${name}: this process runs the round`);
  const began = Date.now();
  let failed = false;
  try {
    await work();
  } catch (err) {
    failed = true; // a failed round may be tried again by anyone at once
    throw err;
  } finally {
    await release(failed ? 0 : Math.max(0, began + opts.holdMs - Date.now())).catch(() => undefined);
  }
  return true;
}
