// The job states operators list and clean, and the page cap (no dependencies, so CLI commands can register
// their options without loading BullMQ). Used by server/queues/jobs.ts, the admin API and the CLI.

/**
 * The states a listing takes. `paused` is BullMQ 6's paused queue seen as a state: a paused queue's jobs
 * stay waiting (pausing is a flag), so it lists the waiting and prioritized jobs of a paused queue and nothing otherwise.
 */
export const LIST_STATES = ["waiting", "active", "delayed", "prioritized", "completed", "failed", "paused", "waiting-children"] as const;
export type ListState = (typeof LIST_STATES)[number];

/** The most jobs one page lists. */
export const MAX_PAGE = 1_000;

/** The states `clean` empties (never active: those are being worked on). */
export const CLEAN_STATES = ["completed", "failed", "delayed", "waiting", "prioritized"] as const;
export type CleanState = (typeof CLEAN_STATES)[number];
