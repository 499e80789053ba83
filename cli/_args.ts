// Argument and option parsers shared by CLI commands. They throw commander's InvalidArgumentError
// (or UsageError when called inside an action); either way the command exits 2 with the message and
// the list of queues. Nothing here loads BullMQ, so registering commands stays cheap.
import { InvalidArgumentError } from "commander";
import { isPriorityTier, MAX_PRIORITY, PRIORITY_TIERS, type PriorityTier } from "../server/queues/priority.ts";
import { isQueueName, QUEUE_NAMES, type QueueName } from "../server/queues/registry.ts";
import { UsageError } from "./_run.ts";

/** Help text for a `<queue>` argument. */
export const QUEUE_ARGUMENT_HELP = `queue name (${QUEUE_NAMES.join(", ")})`;

/** Parser for a `<queue>` argument: a known queue name. */
export function parseQueueName(value: string): QueueName {
  if (!isQueueName(value)) throw new InvalidArgumentError(`unknown queue '${value}'`);
  return value;
}

/** Parser for a whole number ≥ min. */
export function integer(min = 0): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isInteger(n) || n < min) {
      throw new InvalidArgumentError(`must be a whole number${min > 0 ? ` ≥ ${min}` : " ≥ 0"}`);
    }
    return n;
  };
}

/** Parser for a positive number of seconds (fractions allowed). */
export function seconds(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("must be a positive number of seconds");
  return n;
}

/** `--priority <tier>|<n>` → a tier name, or a BullMQ priority number (1 runs first). */
export function parsePriority(value: string): PriorityTier | number {
  if (isPriorityTier(value)) return value;
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < 1 || n > MAX_PRIORITY) {
    throw new UsageError(
      `option '--priority <priority>' argument '${value}' is invalid: use a tier (${PRIORITY_TIERS.join(", ")}) or a whole number from 1 (first) to ${MAX_PRIORITY}`,
    );
  }
  return n;
}

/** Parser for a JSON argument. */
export function json(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new InvalidArgumentError(`not valid JSON (${(err as Error).message})`);
  }
}

/** A UTC day as YYYY-MM-DD (a real date). */
export function isoDate(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
    throw new InvalidArgumentError("must be a date YYYY-MM-DD");
  }
  return value;
}
