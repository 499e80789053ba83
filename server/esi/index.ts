// What processors import: the typed ESI route functions, the outcome errors, withEsi, and the budget's
// read-only views. (zKillboard API and R2Z2 clients are in server/zkb/.)
export * from "./routes.ts";
export { COMPATIBILITY_DATE, esiCall, type CallOptions, type ConditionalOptions, type EsiOk, type EsiNotModified, type EsiResult } from "./client.ts";
export { EsiBlockedError, InvalidError, isNotFound, NotFoundError, RetryableError } from "./errors.ts";
export { withEsi } from "./job.ts";
export { budgetEvents, budgetState, type BudgetEvent } from "./budget.ts";
export type * from "./schemas.ts";
