import { describe, expect, it } from "vitest";
import { ConfigError, describeConfig, parseConfig, redactUrl, requireEsiUserAgent } from "./config.ts";

describe("parseConfig", () => {
  it("applies the documented defaults", () => {
    const cfg = parseConfig({});
    expect(cfg.redisUrl).toBe("redis://127.0.0.1:6379");
    expect(cfg.databaseUrl).toBe("postgres://postgres@127.0.0.1:5432/postgres");
    expect(cfg.queuePrefix).toBe("bull");
    expect(cfg.esiUrl).toBe("https://esi.evetech.net");
    expect(cfg.port).toBe(3000);
    expect(cfg.queues).toEqual({});
  });

  it("names the variable of a bad value", () => {
    expect(() => parseConfig({ REDIS_URL: "http://x" })).toThrow(/REDIS_URL/);
    expect(() => parseConfig({ PORT: "70000" })).toThrow(/PORT/);
    expect(() => parseConfig({ LOG_LEVEL: "loud" })).toThrow(ConfigError);
  });

  it("reads per-queue concurrency and rate overrides", () => {
    const cfg = parseConfig({ QUEUE_KILLMAIL_CONCURRENCY: "50", QUEUE_CHARACTER_RATE: "20", QUEUE_KILLMAIL_LOCK_SECONDS: "5" });
    expect(cfg.queues).toEqual({ killmail: { concurrency: 50, lockSeconds: 5 }, character: { ratePerSecond: 20 } });
  });

  it("rejects overrides for queues that do not exist or are not positive integers", () => {
    expect(() => parseConfig({ QUEUE_NOPE_CONCURRENCY: "5" })).toThrow(/QUEUE_NOPE_CONCURRENCY.*killmail/);
    expect(() => parseConfig({ QUEUE_TYPE_RATE: "0" })).toThrow(/QUEUE_TYPE_RATE/);
  });

  it("never shows passwords or tokens", () => {
    expect(redactUrl("redis://:hunter2@host:6379")).toBe("redis://:***@host:6379");
    const cfg = parseConfig({ DATABASE_URL: "postgres://kb:s3cret@db/kb", ADMIN_TOKEN: "0123456789abcdefXYZ" });
    const shown = JSON.stringify(describeConfig(cfg));
    expect(shown).not.toContain("s3cret");
    expect(shown).not.toContain("0123456789abcdefXYZ");
    let message = "";
    try {
      parseConfig({ DATABASE_URL: "mysql://kb:s3cret@db/kb" });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain("DATABASE_URL");
    expect(message).not.toContain("s3cret");
  });

  it("requires a User-Agent before any upstream call", () => {
    expect(() => requireEsiUserAgent(parseConfig({}))).toThrow(/ESI_USER_AGENT/);
    expect(requireEsiUserAgent(parseConfig({ ESI_USER_AGENT: "kb-test/1.0 test@example.com" }))).toContain("kb-test");
  });
});
