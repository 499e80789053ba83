// What a long job tells a person watching it (the dashboard's job view, `bun cli job:show`): log lines
// (job.log, stamped with the UTC time) and progress (job.updateProgress, 0–100). Reporting never fails a
// job: a lost lock or a Redis hiccup costs the line, not the work.
import type { Job } from "bullmq";

/** Appends a line to the job's log: "11:15:02Z valued 812 kills …". */
export async function jobLog(job: Job | undefined, line: string): Promise<void> {
  if (!job) return;
  try {
    await job.log(`${new Date().toISOString().slice(11, 19)}Z ${line}`);
  } catch {}
}

/** Sets the job's progress (percent, whole) and, with a line, logs it. */
export async function jobProgress(job: Job | undefined, percent: number, line?: string): Promise<void> {
  if (!job) return;
  try {
    await job.updateProgress(Math.max(0, Math.min(100, Math.round(percent))));
  } catch {}
  if (line) await jobLog(job, line);
}
