// character processor: refreshes one character from ESI, or the affiliations of up to 1,000 characters.
import { refreshAffiliations, refreshCharacter } from "../server/entities/characters.ts";
import { defineProcessor } from "../server/queues/processor.ts";

export default defineProcessor("character", (payload, job) =>
  "affiliation" in payload ? refreshAffiliations(payload.affiliation, job) : refreshCharacter(payload.id, job, payload.force),
);
