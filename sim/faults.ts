// Fault injection: latency, a share of 5xx answers with ESI's real messages, hangs (never answer),
// connection resets, malformed JSON, 404s (not there yet), optionally scoped to a service, route or path pattern and limited to
// the next N matching requests. Decisions use a seeded RNG so a test run is reproducible.
import { z } from "zod";
import { Rng } from "./world/rng.ts";

export const faultRuleSchema = z.object({
  /** Only requests to this service ("esi", "r2z2", "zkb", "everef", "sso"). */
  service: z.enum(["esi", "r2z2", "zkb", "everef", "sso"]).optional(),
  /** Only this route key (e.g. "killmail", "character", "ephemeral", "history_raw", "api", "archive"). */
  route: z.string().optional(),
  /** Only paths matching this regular expression. */
  path: z.string().optional(),
  /** Added delay: fixed ms or [min, max]. */
  latencyMs: z.union([z.number().nonnegative(), z.tuple([z.number().nonnegative(), z.number().nonnegative()])]).optional(),
  /** Share (0–1) answered with a 5xx from errorStatuses. */
  errorRate: z.number().min(0).max(1).optional(),
  errorStatuses: z
    .array(z.union([z.literal(500), z.literal(502), z.literal(503), z.literal(504)]))
    .nonempty()
    .optional(),
  /** Share never answered (the client must time out). */
  hangRate: z.number().min(0).max(1).optional(),
  /** Share whose connection is destroyed without an answer. */
  resetRate: z.number().min(0).max(1).optional(),
  /** Share answered 200 with a truncated (invalid) JSON body. */
  malformedRate: z.number().min(0).max(1).optional(),
  /** Share answered 404 as if the resource did not exist yet (an R2Z2 file written after sequence.json). */
  notFoundRate: z.number().min(0).max(1).optional(),
  /** Apply to the next N matching requests only, then the rule is spent. */
  count: z.number().int().positive().optional(),
});

export type FaultRule = z.infer<typeof faultRuleSchema>;
/** One rule or a list of rules; the first matching rule that fires wins. */
export type Faults = FaultRule | FaultRule[];
export const faultsSchema = z.union([faultRuleSchema, z.array(faultRuleSchema)]);

export const ESI_5XX_MESSAGES: Record<number, string> = {
  500: "Unhandled internal error encountered!",
  502: "The datasource tranquility is temporarily unavailable",
  503: "The datasource tranquility is temporarily unavailable",
  504: "Timeout contacting tranquility",
};

export type FaultAction =
  | { kind: "hang" }
  | { kind: "reset" }
  | { kind: "error"; status: number }
  | { kind: "malformed" }
  | { kind: "not-found" }
  | { kind: "none" };

export interface FaultDecision {
  latencyMs: number;
  action: FaultAction;
}

interface LiveRule {
  rule: FaultRule;
  pattern?: RegExp;
  left: number;
}

export class FaultEngine {
  private rules: LiveRule[] = [];
  private rng: Rng;
  constructor(seed: number) {
    this.rng = new Rng(seed, 0xfa17);
  }

  set(faults: Faults | undefined): void {
    const list = faults === undefined ? [] : Array.isArray(faults) ? faults : [faults];
    this.rules = list.map((r) => {
      const rule = faultRuleSchema.parse(r);
      return { rule, ...(rule.path ? { pattern: new RegExp(rule.path) } : {}), left: rule.count ?? Infinity };
    });
  }

  get(): FaultRule[] {
    return this.rules.filter((r) => r.left > 0).map((r) => r.rule);
  }

  decide(service: string, route: string, path: string): FaultDecision {
    let latencyMs = 0;
    for (const live of this.rules) {
      const r = live.rule;
      if (live.left <= 0) continue;
      if (r.service && r.service !== service) continue;
      if (r.route && r.route !== route) continue;
      if (live.pattern && !live.pattern.test(path)) continue;
      live.left--;
      if (r.latencyMs !== undefined) {
        const [lo, hi] = Array.isArray(r.latencyMs) ? r.latencyMs : [r.latencyMs, r.latencyMs];
        latencyMs += lo + this.rng.next() * (hi - lo);
      }
      const roll = this.rng.next();
      // Cumulative edges: each fault takes its share of [0, 1).
      const hang = r.hangRate ?? 0;
      const reset = hang + (r.resetRate ?? 0);
      const error = reset + (r.errorRate ?? 0);
      const malformed = error + (r.malformedRate ?? 0);
      const notFound = malformed + (r.notFoundRate ?? 0);
      if (roll < hang) return { latencyMs, action: { kind: "hang" } };
      if (roll < reset) return { latencyMs, action: { kind: "reset" } };
      if (roll < error) {
        const statuses = r.errorStatuses ?? [500, 502, 503, 504];
        return { latencyMs, action: { kind: "error", status: this.rng.pick(statuses) } };
      }
      if (roll < malformed) return { latencyMs, action: { kind: "malformed" } };
      if (roll < notFound) return { latencyMs, action: { kind: "not-found" } };
    }
    return { latencyMs, action: { kind: "none" } };
  }
}
