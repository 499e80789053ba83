// Which class of caller an ESI call serves, for the error budget's live reserve: "high" (a person waits or
// the live feed: the user and live tiers, HTTP on-demand lookups) may spend the reserve down to the low
// mark; "normal" (routine upkeep, enrichment, backfill) stops above it. The class travels in an
// AsyncLocalStorage for the duration of a job's or a request's ESI work, so route functions and the
// domain code between them take no extra parameter; an explicit `class` option overrides it.
import { AsyncLocalStorage } from "node:async_hooks";
import { Priority } from "../queues/priority.ts";

export type EsiClass = "high" | "normal";

const storage = new AsyncLocalStorage<EsiClass>();

/** Runs `fn` with every ESI call inside it (awaited or not) made as `cls`. */
export function withEsiClass<T>(cls: EsiClass, fn: () => T): T {
  return storage.run(cls, fn);
}

/** The class of the ESI calls made here: the innermost withEsiClass(), else "normal". */
export function currentEsiClass(): EsiClass {
  return storage.getStore() ?? "normal";
}

/** A job's class from its BullMQ priority: the user and live tiers (1–2) are "high"; 0 (none) is not. */
export function classOfPriority(priority: number | undefined): EsiClass {
  return priority !== undefined && priority >= Priority.user && priority <= Priority.live ? "high" : "normal";
}
