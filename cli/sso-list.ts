// `sso:list`: the characters logged in through the EVE SSO — scopes, token state (valid, or revoked with
// the reason), and each sync (character or corporation): status, last and next poll, kills found.
import type { Command } from "commander";
import { print, printJson, table, when } from "./_output.ts";
import { onCleanup, runCommand } from "./_run.ts";

const SHORT_SCOPES: Record<string, string> = {
  "esi-killmails.read_killmails.v1": "killmails",
  "esi-killmails.read_corporation_killmails.v1": "corp-killmails",
};

export function register(program: Command): void {
  program
    .command("sso:list")
    .summary("List the characters logged in through the EVE SSO, their tokens and syncs")
    .description(
      "List every character logged in through /auth/login: its corporation, scopes, token state (valid, or revoked\n" +
        "with the reason: invalid_grant, owner changed, an operator) and its syncs of recent kills (the character's\n" +
        "own, its corporation's for a director): status (active, no-role, forbidden, stopped), last and next poll,\n" +
        "kills listed and kills that were new. Never shows a token.",
    )
    .option("--json", "print JSON for scripts")
    .addHelpText("after", "\nExamples:\n  bun cli sso:list\n  bun cli sso:list --json")
    .action(
      runCommand(
        async (opts: { json?: boolean }) => {
          const [{ closeDb }, { listSso }] = await Promise.all([import("../server/db/client.ts"), import("../server/sso/manage.ts")]);
          onCleanup(closeDb);
          const list = await listSso();
          if (opts.json) return printJson(list);
          if (list.length === 0) {
            print("no character has logged in (GET /auth/login on bun server)");
            return;
          }
          print(
            table(
              ["character", "name", "corporation", "scopes", "token"],
              list.map((c) => ({
                character: String(c.characterId),
                name: c.name,
                corporation: c.corporationId === null ? "-" : String(c.corporationId),
                scopes: c.scopes.map((s) => SHORT_SCOPES[s] ?? s).join(" ") || "-",
                token: c.tokenState === "valid" ? "valid" : `revoked: ${c.revokedReason ?? ""}`,
              })),
            ),
          );
          const syncs = list.flatMap((c) => c.syncs.map((s) => ({ ...s, by: c.characterId })));
          if (syncs.length === 0) return;
          print("");
          print(
            table(
              ["sync", "by", "status", "last poll", "next poll", "kills", "new", "note"],
              syncs.map((s) => ({
                sync: `${s.kind} ${s.id}`,
                by: String(s.by),
                status: s.status,
                "last poll": when(s.lastSyncAt ? Date.parse(s.lastSyncAt) : null),
                "next poll": when(s.nextSyncAt ? Date.parse(s.nextSyncAt) : null),
                kills: s.killmailsSeen,
                new: s.killmailsNew,
                note: s.lastError ?? "",
              })),
            ),
          );
        },
        { redis: false },
      ),
    );
}
