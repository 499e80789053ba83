// What a user may hand us to name a killmail: `{killmail_id, hash}` or the URL of the kill on ESI
// (`…/killmails/{id}/{hash}/`) or zKillboard (`https://zkillboard.com/kill/{id}/`, which carries no
// hash: it is looked up from zKillboard). Parsed strictly; every rejection says why.
// Ids are held to ESI's int32 range here, at the edge, in every form: an id read from a URL used to reach
// Postgres unchecked, and one past int8 made the intake's query fail (500); one past int32 was queued and
// cost an ESI call that could only fail.
import { z } from "zod";
import { killmailHashSchema } from "../esi/killmail-schema.ts";

export type KillmailReference = { kind: "esi"; killmailId: number; hash: string } | { kind: "zkillboard"; killmailId: number };

/** The highest killmail id ESI can name (its ids are int32; today's are near 130 million). */
export const MAX_KILLMAIL_ID = 2_147_483_647;

const ID_MESSAGE = `must be a killmail id: a whole number from 1 to ${MAX_KILLMAIL_ID}`;

/** A killmail id as a user may give it (JSON number, or digits of a URL or path). */
export const killmailIdSchema = z.number({ error: ID_MESSAGE }).int(ID_MESSAGE).min(1, ID_MESSAGE).max(MAX_KILLMAIL_ID, ID_MESSAGE);

/** The killmail id written as digits (a URL's or a path's), or undefined when it is not one. */
export function killmailIdFromDigits(digits: string): number | undefined {
  // Digits only, and few enough that Number() is exact: anything longer is out of range anyway.
  if (!/^\d{1,10}$/.test(digits)) return undefined;
  const id = killmailIdSchema.safeParse(Number(digits));
  return id.success ? id.data : undefined;
}

const byIds = z.object({ killmail_id: killmailIdSchema, hash: killmailHashSchema }).strict();
const byUrl = z.object({ url: z.string().min(1).max(500) }).strict();

const ESI_PATH = /^\/(?:(?:latest|legacy|dev|v\d+)\/)?killmails\/(\d+)\/([0-9a-f]{40})\/?$/;
const ZKB_PATH = /^\/kill\/(\d+)\/?$/;

export class KillmailReferenceError extends Error {
  override name = "KillmailReferenceError";
}

export function parseKillmailReference(body: unknown): KillmailReference {
  const ids = byIds.safeParse(body);
  if (ids.success) return { kind: "esi", killmailId: ids.data.killmail_id, hash: ids.data.hash };
  const url = byUrl.safeParse(body);
  if (!url.success) {
    if (body && typeof body === "object" && "killmail_id" in body) {
      const issue = ids.error.issues[0]!;
      throw new KillmailReferenceError(`${issue.path.join(".") || "body"}: ${issue.message}`);
    }
    throw new KillmailReferenceError('expected {"killmail_id": <id>, "hash": "<40 hex>"} or {"url": "<ESI or zKillboard killmail URL>"}');
  }
  let parsed: URL;
  try {
    parsed = new URL(url.data.url.trim());
  } catch {
    throw new KillmailReferenceError(`url: not a URL: ${url.data.url}`);
  }
  const host = parsed.hostname.toLowerCase();
  if (host === "esi.evetech.net" || host.endsWith(".esi.evetech.net")) {
    const m = ESI_PATH.exec(parsed.pathname);
    if (!m) throw new KillmailReferenceError("url: an ESI killmail URL looks like https://esi.evetech.net/killmails/{id}/{hash}/");
    return { kind: "esi", killmailId: urlId(m[1]!), hash: m[2]! };
  }
  if (host === "zkillboard.com" || host === "www.zkillboard.com") {
    const m = ZKB_PATH.exec(parsed.pathname);
    if (!m) throw new KillmailReferenceError("url: a zKillboard killmail URL looks like https://zkillboard.com/kill/{id}/");
    return { kind: "zkillboard", killmailId: urlId(m[1]!) };
  }
  throw new KillmailReferenceError(`url: not an ESI or zKillboard killmail URL (host ${host})`);
}

function urlId(digits: string): number {
  const id = killmailIdFromDigits(digits);
  if (id === undefined) throw new KillmailReferenceError(`url: the killmail id ${ID_MESSAGE}`);
  return id;
}
