// Outbox relay: moves jobs written to the `outbox` table (in the same transaction as the kill that
// caused them) into BullMQ, with their work keys as de-duplication ids, and marks them relayed.
// Rows are claimed with FOR UPDATE SKIP LOCKED, so several worker processes can relay at once.
// A crash after the enqueue but before the mark re-relays the rows: the work key de-duplicates them
// while the job is pending, and processors skip work that is already done.
import { sql } from "../db/client.ts";
import { pgArray } from "../db/arrays.ts";
import { log } from "../helpers/logger.ts";
import { addValidated, isQueueName, parsePayload, type QueueName } from "../helpers/queue.ts";
import type { RunnerService } from "../runner/run.ts";

interface OutboxRow {
  id: number;
  queue: string;
  job_key: string;
  payload: unknown;
  priority: number;
}

export interface RelayResult {
  relayed: number;
  deduplicated: number;
}

/** Relays up to `limit` unrelayed rows; returns how many. */
export async function relayOutbox(limit = 1000): Promise<RelayResult> {
  return sql().begin(async (tx) => {
    const rows = await tx<OutboxRow[]>`
      select id, queue, job_key, payload, priority from outbox
      where relayed_at is null and failed_at is null
      order by id limit ${limit}
      for update skip locked`;
    if (rows.length === 0) return { relayed: 0, deduplicated: 0 };
    for (const row of rows) {
      if (!isQueueName(row.queue)) throw new Error(`outbox row ${row.id} names unknown queue '${row.queue}'`);
    }
    let deduplicated = 0;
    for (const [queue, ofQueue] of Map.groupBy(rows, (r) => r.queue as QueueName)) {
      for (const [priority, group] of Map.groupBy(ofQueue, (r) => r.priority)) {
        const payloads = group.map((r) => parsePayload(queue, r.payload));
        const added = await addValidated(queue, payloads, { priority });
        deduplicated += added.deduplicated;
      }
    }
    await tx`update outbox set relayed_at = now() where id = any(${pgArray(rows.map((r) => r.id))}::int8[])`;
    return { relayed: rows.length, deduplicated };
  });
}

/** Deletes the outbox row of finished work (called by the processor that did it). */
export async function closeOutbox(queue: QueueName, jobKey: string): Promise<void> {
  await sql()`delete from outbox where queue = ${queue} and job_key = ${jobKey}`;
}

/** Marks the outbox row of work that failed for good; reconcile leaves it for the operator. */
export async function failOutbox(queue: QueueName, jobKey: string, error: string): Promise<void> {
  await sql()`update outbox set failed_at = now(), error = ${error.slice(0, 1000)}
              where queue = ${queue} and job_key = ${jobKey}`;
}

/** The relay loop as a runner service: relays continuously, idles `idleMs` when there is nothing. */
export function outboxRelayService(idleMs = 250): RunnerService {
  const logger = log("outbox");
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  return {
    name: "outbox-relay",
    start() {
      running = true;
      loop = (async () => {
        while (running) {
          try {
            const { relayed } = await relayOutbox();
            if (relayed > 0) logger.debug({ relayed }, "relayed outbox rows");
            if (relayed === 1000) continue;
          } catch (err) {
            logger.error({ err: (err as Error).message }, "outbox relay failed; retrying");
          }
          await new Promise<void>((r) => {
            wake = r;
            setTimeout(r, idleMs).unref();
          });
        }
      })();
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
  };
}
