// Sealed tokens: AES-256-GCM bound to their context, opened by whichever listed key sealed them, so
// TOKEN_ENCRYPTION_KEY can rotate (new key first); tampering, another row or a dropped key never opens.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseConfig, setConfig } from "../helpers/config.ts";
import { SealError, seal, sealedWithCurrentKey, unseal } from "./crypto.ts";

const useKeys = (...keys: Buffer[]) => setConfig({ sso: { ...parseConfig({}).sso, encryptionKeys: keys } });

describe("sealed tokens", () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);

  it("opens what it sealed, never shows the token, and refuses another context or a changed byte", () => {
    useKeys(oldKey);
    const sealed = seal("refresh-token-value", "sso:1:refresh");
    expect(sealed).toMatch(/^v1\.[0-9a-f]{8}\./);
    expect(sealed).not.toContain("refresh-token-value");
    expect(unseal(sealed, "sso:1:refresh")).toBe("refresh-token-value");
    expect(() => unseal(sealed, "sso:2:refresh")).toThrow(SealError);
    const last = sealed.at(-2) === "A" ? "B" : "A";
    expect(() => unseal(`${sealed.slice(0, -2)}${last}${sealed.at(-1)}`, "sso:1:refresh")).toThrow(SealError);
  });

  it("rotates: the new key seals, the old one still opens until it is dropped", () => {
    useKeys(oldKey);
    const before = seal("a", "ctx");
    useKeys(newKey, oldKey);
    expect(unseal(before, "ctx")).toBe("a");
    expect(sealedWithCurrentKey(before)).toBe(false);
    const after = seal("b", "ctx");
    expect(sealedWithCurrentKey(after)).toBe(true);
    useKeys(newKey);
    expect(unseal(after, "ctx")).toBe("b");
    expect(() => unseal(before, "ctx")).toThrow(/no longer lists/);
  });

  it("reads keys as hex or base64, comma-separated, and refuses anything else without showing it", () => {
    const hex = randomBytes(32).toString("hex");
    const b64 = randomBytes(32).toString("base64");
    expect(parseConfig({ TOKEN_ENCRYPTION_KEY: `${hex},${b64}` }).sso.encryptionKeys).toHaveLength(2);
    expect(() => parseConfig({ TOKEN_ENCRYPTION_KEY: "short-secret" })).toThrow(/TOKEN_ENCRYPTION_KEY="\*\*\*"/);
    useKeys();
    expect(() => seal("x", "ctx")).toThrow(/TOKEN_ENCRYPTION_KEY is not set/);
  });
});
