// Bun's diagnostics_channel TracingChannel has no `hasSubscribers` (Node's has, false until something
// subscribes). ioredis reads it before every command and, finding `undefined`, traces every command as
// if observed: it renders each argument (job payloads included) to strings and wraps each reply in an
// extra promise, for nobody. This gives Bun's TracingChannel Node's getter; imported (for its effect)
// by helpers/redis.ts, so it is in place in every process that talks to Redis. A no-op where the
// runtime already has it.
import diagnostics from "node:diagnostics_channel";

const EVENTS = ["start", "end", "asyncStart", "asyncEnd", "error"] as const;
type Events = Record<(typeof EVENTS)[number], { hasSubscribers: boolean }>;

const prototype = Object.getPrototypeOf(diagnostics.tracingChannel("killboard:probe")) as object;
if (!("hasSubscribers" in prototype)) {
  Object.defineProperty(prototype, "hasSubscribers", {
    configurable: true,
    get(this: Events): boolean {
      return EVENTS.some((event) => this[event]?.hasSubscribers === true);
    },
  });
}
