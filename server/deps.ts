// Wiring of the server's upstream dependencies (kept apart so tests can build the app without them):
// zKillboard URLs (no hash in them) are resolved through the zKillboard API's /killID/{id}/.
import type { KillmailRouteDeps } from "./routes/killmails.ts";
import { getZkbKill } from "./zkb/api.ts";

export function serverDeps(): KillmailRouteDeps {
  return {
    async resolveZkillboard(killmailId) {
      const kill = await getZkbKill(killmailId);
      if (!kill) return null;
      return kill.esi ? { hash: kill.hash, esi: kill.esi } : { hash: kill.hash };
    },
  };
}
