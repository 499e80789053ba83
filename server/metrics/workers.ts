// Job metrics of one BullMQ Worker, recorded from its events as jobs start and end in this process:
// completed / failed-for-good / retried / stalled counters, the wait before a job's first start and
// each attempt's duration. BullMQ's own completed/failed lists are capped by retention; these are not.
import type { Job, Worker } from "bullmq";
import { isFinalAttempt } from "../queues/outcome.ts";
import { jobDuration, jobRetries, jobsCompleted, jobsFailed, jobsStalled, jobWait } from "./registry.ts";

const seconds = (ms: number) => Math.max(0, ms) / 1000;

/** Seconds from enqueue to start, the job's own delay excepted; undefined for a later start. */
export function waitSeconds(
  job: Pick<Job, "timestamp" | "processedOn" | "delay" | "attemptsMade" | "attemptsStarted">,
): number | undefined {
  // A retry's start follows its backoff, a start after an ESI wait (moved to delayed) the budget, not
  // the queue: only a job's first start measures the backlog.
  if (job.attemptsMade > 0 || (job.attemptsStarted ?? 1) > 1 || !job.processedOn) return undefined;
  return seconds(job.processedOn - job.timestamp - (job.delay ?? 0));
}

export function instrumentWorker(worker: Worker, queue: string): void {
  const labels = { queue };
  // Zero-valued series from the start, so rate() and absent() see the queue before its first job.
  jobsCompleted.inc(labels, 0);
  jobsFailed.inc(labels, 0);
  jobRetries.inc(labels, 0);
  jobsStalled.inc(labels, 0);
  worker.on("active", (job) => {
    const wait = waitSeconds(job);
    if (wait !== undefined) jobWait.observe(labels, wait);
  });
  worker.on("completed", (job) => {
    jobsCompleted.inc(labels);
    if (job.processedOn) jobDuration.observe({ queue, outcome: "completed" }, seconds((job.finishedOn ?? Date.now()) - job.processedOn));
  });
  worker.on("failed", (job, err) => {
    // attemptsMade already counts this attempt when the event is emitted
    const final = !job || isFinalAttempt(job, err, true);
    if (final) jobsFailed.inc(labels);
    else jobRetries.inc(labels);
    if (job?.processedOn) jobDuration.observe({ queue, outcome: "failed" }, seconds((job.finishedOn ?? Date.now()) - job.processedOn));
  });
  worker.on("stalled", () => jobsStalled.inc(labels));
}
