// What processors import: the typed ESI route functions, the outcome errors, withEsi, and the budget's
// read-only views. (zKillboard API and R2Z2 clients are in server/zkb/.)

export { type BudgetEvent, budgetEvents, budgetState, type GroupState, groupStates } from "./budget.ts";
export { classOfPriority, type EsiClass, withEsiClass } from "./caller.ts";
export {
  type CallOptions,
  COMPATIBILITY_DATE,
  type ConditionalOptions,
  type EsiNotModified,
  type EsiOk,
  type EsiResult,
  esiCall,
} from "./client.ts";
export { EsiBlockedError, InvalidError, isNotFound, NotFoundError, RetryableError } from "./errors.ts";
export { withEsi } from "./job.ts";
export * from "./routes.ts";
export type * from "./schemas.ts";
