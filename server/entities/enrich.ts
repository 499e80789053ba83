// The character, corporation and alliance jobs: an entity a stored kill names gets its name (and a
// character its affiliation) in bulk through the process's name collector (which leaves alone a stored
// copy that is fresh or deleted); its own route follows later as a detail job. `force` (an operator, a route asking
// for one entity) reads its own route now instead.
import type { Job } from "bullmq";
import { withEsi } from "../esi/index.ts";
import type { PayloadOf } from "../queues/registry.ts";
import { refreshCharacter } from "./characters.ts";
import { refreshAlliance, refreshCorporation } from "./corporations.ts";
import { type NamedKind, type NameOutcome, nameCollector } from "./names.ts";
import type { RefreshOutcome } from "./refresh.ts";

/** Reads one entity's own ESI route (birthday, security status, tickers, members…), conditionally. */
export function refreshDetail(kind: NamedKind, id: number, job: Job, force = false): Promise<RefreshOutcome> {
  if (kind === "character") return refreshCharacter(id, job, force);
  if (kind === "corporation") return refreshCorporation(id, job, force);
  return refreshAlliance(id, job, force);
}

export async function nameEntity(
  kind: NamedKind,
  payload: PayloadOf<"corporation">,
  job: Job,
): Promise<NameOutcome | RefreshOutcome | "fresh"> {
  if (payload.force) return refreshDetail(kind, payload.id, job, true);
  return withEsi(job, () => nameCollector().submit(kind, payload.id));
}
