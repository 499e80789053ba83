// The ESI killmail body (GET /killmails/{id}/{hash}, compatibility date 2026-08-18), validated at every
// edge where one enters the system: job payloads, R2Z2/zKillboard/EVE Ref bodies, HTTP posts
// (checkEsiKillmail: the same rules compiled by ajv, for bulk paths).
// Items nest recursively: the spec shows one level, real mails nest containers two levels deep.
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import { z } from "zod";

const id = z.number().int().positive();

export interface EsiItem {
  flag: number;
  item_type_id: number;
  singleton: number;
  quantity_dropped?: number;
  quantity_destroyed?: number;
  items?: EsiItem[];
}

export const esiItemSchema: z.ZodType<EsiItem> = z.object({
  flag: z.number().int().nonnegative(),
  item_type_id: id,
  singleton: z.number().int().nonnegative(),
  quantity_dropped: z.number().int().nonnegative().optional(),
  quantity_destroyed: z.number().int().nonnegative().optional(),
  get items() {
    return z.array(esiItemSchema).optional();
  },
});

export const esiAttackerSchema = z.object({
  damage_done: z.number().int().nonnegative(),
  final_blow: z.boolean(),
  security_status: z.number().finite(),
  character_id: id.optional(),
  corporation_id: id.optional(),
  alliance_id: id.optional(),
  faction_id: id.optional(),
  ship_type_id: id.optional(),
  weapon_type_id: id.optional(),
});

export const esiVictimSchema = z.object({
  ship_type_id: id,
  damage_taken: z.number().int().nonnegative(),
  character_id: id.optional(),
  corporation_id: id.optional(),
  alliance_id: id.optional(),
  faction_id: id.optional(),
  position: z.object({ x: z.number().finite(), y: z.number().finite(), z: z.number().finite() }).optional(),
  items: z.array(esiItemSchema).optional(),
});

/** ESI writes times as `2026-03-25T14:26:36Z`; older tools add milliseconds or an offset. */
const esiTime = z.iso.datetime({ offset: true });

export const esiKillmailSchema = z.object({
  killmail_id: id,
  killmail_time: esiTime,
  solar_system_id: id,
  moon_id: id.optional(),
  war_id: id.optional(),
  victim: esiVictimSchema,
  attackers: z.array(esiAttackerSchema).min(1),
});

export type EsiKillmail = z.infer<typeof esiKillmailSchema>;
export type EsiAttacker = z.infer<typeof esiAttackerSchema>;
export type EsiVictim = z.infer<typeof esiVictimSchema>;

/** A killmail hash: 40 lowercase hex characters. */
export const killmailHashSchema = z.string().regex(/^[0-9a-f]{40}$/, "must be 40 lowercase hex characters");

/**
 * The same rules as esiKillmailSchema, compiled by ajv from its JSON Schema (z.toJSONSchema): much
 * faster than zod's parse, for the bulk paths (batch jobs, imports). Like zod, unknown fields are
 * dropped; unlike zod, the object is checked in place rather than copied. Returns the first problem.
 */
let compiled: ValidateFunction<EsiKillmail> | undefined;

/** Compiled on first use: processes that never check a body in bulk (CLI, server) do not pay for it. */
function checkCompiled(): ValidateFunction<EsiKillmail> {
  compiled ??= new Ajv2020({ allErrors: false, removeAdditional: "all", validateFormats: false }).compile<EsiKillmail>(
    z.toJSONSchema(esiKillmailSchema, { target: "draft-2020-12", io: "input" }),
  );
  return compiled;
}

export type KillmailCheck = { success: true; data: EsiKillmail } | { success: false; issue: string };

export function checkEsiKillmail(body: unknown): KillmailCheck {
  const check = checkCompiled();
  if (check(body)) return { success: true, data: body };
  const e = check.errors?.[0];
  const path = e?.instancePath ? e.instancePath.slice(1).replace(/\//g, ".") : "(root)";
  return { success: false, issue: `${path}: ${e?.message ?? "invalid"}` };
}
