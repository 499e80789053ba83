// What a user may hand us to name a killmail: `{killmail_id, hash}` or the URL of the kill on ESI
// (`…/killmails/{id}/{hash}/`) or zKillboard (`https://zkillboard.com/kill/{id}/`, which carries no
// hash: it is looked up from zKillboard). Parsed strictly; every rejection says why.
import { z } from "zod";
import { killmailHashSchema } from "../esi/killmail-schema.ts";

export type KillmailReference = { kind: "esi"; killmailId: number; hash: string } | { kind: "zkillboard"; killmailId: number };

const byIds = z.object({ killmail_id: z.number().int().positive(), hash: killmailHashSchema }).strict();
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
    return { kind: "esi", killmailId: Number(m[1]), hash: m[2]! };
  }
  if (host === "zkillboard.com" || host === "www.zkillboard.com") {
    const m = ZKB_PATH.exec(parsed.pathname);
    if (!m) throw new KillmailReferenceError("url: a zKillboard killmail URL looks like https://zkillboard.com/kill/{id}/");
    return { kind: "zkillboard", killmailId: Number(m[1]) };
  }
  throw new KillmailReferenceError(`url: not an ESI or zKillboard killmail URL (host ${host})`);
}
