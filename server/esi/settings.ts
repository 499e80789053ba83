// The upstream clients' tunables (ESI, zKillboard API, R2Z2): part of the validated configuration
// (helpers/config.ts, where each is documented), with a test-only way to change some in one process.
import { config, setConfig, type UpstreamSettings } from "../helpers/config.ts";

export type { UpstreamSettings } from "../helpers/config.ts";

export function upstreamSettings(): UpstreamSettings {
  return config().upstream;
}

/** Replaces some settings in this process (tests). */
export function setUpstreamSettings(patch: Partial<UpstreamSettings>): UpstreamSettings {
  return setConfig({ upstream: { ...upstreamSettings(), ...patch } }).upstream;
}
