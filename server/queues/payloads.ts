// The payload of every queue, as a zod schema: validated when a job is enqueued (bad data never reaches
// Redis) and again when a worker takes it (Redis is outside our process). The registry (registry.ts)
// pairs each schema with its queue; this file only says what a payload looks like.
import { z } from "zod";
import { esiKillmailSchema, killmailHashSchema } from "../esi/killmail-schema.ts";
import { VALUE_MODES } from "../killmails/value-modes.ts";

const entityId = z.number().int().positive();

/** Kills per batch job at most (bulk sources: imports, the feed catching up). */
export const KILLMAIL_BATCH_MAX = 250;

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

/**
 * Many kills in one job (bulk sources). Ids and hashes are checked here. Their bodies are ledger
 * bodies (killmail_intake_batches, under the job's work key), read from there by the worker, so Redis
 * holds ~60 bytes per kill, not ~3 KB; a body in the payload (jobs queued by earlier versions) is used
 * as is. Each body is validated by the worker on its own: one bad body fails only its kill.
 */
const killmailBatchPayload = z.object({
  batch: z
    .array(z.object({ killmailId: entityId, hash: killmailHashSchema, esi: z.unknown().optional() }))
    .min(1)
    .max(KILLMAIL_BATCH_MAX),
});

/** One kill (body optional: fetched from ESI when missing), or a batch job of kills with ledger bodies. */
export const killmailPayload = z.union([singleKillmailPayload, killmailBatchPayload]);
export type SingleKillmailPayload = z.infer<typeof singleKillmailPayload>;
export type KillmailBatchPayload = z.infer<typeof killmailBatchPayload>;

/**
 * One entity a stored kill (or an operator) names: its name and affiliation are resolved in bulk with
 * others; `force` reads its own route now instead (on demand, even before its Expires).
 */
export const entityPayload = z.object({ id: entityId, force: z.boolean().optional() });

/** The kinds of entity whose names are resolved in bulk and whose own route is read later (detail). */
export const DETAIL_KINDS = ["character", "corporation", "alliance"] as const;

/** An entity's own ESI route (birthday, security status, tickers, members…), after its name. */
export const detailPayload = z.object({ kind: z.enum(DETAIL_KINDS), id: entityId, force: z.boolean().optional() });

/** One character, or a bulk affiliation refresh of up to 1,000 characters. */
export const characterPayload = z.union([entityPayload, z.object({ affiliation: z.array(entityId).min(1).max(1000) })]);

export const pricePayload = z.discriminatedUnion("task", [
  /** Refresh ESI /markets/prices and the Forge history of the given types (or of every type seen in kills). */
  z.object({ task: z.literal("update"), typeIds: z.array(entityId).optional() }),
  /** Forge history of these types only. */
  z.object({ task: z.literal("history"), typeIds: z.array(entityId).min(1).max(1000) }),
  /** Forge history of every market type never fetched yet (types just learned from kills). */
  z.object({ task: z.literal("new-types") }),
]);

const valueMode = z.enum(VALUE_MODES);

export const backfillPayload = z.discriminatedUnion("task", [
  /** Recompute the values of one id range of a value-backfill run. */
  z.object({
    task: z.literal("values"),
    mode: valueMode,
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
    mode: valueMode,
    fromDate: z.iso.date().optional(),
    toDate: z.iso.date().optional(),
  }),
  /** Refresh an alliance's corporation list and enqueue the corporations we lack. */
  z.object({ task: z.literal("alliance-corporations"), allianceId: entityId }),
  /** Member and corporation counts of every alliance on a day (default today, UTC). */
  z.object({ task: z.literal("alliance-snapshot"), date: z.iso.date().optional() }),
]);

/** A member's SSO token to refresh (server/sso/tokens.ts). */
export const tokenPayload = z.object({ characterId: entityId });

/** What a sync polls with a member's token: a character's recent kills, or a corporation's (a director's token). */
export const SYNC_KINDS = ["character", "corporation"] as const;
export const syncPayload = z.object({
  kind: z.enum(SYNC_KINDS),
  id: entityId,
  /**
   * Where a first read of many pages stopped when the character's bucket ran dry (the job waits, then
   * goes on from there): the page, the page count and page 1's ETag and Expires.
   */
  resume: z
    .object({
      page: z.number().int().min(2),
      pages: z.number().int().min(2),
      etag: z.string().optional(),
      expires: z.number().int().optional(),
    })
    .optional(),
});
