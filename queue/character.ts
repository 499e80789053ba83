// character processor: refreshes one character from ESI (fan-out of stored kills), or the
// corporation/alliance affiliation of up to 1,000 characters in one ESI call.
import { refreshAffiliations, refreshCharacter } from "../server/entities/characters.ts";
import { runOutboxJob } from "../server/entities/outbox-job.ts";
import { defineProcessor } from "../server/helpers/processor.ts";

export const { name, options, processor, createWorker } = defineProcessor({
  name: "character",
  options: { concurrency: 8, limiter: { max: 30, duration: 1_000 } },
  handle: (payload, job) =>
    "affiliation" in payload
      ? refreshAffiliations(payload.affiliation, job)
      : runOutboxJob("character", `character-${payload.id}`, job, () => refreshCharacter(payload.id, job, payload.force)),
});
