// character processor: names a character in bulk (with its affiliation), or refreshes the affiliations
// of up to 1,000 characters.
import { refreshAffiliations } from "../server/entities/characters.ts";
import { nameEntity } from "../server/entities/enrich.ts";
import { defineProcessor } from "../server/queues/processor.ts";

export default defineProcessor("character", (payload, job) =>
  "affiliation" in payload ? refreshAffiliations(payload.affiliation, job) : nameEntity("character", payload, job),
);
