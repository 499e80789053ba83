// sync processor: polls a member's (or a director's corporation's) recent kills; new ones go to the intake.
import { defineProcessor } from "../server/queues/processor.ts";
import { runSync } from "../server/sso/sync.ts";

export default defineProcessor("sync", (payload, job) => runSync(payload, job));
