// A plain BullMQ worker on one of our queues (this test file's prefix), for tests about queues and
// operator commands rather than processors: no payload validation, no outbox, no database.
import { type Job, Worker } from "bullmq";
import { config } from "../../server/helpers/config.ts";
import { createRedis } from "../../server/helpers/redis.ts";
import { cappedBackoff } from "../../server/queues/backoff.ts";
import type { QueueName } from "../../server/queues/registry.ts";

export function plainWorker(
  queue: QueueName,
  handle: (data: Record<string, unknown>, job: Job) => Promise<unknown>,
  concurrency = 1,
): Worker {
  const worker = new Worker(queue, (job) => handle(job.data as Record<string, unknown>, job), {
    connection: createRedis(),
    prefix: config().queuePrefix,
    concurrency,
    autorun: false,
    settings: { backoffStrategy: cappedBackoff },
  });
  worker.on("error", () => {}); // e.g. a job removed under it by `queue:clear --all --force`
  void worker.run();
  return worker;
}
