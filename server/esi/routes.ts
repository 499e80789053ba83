// Typed functions for every ESI route the killboard uses. GETs of refreshable resources take an optional
// `{ etag }` (the caller's stored copy) and then may answer { status: "not-modified" }; without an etag
// they always return data. POSTs take any number of ids and split them into ESI's 1,000-id requests.

import { type CallOptions, type EsiCall, type EsiOk, type EsiResult, esiCall } from "./client.ts";
import { type EsiKillmail, esiKillmailSchema } from "./killmail-schema.ts";
import {
  affiliationSchema,
  allianceSchema,
  categorySchema,
  characterSchema,
  corporationSchema,
  type EsiAffiliation,
  type EsiAlliance,
  type EsiCategory,
  type EsiCharacter,
  type EsiCorporation,
  type EsiGroup,
  type EsiKillmailRef,
  type EsiMarketHistoryDay,
  type EsiMarketPrice,
  type EsiStatus,
  type EsiType,
  type EsiUniverseName,
  groupSchema,
  idListSchema,
  killmailRefsSchema,
  marketHistorySchema,
  marketPricesSchema,
  statusSchema,
  typeSchema,
  universeNamesSchema,
} from "./schemas.ts";

/** Options without an ETag: the answer always carries data. */
export type FetchOptions = Omit<CallOptions, "etag"> & { etag?: undefined };

/** A GET route function: data when no ETag is given; data or "not-modified" when one is. */
export interface ConditionalGet<A extends unknown[], T> {
  (...args: A): Promise<EsiOk<T>>;
  (...args: [...A, FetchOptions]): Promise<EsiOk<T>>;
  (...args: [...A, CallOptions]): Promise<EsiResult<T>>;
}

function conditionalGet<A extends unknown[], T>(arity: number, build: (...args: A) => EsiCall<T>): ConditionalGet<A, T> {
  return (async (...args: unknown[]) => {
    const opts = (args.length > arity ? args[arity] : undefined) as CallOptions | undefined;
    return esiCall(build(...(args.slice(0, arity) as A)), opts);
  }) as ConditionalGet<A, T>;
}

function assertId(name: string, id: number): number {
  if (!Number.isSafeInteger(id) || id <= 0) throw new TypeError(`${name} must be a positive integer, got ${id}`);
  return id;
}

/** GET /killmails/{id}/{hash}: immutable, so never conditional. Wrong pair → InvalidError (422). */
export async function getKillmail(killmailId: number, hash: string, opts: FetchOptions = {}): Promise<EsiOk<EsiKillmail>> {
  assertId("killmailId", killmailId);
  if (!/^[0-9a-f]{40}$/.test(hash)) throw new TypeError(`killmail hash must be 40 lowercase hex characters, got '${hash}'`);
  return esiCall(
    {
      method: "GET",
      route: "/killmails/{killmail_id}/{killmail_hash}",
      path: `/killmails/${killmailId}/${hash}`,
      schema: esiKillmailSchema,
    },
    opts,
  ) as Promise<EsiOk<EsiKillmail>>;
}

/** GET /characters/{id}. A deleted (biomassed) character → NotFoundError. */
export const getCharacter = conditionalGet(
  1,
  (id: number): EsiCall<EsiCharacter> => ({
    method: "GET",
    route: "/characters/{character_id}",
    path: `/characters/${assertId("characterId", id)}`,
    schema: characterSchema,
    memo: true,
  }),
);

/** GET /corporations/{id}. */
export const getCorporation = conditionalGet(
  1,
  (id: number): EsiCall<EsiCorporation> => ({
    method: "GET",
    route: "/corporations/{corporation_id}",
    path: `/corporations/${assertId("corporationId", id)}`,
    schema: corporationSchema,
    memo: true,
  }),
);

/** GET /alliances/{id}. */
export const getAlliance = conditionalGet(
  1,
  (id: number): EsiCall<EsiAlliance> => ({
    method: "GET",
    route: "/alliances/{alliance_id}",
    path: `/alliances/${assertId("allianceId", id)}`,
    schema: allianceSchema,
    memo: true,
  }),
);

/** GET /alliances: ids of every active alliance. */
export const getAlliances = conditionalGet(
  0,
  (): EsiCall<number[]> => ({
    method: "GET",
    route: "/alliances",
    path: "/alliances",
    schema: idListSchema,
    memo: true,
  }),
);

/** GET /alliances/{id}/corporations: ids of its member corporations. */
export const getAllianceCorporations = conditionalGet(
  1,
  (id: number): EsiCall<number[]> => ({
    method: "GET",
    route: "/alliances/{alliance_id}/corporations",
    path: `/alliances/${assertId("allianceId", id)}/corporations`,
    schema: idListSchema,
    memo: true,
  }),
);

/** GET /universe/types/{id}. */
export const getType = conditionalGet(
  1,
  (id: number): EsiCall<EsiType> => ({
    method: "GET",
    route: "/universe/types/{type_id}",
    path: `/universe/types/${assertId("typeId", id)}`,
    schema: typeSchema,
    memo: true,
  }),
);

/** GET /universe/groups/{id}. */
export const getGroup = conditionalGet(
  1,
  (id: number): EsiCall<EsiGroup> => ({
    method: "GET",
    route: "/universe/groups/{group_id}",
    path: `/universe/groups/${assertId("groupId", id)}`,
    schema: groupSchema,
    memo: true,
  }),
);

