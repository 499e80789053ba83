// How long a fetched entity stays fresh: ESI's Expires, but never sooner than our own minimum, so a
// pilot in a thousand kills is fetched once a day, not once per ESI cache period.
export const MIN_TTL_MS = {
  character: 24 * 3_600_000,
  corporation: 24 * 3_600_000,
  alliance: 24 * 3_600_000,
} as const;

export function freshUntil(kind: keyof typeof MIN_TTL_MS, esiExpires: number | undefined, now = Date.now()): Date {
  return new Date(Math.max(esiExpires ?? 0, now + MIN_TTL_MS[kind]));
}
