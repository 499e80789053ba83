// The payload of every queue, as a schema: validated when a job is enqueued (bad data never reaches
// Redis) and again when a worker takes it (Redis is outside our process). Also the work key of a
// payload: the de-duplication id that makes "the same work" enqueue once (see README, De-duplication).
import { createHash } from "node:crypto";
import { z } from "zod";
import { esiKillmailSchema, killmailHashSchema } from "../esi/killmail-schema.ts";
import type { QueueName } from "./config.ts";

const entityId = z.number().int().positive();

const singleKillmailPayload = z
  .object({
    killmailId: entityId,
    hash: killmailHashSchema,
    /** The ESI body when the source delivered it (R2Z2, history, EVE Ref, zKillboard API): no ESI fetch. */
    esi: esiKillmailSchema.optional(),
  })
  .refine((p) => !p.esi || p.esi.killmail_id === p.killmailId, {
    message: "esi.killmail_id does not match killmailId",
    path: ["esi", "killmail_id"],
  });

/** Kills per batch job at most (bulk sources: imports, the feed catching up). */
export const KILLMAIL_BATCH_MAX = 250;

/**
 * Many kills in one job (bulk sources). Ids and hashes are checked here. Their bodies are kept by the
 * intake ledger (killmail_intake_batches, under the job's work key) and read from there by the worker,
 * so Redis holds ~60 bytes per kill, not ~3 KB; a body in the payload (jobs queued by earlier versions)
 * is used as is. Each body is validated by the worker on its own: one bad body fails only its kill.
 */
const killmailBatchPayload = z.object({
  batch: z
    .array(z.object({ killmailId: entityId, hash: killmailHashSchema, esi: z.unknown().optional() }))
    .min(1)
    .max(KILLMAIL_BATCH_MAX),
});

/** One kill (body optional: fetched from ESI when missing), or a batch of kills with bodies. */
export const killmailPayload = z.union([singleKillmailPayload, killmailBatchPayload]);
export type SingleKillmailPayload = z.infer<typeof singleKillmailPayload>;
export type KillmailBatchPayload = z.infer<typeof killmailBatchPayload>;

/** One entity to refresh, or (character queue) a bulk affiliation refresh of up to 1,000 characters. */
const entityPayload = z.object({ id: entityId, force: z.boolean().optional() });
export const characterPayload = z.union([entityPayload, z.object({ affiliation: z.array(entityId).min(1).max(1000) })]);

export const pricePayload = z.discriminatedUnion("task", [
  /** Refresh ESI /markets/prices and the Forge history of the given types (or of every type seen in kills). */
  z.object({ task: z.literal("update"), typeIds: z.array(entityId).optional() }),
  /** Forge history of these types only. */
  z.object({ task: z.literal("history"), typeIds: z.array(entityId).min(1).max(1000) }),
  /** Forge history of every market type never fetched yet (types just learned from kills). */
  z.object({ task: z.literal("new-types") }),
]);

export const backfillPayload = z.discriminatedUnion("task", [
  z.object({
    task: z.literal("values"),
    mode: z.enum(["null", "zero", "all", "flagged"]),
    fromId: z.number().int().nonnegative(),
    toId: z.number().int().nonnegative(),
    fromDate: z.iso.date().optional(),
    toDate: z.iso.date().optional(),
    runId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .optional(),
  }),
  /** Plan a values run (id ranges of matching kills) and enqueue its range jobs; the scheduler's job. */
  z.object({
    task: z.literal("values-run"),
    mode: z.enum(["null", "zero", "all", "flagged"]),
    fromDate: z.iso.date().optional(),
    toDate: z.iso.date().optional(),
  }),
  z.object({
    task: z.literal("alliance-corporations"),
    allianceId: entityId,
  }),
  z.object({ task: z.literal("alliance-snapshot"), date: z.iso.date().optional() }),
]);

export const payloadSchemas = {
  killmail: killmailPayload,
  character: characterPayload,
  corporation: entityPayload,
  alliance: entityPayload,
  type: entityPayload,
  price: pricePayload,
  backfill: backfillPayload,
} satisfies Record<QueueName, z.ZodType>;

export type PayloadOf<Q extends QueueName> = z.infer<(typeof payloadSchemas)[Q]>;

export class InvalidPayloadError extends Error {
  override name = "InvalidPayloadError";
  constructor(
    readonly queue: QueueName,
    readonly issues: string,
  ) {
    super(`invalid ${queue} payload: ${issues}`);
  }
}

/** Validates a payload for a queue; throws InvalidPayloadError with every problem, path by path. */
export function parsePayload<Q extends QueueName>(queue: Q, data: unknown): PayloadOf<Q> {
  const result = payloadSchemas[queue].safeParse(data);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new InvalidPayloadError(queue, issues);
  }
  return result.data as PayloadOf<Q>;
}

/**
 * The work key of a payload: jobs with the same key are the same work, so at most one of them is
 * pending at a time. Keys never contain ':' (BullMQ rejects it in ids). Bulk jobs (affiliations, price
 * lists) are keyed by a digest of their id set. Undefined = always distinct.
 */
/** A short digest of a set of ids (order and repeats do not matter): the key of a bulk job. */
export function idsDigest(ids: readonly number[]): string {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  return createHash("sha1").update(sorted.join(",")).digest("hex").slice(0, 16);
}

/** The work key of a batch of kills (also kept in their intake rows, so reconcile can find the job). */
export function killmailBatchKey(killmailIds: readonly number[]): string {
  return `killmail-batch-${idsDigest(killmailIds)}`;
}

export function workKey<Q extends QueueName>(queue: Q, data: PayloadOf<Q>): string | undefined {
  const d = data as Record<string, unknown>;
  switch (queue) {
    case "killmail":
      return "batch" in d ? killmailBatchKey((data as KillmailBatchPayload).batch.map((k) => k.killmailId)) : `killmail-${d.killmailId}`;
    case "character":
      return "id" in d ? `character-${d.id}` : `character-affiliation-${idsDigest((data as { affiliation: number[] }).affiliation)}`;
    case "corporation":
    case "alliance":
    case "type":
      return `${queue}-${d.id}`;
    case "price": {
      const p = data as PayloadOf<"price">;
      if (p.task === "update") return p.typeIds ? `price-update-${idsDigest(p.typeIds)}` : "price-update";
      if (p.task === "new-types") return "price-new-types";
      return p.typeIds.length === 1 ? `price-history-${p.typeIds[0]}` : `price-history-${idsDigest(p.typeIds)}`;
    }
    case "backfill": {
      const b = data as PayloadOf<"backfill">;
      if (b.task === "values") return `backfill-values-${b.mode}-${b.fromId}-${b.toId}${b.runId ? `-${b.runId}` : ""}`;
      if (b.task === "values-run") return `backfill-values-run-${b.mode}-${b.fromDate ?? ""}-${b.toDate ?? ""}`;
      if (b.task === "alliance-corporations") return `backfill-alliance-corporations-${b.allianceId}`;
      return `backfill-alliance-snapshot-${b.date ?? "today"}`;
    }
  }
  return undefined;
}
