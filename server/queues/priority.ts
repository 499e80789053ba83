// Priority tiers, named by purpose: every job gets one (BullMQ runs priority-0 jobs before all
// prioritized ones, so "no priority" would jump every queue). Lower numbers run first; priorities
// order jobs within one queue only.
export const Priority = {
  /** A token refresh: a member's access token must be fresh before a sync needs it (the token queue). */
  credentials: 1,
  /** A person is waiting for the answer: an HTTP post, an operator's command, an on-demand lookup. */
  user: 2,
  /** The live feed and members' recent kills: kills happening now. */
  live: 3,
  /** Scheduled upkeep: daily prices, revaluation of flagged kills, alliance snapshots. */
  routine: 5,
  /** What stored kills name and we lack (the fan-out of names and types). */
  enrichment: 8,
  /** History: imports, scans, value backfills, bulk affiliation refreshes. */
  backfill: 10,
} as const;

export type PriorityTier = keyof typeof Priority;

export const PRIORITY_TIERS = Object.keys(Priority) as PriorityTier[];

/** BullMQ's largest priority number (runs last). */
export const MAX_PRIORITY = 2_097_152;

/** A tier's number; a number (a stored ledger row's priority, an operator's --priority) passes through. */
export function priorityOf(priority: PriorityTier | number): number {
  return typeof priority === "number" ? priority : Priority[priority];
}

export function isPriorityTier(name: string): name is PriorityTier {
  return Object.hasOwn(Priority, name);
}
