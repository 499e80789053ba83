// Secrets at rest: refresh tokens (and the access tokens Redis keeps until they expire) are sealed with
// AES-256-GCM under TOKEN_ENCRYPTION_KEY. A sealed value names its key by a short digest, so keys rotate:
// TOKEN_ENCRYPTION_KEY lists the new key first and the old ones after it; values sealed with an old key
// still open, and each refresh seals the new refresh token with the first key (see README "EVE SSO").
// The context (e.g. the character id) is authenticated too: a sealed token copied to another row does
// not open there.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { config } from "../helpers/config.ts";

export class SealError extends Error {
  override name = "SealError";
}

const VERSION = "v1";

function keyId(key: Buffer): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 8);
}

function keys(): Buffer[] {
  const list = config().sso.encryptionKeys;
  if (list.length === 0) throw new SealError("TOKEN_ENCRYPTION_KEY is not set: tokens cannot be stored");
  return list;
}

/** `v1.<key id>.<iv>.<ciphertext+tag>` (base64url), bound to `context`. */
export function seal(plain: string, context: string): string {
  const key = keys()[0]!;
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(context));
  const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final(), cipher.getAuthTag()]);
  return [VERSION, keyId(key), iv.toString("base64url"), body.toString("base64url")].join(".");
}

/** Opens a sealed value with whichever configured key sealed it; SealError when none can. */
export function unseal(sealed: string, context: string): string {
  const [version, kid, iv, body] = sealed.split(".");
  if (version !== VERSION || !kid || !iv || !body) throw new SealError("not a sealed value");
  const key = keys().find((k) => keyId(k) === kid);
  if (!key) throw new SealError(`sealed with key ${kid}, which TOKEN_ENCRYPTION_KEY no longer lists`);
  const data = Buffer.from(body, "base64url");
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(data.subarray(data.length - 16));
    return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString("utf8");
  } catch {
    throw new SealError("sealed value does not open (tampered, or sealed for another row)");
  }
}

/** True when a sealed value was sealed with the current (first) key. */
export function sealedWithCurrentKey(sealed: string): boolean {
  return sealed.split(".")[1] === keyId(keys()[0]!);
}
