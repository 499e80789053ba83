// Imports ride out outages of our own infrastructure in the process: a unit of work (a history day, an
// archive, a page) that fails because Postgres or Redis is away is tried again from its saved position,
// with backoff, for up to half an hour. Anything else — an upstream that keeps failing after its
// client's own retries, bad data — fails the unit at once, and the next run resumes it.
import { log } from "../helpers/logger.ts";
import { isInfrastructureOutage } from "../helpers/transient.ts";

const OUTAGE_MS = 30 * 60_000;

export async function resumingThroughOutages<T>(label: string, unit: () => Promise<T>, outageMs = OUTAGE_MS): Promise<T> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await unit();
    } catch (err) {
      if (!isInfrastructureOutage(err) || Date.now() - started >= outageMs) throw err;
      const waitMs = Math.min(60_000, 1_000 * 2 ** Math.min(attempt - 1, 6));
      log("import").warn(
        { unit: label, attempt, err: (err as Error).message, retryInMs: waitMs },
        "import interrupted by an outage; resuming",
      );
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }
}
