// The sync job: one member's recent kills (GET /characters/{id}/killmails/recent with its own token) or
// a corporation's (a director's token), first page conditional on its stored ETag — a 304 costs one
// token of the character's 30 and nothing else — the other pages followed while they bring kills we do
// not know. The id/hash pairs go to the intake like every other source's: kills stored or queued are
// skipped there, so only the kills nobody else told us about are fetched from ESI.
//
// Scheduling: the job re-schedules itself — after each poll it moves to the delayed set until the next
// one (the interval with jitter, never before the route's Expires) instead of completing. Chosen over a
// BullMQ job scheduler per token because the next poll depends on the answer (Expires, an error's
// backoff), a sync that ends (revoked token, no Director role) simply stops, and the work key keeps
// one job per sync across every process; Postgres keeps `next_sync_at`, so reconcile re-creates a job
// Redis lost. The access token comes from the token queue: missing or about to expire, a refresh is
// asked for at once and the sync waits a moment (in the delayed set, no attempt spent).
import { DelayedError, type Job, UnrecoverableError } from "bullmq";
import { InvalidError, NotFoundError, RetryableError } from "../esi/errors.ts";
import type { EsiResult } from "../esi/index.ts";
import { withEsi } from "../esi/job.ts";
import { getCharacterRecentKillmails, getCorporationRecentKillmails } from "../esi/routes.ts";
import type { EsiKillmailRef } from "../esi/schemas.ts";
import { config } from "../helpers/config.ts";
import { log } from "../helpers/logger.ts";
import { storedKillmailIds, submitKillmails } from "../killmails/intake.ts";
import type { PayloadOf } from "../queues/registry.ts";
import { refreshAt, refreshNow } from "./jobs.ts";
import { endSync, loadSync, recordSync, type SyncKind } from "./store.ts";
import { accessToken, accessTokenTtl, dropAccessToken, REFRESH_AHEAD_MS } from "./tokens.ts";

/** How long a sync waits for a token refresh it asked for (longer while the refresh is being retried). */
const TOKEN_WAIT_MS = 2_000;
const TOKEN_RETRY_WAIT_MS = 30_000;
/** After a transient failure (5xx, timeout), the next poll. */
const FAILURE_RETRY_MS = 60_000;

export type SyncOutcome =
  | { state: "stopped"; reason: string }
  | { state: "ended"; status: "no-role" | "forbidden"; reason: string }
  | { state: "polled"; seen: number; added: number; pages: number; notModified: boolean; nextAt: number };

/** Moves the job to the delayed set until `at` and tells BullMQ so (no attempt spent). */
async function waitUntil(job: Job, at: number, why: string): Promise<never> {
  await job.moveToDelayed(Math.max(at, Date.now() + 10), job.token);
  throw new DelayedError(why);
}

/** The next poll: the interval with ±10 % jitter, never before the route's Expires. */
export function nextPollAt(expires: number | undefined, now = Date.now()): number {
  const interval = config().sso.syncIntervalSeconds * 1000;
  const jittered = now + interval * (0.9 + Math.random() * 0.2);
  return Math.max(jittered, expires ?? 0);
}

function fetchPage(kind: SyncKind, id: number, characterId: number, token: string, page: number, etag: string | undefined) {
  const opts = { accessToken: token, characterId, page, ...(etag ? { etag } : {}) };
  return kind === "character" ? getCharacterRecentKillmails(id, opts) : getCorporationRecentKillmails(id, opts);
}

