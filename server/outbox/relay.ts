// Outbox relay: moves jobs written to the `outbox` table (in the same transaction as the kill that
// caused them) into BullMQ, with their work keys as de-duplication ids, and marks them relayed.
// Rows are claimed with FOR UPDATE SKIP LOCKED, so several worker processes can relay at once.
// A crash after the enqueue but before the mark re-relays the rows: the work key de-duplicates them
// while the job is pending, and processors skip work that is already done.
import { pgArray } from "../db/arrays.ts";
import { sql } from "../db/client.ts";
import { log } from "../helpers/logger.ts";
import { enqueueValidated } from "../queues/enqueue.ts";
import { isQueueName, type PayloadOf, parsePayload, type QueueName, workKey } from "../queues/registry.ts";
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
  /** Rows no queue can take, marked failed. */
  failed: number;
}

/**
 * Relays up to `limit` unrelayed rows; returns how many. The rows are claimed and marked in one
 * statement, and the mark commits only after their jobs are in Redis: if the enqueue fails (or the
 * process dies first), the transaction rolls back and the rows are relayed again later. A row its
 * queue cannot take (unknown queue, payload the queue's schema refuses) is marked failed with the
 * reason (GET /api/status counts them) instead of blocking the rows behind it.
 */
export async function relayOutbox(limit = 1000): Promise<RelayResult> {
  return sql().begin(async (tx) => {
    const rows = await tx<OutboxRow[]>`
      update outbox o set relayed_at = now()
      from (select id from outbox
            where relayed_at is null and failed_at is null
            order by id limit ${limit}
            for update skip locked) claimed
      where o.id = claimed.id
      returning o.id, o.queue, o.job_key, o.payload, o.priority`;
    if (rows.length === 0) return { relayed: 0, deduplicated: 0, failed: 0 };
    rows.sort((a, b) => a.id - b.id); // enqueued in the order they were written
    const refused: { id: number; error: string }[] = [];
    const jobs: { queue: QueueName; priority: number; payload: PayloadOf<QueueName> }[] = [];
    for (const row of rows) {
      try {
        if (!isQueueName(row.queue)) throw new Error(`unknown queue '${row.queue}'`);
        const payload = parsePayload(row.queue, row.payload);
        // A row whose key is not its payload's work key could never be closed by the job that does it.
        const key = workKey(row.queue, payload);
        if (key !== row.job_key) throw new Error(`job_key '${row.job_key}' is not its payload's work key '${key}'`);
        jobs.push({ queue: row.queue, priority: row.priority, payload });
      } catch (err) {
        refused.push({ id: row.id, error: `outbox row ${row.id} cannot be relayed: ${(err as Error).message}`.slice(0, 1000) });
      }
    }
    let deduplicated = 0;
    for (const [queue, ofQueue] of Map.groupBy(jobs, (j) => j.queue)) {
      for (const [priority, group] of Map.groupBy(ofQueue, (j) => j.priority)) {
        const added = await enqueueValidated(
          queue,
          group.map((j) => j.payload),
          { priority },
        );
        deduplicated += added.deduplicated;
      }
    }
    if (refused.length > 0) {
      await tx`
        update outbox o set relayed_at = null, failed_at = now(), error = u.error
        from unnest(${pgArray(refused.map((r) => r.id))}::int8[], ${pgArray(refused.map((r) => r.error))}::text[]) as u(id, error)
        where o.id = u.id`;
      log("outbox").error({ failed: refused.length, first: refused[0]!.error }, "outbox rows failed");
    }
    return { relayed: jobs.length, deduplicated, failed: refused.length };
  });
}

const RELAY_CHUNK = 1000;

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
            const { relayed, failed } = await relayOutbox(RELAY_CHUNK);
            if (relayed > 0) logger.debug({ relayed }, "relayed outbox rows");
            if (relayed + failed === RELAY_CHUNK) continue; // more are waiting
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
