// The headers every ESI request carries (User-Agent with a contact, the compatibility date our schemas
// are written for): shared by the client's calls and the budget's own /status probes.
import { requireEsiUserAgent } from "../helpers/config.ts";

/** The compatibility date our schemas are written for (X-Compatibility-Date). */
export const COMPATIBILITY_DATE = "2026-08-18";

export function esiHeaders(): Record<string, string> {
  return { "user-agent": requireEsiUserAgent(), "x-compatibility-date": COMPATIBILITY_DATE };
}
