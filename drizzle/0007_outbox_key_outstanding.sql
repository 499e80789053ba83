DROP INDEX "outbox_queue_key_idx";--> statement-breakpoint
CREATE UNIQUE INDEX "outbox_queue_key_idx" ON "outbox" USING btree ("queue","job_key") WHERE failed_at is null;