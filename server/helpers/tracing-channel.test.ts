// The TracingChannel shim: ioredis traces a command only when something listens, as under Node.
import diagnostics from "node:diagnostics_channel";
import { describe, expect, it } from "vitest";
import "./tracing-channel.ts";

describe("TracingChannel.hasSubscribers", () => {
  it("is false while nothing listens and true once something does", () => {
    const channel = diagnostics.tracingChannel("killboard-test:command");
    expect(channel.hasSubscribers).toBe(false);
    const onStart = () => {};
    diagnostics.subscribe("tracing:killboard-test:command:start", onStart);
    expect(channel.hasSubscribers).toBe(true);
    diagnostics.unsubscribe("tracing:killboard-test:command:start", onStart);
    expect(channel.hasSubscribers).toBe(false);
  });
});