/** GET /universe/categories/{id}. */
export const getCategory = conditionalGet(
  1,
  (id: number): EsiCall<EsiCategory> => ({
    method: "GET",
    route: "/universe/categories/{category_id}",
    path: `/universe/categories/${assertId("categoryId", id)}`,
    schema: categorySchema,
    memo: true,
  }),
);

/** GET /markets/prices: average and adjusted price of every type. */
export const getMarketPrices = conditionalGet(
  0,
  (): EsiCall<EsiMarketPrice[]> => ({
    method: "GET",
    route: "/markets/prices",
    path: "/markets/prices",
    schema: marketPricesSchema,
    memo: true,
  }),
);

/** GET /markets/{region_id}/history?type_id=: daily history (The Forge = 10000002). Non-market type → NotFoundError. */
export const getMarketHistory = conditionalGet(
  2,
  (regionId: number, typeId: number): EsiCall<EsiMarketHistoryDay[]> => ({
    method: "GET",
    route: "/markets/{region_id}/history",
    path: `/markets/${assertId("regionId", regionId)}/history`,
    query: { type_id: assertId("typeId", typeId) },
    schema: marketHistorySchema,
    memo: true,
  }),
);

/**
 * GET /status: players online, build, start time. The budget asks it by itself to tell a Tranquility
 * downtime (see README); this is for operators. Never conditional: it changes every 30 s.
 */
export async function getStatus(opts: FetchOptions = {}): Promise<EsiOk<EsiStatus>> {
  return esiCall({ method: "GET", route: "/status", path: "/status", schema: statusSchema }, opts) as Promise<EsiOk<EsiStatus>>;
}

/** ESI's most ids per POST body. */
export const MAX_IDS_PER_POST = 1000;

async function postInChunks<T>(ids: readonly number[], build: (chunk: number[]) => EsiCall<T[]>, opts: FetchOptions): Promise<T[]> {
  const unique = [...new Set(ids)];
  for (const id of unique) assertId("id", id);
  const out: T[] = [];
  for (let i = 0; i < unique.length; i += MAX_IDS_PER_POST) {
    const result = (await esiCall(build(unique.slice(i, i + MAX_IDS_PER_POST)), opts)) as EsiOk<T[]>;
    out.push(...result.data);
  }
  return out;
}

/**
 * POST /characters/affiliation: corporation/alliance/faction of each character, any number of ids
 * (de-duplicated, sent 1,000 per request).
 */
export function postCharacterAffiliation(ids: readonly number[], opts: FetchOptions = {}): Promise<EsiAffiliation[]> {
  return postInChunks(
    ids,
    (chunk) => ({
      method: "POST",
      route: "/characters/affiliation",
      path: "/characters/affiliation",
      body: chunk,
      schema: affiliationSchema,
    }),
    opts,
  );
}

/**
 * POST /universe/names: name and category of each id, any number of ids (1,000 per request). ESI answers
 * 404 for a whole request when one id is unknown: that is a NotFoundError for the caller to handle.
 */
export function postUniverseNames(ids: readonly number[], opts: FetchOptions = {}): Promise<EsiUniverseName[]> {
  return postInChunks(
    ids,
    (chunk) => ({
      method: "POST",
      route: "/universe/names",
      path: "/universe/names",
      body: chunk,
      schema: universeNamesSchema,
    }),
    opts,
  );
}

/** A member's access token, for the authenticated routes. */
export interface AuthOptions {
  accessToken: string;
  /** The character the token belongs to (its own rate-limit bucket). */
  characterId: number;
  /** 1-based page of a paged route (X-Pages tells how many). */
  page?: number;
  /** The ETag of the page held: ESI answers 304 while it is current. */
  etag?: string | undefined;
  maxWaitMs?: number;
}

function recentCall(route: string, path: string, opts: AuthOptions): [EsiCall<EsiKillmailRef[]>, CallOptions] {
  const call: EsiCall<EsiKillmailRef[]> = {
    method: "GET",
    route,
    path,
    ...(opts.page && opts.page > 1 ? { query: { page: opts.page } } : {}),
    schema: killmailRefsSchema,
    auth: { accessToken: opts.accessToken, characterId: assertId("characterId", opts.characterId) },
  };
  const callOpts: CallOptions = {};
  if (opts.etag) callOpts.etag = opts.etag;
  if (opts.maxWaitMs !== undefined) callOpts.maxWaitMs = opts.maxWaitMs;
  return [call, callOpts];
}

/**
 * GET /characters/{id}/killmails/recent (scope esi-killmails.read_killmails.v1): id/hash pairs of the
 * character's kills and losses of the last 90 days, paged; the `char-killmail` bucket of that character.
 */
export function getCharacterRecentKillmails(characterId: number, opts: AuthOptions): Promise<EsiResult<EsiKillmailRef[]>> {
  const id = assertId("characterId", characterId);
  return esiCall(...recentCall("/characters/{character_id}/killmails/recent", `/characters/${id}/killmails/recent`, opts));
}

/**
 * GET /corporations/{id}/killmails/recent (scope esi-killmails.read_corporation_killmails.v1, Director
 * role: 403 otherwise, an InvalidError): the corporation's kills and losses, the director's
 * `corp-killmail` bucket.
 */
export function getCorporationRecentKillmails(corporationId: number, opts: AuthOptions): Promise<EsiResult<EsiKillmailRef[]>> {
  const id = assertId("corporationId", corporationId);
  return esiCall(...recentCall("/corporations/{corporation_id}/killmails/recent", `/corporations/${id}/killmails/recent`, opts));
}