export async function runSync(payload: PayloadOf<"sync">, job: Job): Promise<SyncOutcome> {
  const { kind, id } = payload;
  const logger = log("sso");
  const row = await loadSync(kind, id);
  if (row?.status !== "active" || row.token_state !== "valid") {
    return { state: "stopped", reason: !row ? "no such sync" : row.status !== "active" ? `sync ${row.status}` : "token revoked" };
  }
  const characterId = row.character_id;
  if (config().sso.encryptionKeys.length === 0 || !config().sso.clientId) {
    // This process cannot open tokens: fail for good (reconcile re-creates the job in a configured process).
    throw new UnrecoverableError("EVE SSO is not configured in this process (EVE_SSO_CLIENT_ID, TOKEN_ENCRYPTION_KEY)");
  }
  const token = await accessToken(characterId);
  if (!token) {
    // While the refresh waits out a retry's backoff (the SSO is down), look again less often.
    const { retrying } = await refreshNow(characterId);
    return waitUntil(job, Date.now() + (retrying ? TOKEN_RETRY_WAIT_MS : TOKEN_WAIT_MS), `waiting for a token refresh of ${characterId}`);
  }

  let seen = 0;
  let added = 0;
  let pages = 0;
  // Page 1 (conditional), or the page a read of many pages stopped at when the bucket ran dry.
  let first: { status: "ok" | "not-modified"; etag: string | undefined; expires: number | undefined };
  try {
    let lastPage = 1;
    let nextPage = 2;
    let full: boolean;
    let result = 0;
    if (payload.resume) {
      first = { status: "ok", etag: payload.resume.etag, expires: payload.resume.expires };
      lastPage = payload.resume.pages;
      nextPage = payload.resume.page;
      full = true;
    } else {
      const res = await withEsi(job, () => fetchPage(kind, id, characterId, token, 1, row.etag ?? undefined));
      pages = 1;
      first = { status: res.status, etag: res.status === "ok" ? res.etag : undefined, expires: res.expires };
      if (res.status === "ok") {
        lastPage = res.pages ?? 1;
        result = await submit(res.data);
        seen += res.data.length;
        added += result;
      }
      // The first sync, without an ETag, reads every page.
      full = !row.etag;
    }
    // Newer kills come first: once a page brings nothing new, the older pages hold nothing new either.
    for (let page = nextPage; first.status === "ok" && page <= lastPage && (full || result > 0); page++) {
      let res: EsiResult<EsiKillmailRef[]>;
      try {
        res = await withEsi(job, () => fetchPage(kind, id, characterId, token, page, undefined));
      } catch (err) {
        // The list shrank since page 1 was read.
        if (err instanceof NotFoundError) break;
        if (err instanceof DelayedError) {
          // The character's bucket ran dry mid-way: go on from this page when the job comes back.
          const resume = {
            page,
            pages: lastPage,
            ...(first.etag ? { etag: first.etag } : {}),
            ...(first.expires ? { expires: first.expires } : {}),
          };
          await job.updateData({ kind, id, resume });
          await recordSync(kind, id, { seen, added, nextAt: undefined });
        }
        throw err;
      }
      pages++;
      if (res.status !== "ok") break;
      result = await submit(res.data);
      seen += res.data.length;
      added += result;
    }
    if (payload.resume) await job.updateData({ kind, id });
  } catch (err) {
    if (err instanceof DelayedError) throw err;
    if (err instanceof InvalidError && err.where.status === 401) {
      // The access token was refused: get a new one.
      await dropAccessToken(characterId);
      await refreshNow(characterId);
      return waitUntil(job, Date.now() + TOKEN_WAIT_MS, `access token of ${characterId} refused; refreshing`);
    }
    if (err instanceof InvalidError && err.where.status === 403) {
      // No Director role (or a scope the token lacks): asking again cannot help. Paid in the group's
      // tokens, not counted toward the error limit (the budget knows the route's group).
      const status = kind === "corporation" && /role/i.test(err.message) ? "no-role" : "forbidden";
      const reason =
        status === "no-role"
          ? `character ${characterId} lacks the Director role of corporation ${id}: not polled again (${err.message})`
          : err.message;
      await endSync(kind, id, status, reason);
      logger.warn({ kind, id, characterId, status }, "sync ended: ESI refused the token (403)");
      return { state: "ended", status, reason };
    }
    if (err instanceof RetryableError) {
      const nextAt = Date.now() + FAILURE_RETRY_MS;
      await recordSync(kind, id, { seen, added, nextAt, error: err.message });
      return waitUntil(job, nextAt, `sync failed (${err.message}); next poll at ${new Date(nextAt).toISOString()}`);
    }
    throw err;
  }

  const expires = first.expires;
  const nextAt = nextPollAt(expires);
  await recordSync(kind, id, {
    ...(first.status === "ok" ? { etag: first.etag ?? null } : {}),
    expiresAt: expires,
    seen,
    added,
    nextAt,
  });
  logger.info({ kind, id, characterId, seen, added, pages, notModified: first.status === "not-modified" }, "sync polled");
  // A token that expires before the next poll is refreshed ahead of it (the token queue, credentials tier).
  const ttl = await accessTokenTtl(characterId);
  if (Date.now() + ttl < nextAt + REFRESH_AHEAD_MS)
    await refreshAt(characterId, Math.max(Date.now(), Date.now() + ttl - REFRESH_AHEAD_MS + 5_000));
  // Still active? (an operator may have revoked the token while this poll ran)
  const after = await loadSync(kind, id);
  if (after?.status !== "active" || after.token_state !== "valid") {
    return { state: "polled", seen, added, pages, notModified: first.status === "not-modified", nextAt };
  }
  return waitUntil(job, nextAt, `next poll of ${kind} ${id} at ${new Date(nextAt).toISOString()}`);
}

/** Hands a page's kills to the intake; returns how many were new (neither stored nor queued). */
async function submit(refs: EsiKillmailRef[]): Promise<number> {
  if (refs.length === 0) return 0;
  const items = refs.map((r) => ({ killmailId: r.killmail_id, hash: r.killmail_hash }));
  const stored = await storedKillmailIds(items.map((i) => i.killmailId));
  const fresh = items.filter((i) => !stored.has(i.killmailId));
  if (fresh.length === 0) return 0;
  // Batch mode makes the intake leave out kills a job in Redis already carries (a body-less kill still
  // gets a job of its own, fetched from ESI's per-IP killmail bucket).
  const result = await submitKillmails(fresh, { source: "sso", batchJobKills: config().batchJobKills });
  return result.enqueued;
}
