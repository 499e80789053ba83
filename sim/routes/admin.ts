// Admin API under "/_sim/" (not counted in stats or the log): stats, request log, reset, faults, feed
// control, forced 420 windows and a world summary tests can pick ids from.
import { z } from "zod";
import { faultsSchema } from "../faults.ts";
import { error, json, type Reply } from "../http.ts";
import type { Simulator } from "../server.ts";
import { SEQUENCE_BASE } from "./r2z2.ts";

function body(raw: Buffer): unknown {
  const text = raw.toString("utf8").trim();
  return text ? JSON.parse(text) : {};
}

const advanceSchema = z.object({ n: z.number().int().nonnegative() });
const rateSchema = z.object({ rate: z.number().nonnegative() });
const secondsSchema = z.object({ seconds: z.number().positive() });

export function admin(sim: Simulator, method: string, path: string, query: URLSearchParams, raw: Buffer): Reply {
  try {
    const route = `${method} ${path.replace(/\/+$/, "")}`;
    switch (route) {
      case "GET /_sim/health":
        return json(200, { ok: true });
      case "GET /_sim/stats":
        return json(200, sim.stats());
      case "GET /_sim/requests": {
        const since = Number(query.get("since") ?? 0);
        const limit = Number(query.get("limit") ?? 10_000);
        return json(
          200,
          sim
            .requests()
            .filter((r) => r.seq > since)
            .slice(-limit),
        );
      }
      case "POST /_sim/reset":
        sim.reset();
        return json(200, { ok: true });
      case "GET /_sim/faults":
        return json(200, sim.faults());
      case "PUT /_sim/faults":
      case "POST /_sim/faults":
        sim.setFaults(faultsSchema.parse(body(raw)));
        return json(200, sim.faults());
      case "DELETE /_sim/faults":
        sim.setFaults([]);
        return json(200, []);
      case "GET /_sim/feed":
        return json(200, feedState(sim));
      case "POST /_sim/feed/advance": {
        const { n } = advanceSchema.parse({ n: Number(query.get("n") ?? (body(raw) as { n?: number }).n) });
        sim.advanceFeed(n);
        return json(200, feedState(sim));
      }
      case "POST /_sim/feed/rate": {
        const { rate } = rateSchema.parse({ rate: Number(query.get("rate") ?? (body(raw) as { rate?: number }).rate) });
        sim.setFeedRate(rate);
        return json(200, feedState(sim));
      }
      case "POST /_sim/error-limit": {
        const { seconds } = secondsSchema.parse({ seconds: Number(query.get("seconds") ?? (body(raw) as { seconds?: number }).seconds) });
        sim.forceErrorLimit(seconds);
        return json(200, { ok: true, seconds });
      }
      case "GET /_sim/sso":
        return json(200, sim.sso.stats());
      case "POST /_sim/sso/revoke":
        return json(200, { revoked: sim.sso.revokeCharacter(characterParam(query)) });
      case "POST /_sim/sso/transfer":
        return json(200, { owner: sim.sso.transferCharacter(characterParam(query)) });
      case "POST /_sim/sso/director": {
        const id = characterParam(query);
        sim.sso.setDirector(id, query.get("on") !== "0");
        return json(200, { character: id, director: sim.sso.isDirector(id) });
      }
      case "GET /_sim/world":
        return json(200, worldSummary(sim));
      default:
        return error(404, `unknown admin route ${route}`);
    }
  } catch (err) {
    return error(400, (err as Error).message);
  }
}

function characterParam(query: URLSearchParams): number {
  return z.coerce.number().int().positive().parse(query.get("character"));
}

function feedState(sim: Simulator) {
  const w = sim.world;
  const head = w.feedHead();
  return {
    head,
    sequence: SEQUENCE_BASE + w.publicCountBelow(head) - 1,
    rate: w.feed.rate,
    generated: w.generatedCount,
    remaining: w.generatedCount - head,
  };
}

function worldSummary(sim: Simulator) {
  const w = sim.world;
  const e = w.entities;
  const alive = e.pilots.filter((id) => !e.characters.get(id)!.deleted);
  return {
    seed: w.seed,
    killmails: w.killmailCount,
    generated: w.generatedCount,
    corpus: w.corpus.length,
    catalog: w.catalog.source,
    types: w.catalog.types.size,
    start: new Date(w.startMs).toISOString(),
    end: new Date(w.endMs).toISOString(),
    feed: feedState(sim),
    sample: {
      characters: alive.slice(0, 10),
      deletedCharacters: w.deletedCharacterIds.slice(0, 10),
      corporations: [...e.corporations.values()]
        .filter((c) => !c.npc)
        .slice(0, 10)
        .map((c) => c.id),
      alliances: w.allianceIds().slice(0, 10),
      killmails: [0, 1, 2].map((i) => ({ killmail_id: w.idOfIndex(i), hash: w.hashOfIndex(i) })),
    },
  };
}
