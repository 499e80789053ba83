// Which stored kills a value backfill recomputes: never valued (null), valued at 0 (zero), every kill
// (all) or those marked for revaluation by new prices (flagged).
export const VALUE_MODES = ["null", "zero", "all", "flagged"] as const;
export type ValueMode = (typeof VALUE_MODES)[number];
