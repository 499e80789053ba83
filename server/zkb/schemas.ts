// Shapes of what zKillboard sends: the zkb block (R2Z2 envelopes, the zKillboard API), the R2Z2
// envelope and sequence, the daily history maps, and both forms of the API's killmail list.
import { z } from "zod";
import { esiKillmailSchema, killmailHashSchema } from "../esi/killmail-schema.ts";

const num = z.number().finite();

/** The zkb block (NOTES.md "zKillboard"; totalDroppableValue only on newer blocks). */
export const zkbBlockSchema = z.object({
  locationID: z.number().int().optional(),
  hash: killmailHashSchema,
  fittedValue: num,
  droppedValue: num,
  destroyedValue: num,
  totalValue: num,
  totalDroppableValue: num.optional(),
  points: z.number().int(),
  npc: z.boolean(),
  solo: z.boolean(),
  awox: z.boolean(),
  labels: z.array(z.string()).default([]),
  attackerCount: z.number().int().optional(),
  href: z.string().optional(),
});
export type ZkbBlock = z.infer<typeof zkbBlockSchema>;

/** GET /ephemeral/{n}.json. */
export const r2z2EnvelopeSchema = z
  .object({
    killmail_id: z.number().int().positive(),
    hash: killmailHashSchema,
    esi: esiKillmailSchema,
    zkb: zkbBlockSchema,
    uploaded_at: z.number().int(),
    sequence_id: z.number().int(),
  })
  .refine((e) => e.esi.killmail_id === e.killmail_id, {
    message: "esi.killmail_id does not match killmail_id",
    path: ["esi", "killmail_id"],
  });
export type R2z2Envelope = z.infer<typeof r2z2EnvelopeSchema>;

/** GET /ephemeral/sequence.json. */
export const r2z2SequenceSchema = z.object({ sequence: z.number().int() });

const dayKey = z.string().regex(/^\d{8}$/, "must be YYYYMMDD");
const idKey = z.string().regex(/^\d+$/, "must be a killmail id");

/** GET /history/totals.json → { YYYYMMDD: count }. */
export const historyTotalsSchema = z.record(dayKey, z.number().int().nonnegative());
/** GET /history/YYYYMMDD.json → { killID: hash }. */
export const historyDaySchema = z.record(idKey, killmailHashSchema);
/** GET /history/raw/YYYYMMDD.json → { killID: ESI body }. */
export const historyRawSchema = z.record(idKey, esiKillmailSchema);

/** zKillboard API element since 2026-06-27: the full ESI killmail plus zkb. */
export const zkbApiFullSchema = esiKillmailSchema.extend({ zkb: zkbBlockSchema });
/** The legacy element: id and zkb only (the hash is in zkb). */
export const zkbApiLegacySchema = z.object({ killmail_id: z.number().int().positive(), zkb: zkbBlockSchema });
