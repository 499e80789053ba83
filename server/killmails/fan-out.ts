// The fan-out of stored kills: outbox rows (written in the kill's transaction) for the characters,
// corporations, alliances and types the kills name that are unknown or past their expiry. One row per
// (queue, key) while outstanding, so a thousand kills naming the same fifty pilots make fifty rows.
// A key checked by a committed transaction is not checked again by this process for a while: the
// entity was fresh (fresh for a day at least, see entities/ttl.ts) or its refresh was queued then.
//
// The memo is per process on purpose, and bounded in its waste across processes and hosts: with W worker
// processes, a key is checked against Postgres at most W times per FANOUT_RECHECK_SECONDS instead of
// once — an index probe inside a statement the transaction runs anyway; what it decides is shared (the
// outbox keeps one row per key while outstanding, the work key one job). Sharing it in Redis would cost
// a round trip per transaction to save those probes. Memory: at most MAX_REMEMBERED keys per queue.
import type { TransactionSql } from "postgres";
import { pgArray } from "../db/arrays.ts";
import type { EsiKillmail } from "../esi/killmail-schema.ts";
import { config } from "../helpers/config.ts";
import { Priority } from "../queues/priority.ts";
import { queueDeclaration, workKey } from "../queues/registry.ts";
import { collectReferences, emptyReferenceSets } from "./flatten.ts";

/** How long a checked key is skipped by this process (FANOUT_RECHECK_SECONDS; 0 checks every time). */
function recheckMs(): number {
  return config().fanOutRecheckSeconds * 1000;
}
const MAX_REMEMBERED = 500_000;
const QUEUES = ["alliance", "character", "corporation", "type"] as const;
type FanOutQueue = (typeof QUEUES)[number];
/** Per queue: id → when it was last checked by a committed transaction (ms). */
const checked: Record<FanOutQueue, Map<number, number>> = {
  alliance: new Map(),
  character: new Map(),
  corporation: new Map(),
  type: new Map(),
};

/** The (queue, id) pairs one transaction checked. */
export interface FanOutKeys {
  queues: FanOutQueue[];
  ids: number[];
}

/** Records keys checked by a transaction that committed. */
export function fanOutChecked(keys: FanOutKeys, now = Date.now()): void {
  if (recheckMs() <= 0) return;
  keys.queues.forEach((queue, i) => {
    const memo = checked[queue];
    if (memo.size >= MAX_REMEMBERED) memo.clear();
    memo.set(keys.ids[i]!, now);
  });
}

/**
 * Writes the outbox rows for these (just stored) kills, keys in sorted order; returns the rows written
 * and the keys checked (to hand to fanOutChecked once the transaction commits).
 */
export async function writeFanOut(tx: TransactionSql, kills: EsiKillmail[]): Promise<{ rows: number; keys: FanOutKeys }> {
  const want = emptyReferenceSets();
  for (const esi of kills) collectReferences(esi, want);
  const since = Date.now() - recheckMs();
  const queues: FanOutQueue[] = [];
  const ids: number[] = [];
  for (const queue of QUEUES) {
    const memo = checked[queue];
    const fresh = [...want[queue]].filter((id) => !((memo.get(id) ?? -Infinity) > since));
    for (const id of fresh.sort((x, y) => x - y)) {
      queues.push(queue);
      ids.push(id);
    }
  }
  const keys = { queues, ids };
  if (ids.length === 0) return { rows: 0, keys };
  // Work keys and tiers come from the registry; the statement only leaves out what is fresh. The
  // payload is an entity payload, {id} (the relay validates it against its queue's schema).
  const jobKeys = queues.map((queue, i) => workKey(queue, { id: ids[i]! }));
  const priorities = queues.map((queue) => Priority[queueDeclaration(queue).priority]);
  const rows = await tx`
    insert into outbox (queue, job_key, payload, priority)
    select u.queue, u.job_key, jsonb_build_object('id', u.id), u.priority
    from unnest(${pgArray(queues)}::text[], ${pgArray(ids)}::int4[], ${pgArray(jobKeys)}::text[], ${pgArray(priorities)}::int4[])
         with ordinality as u(queue, id, job_key, priority, n)
    where case u.queue
      when 'character' then not exists (select 1 from characters c where c.character_id = u.id
                                        and (c.deleted or c.expires_at > now()))
      when 'corporation' then not exists (select 1 from corporations c where c.corporation_id = u.id
                                          and (c.deleted or c.expires_at > now()))
      when 'alliance' then not exists (select 1 from alliances c where c.alliance_id = u.id
                                       and (c.deleted or c.expires_at > now()))
      else not exists (select 1 from types t where t.type_id = u.id)
    end
    order by u.n
    on conflict (queue, job_key) where failed_at is null do nothing
    returning 1`;
  return { rows: rows.length, keys };
}
