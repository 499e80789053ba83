// `sso:revoke <character id>`: revokes a member's token here (its syncs stop, the refresh token can no
// longer be used) and asks the SSO to revoke it too. The member can log in again to resume.
import type { Command } from "commander";
import { integer } from "./_args.ts";
import { print, printJson } from "./_output.ts";
import { EXIT_FAILURE, onCleanup, runCommand } from "./_run.ts";

export function register(program: Command): void {
  program
    .command("sso:revoke")
    .summary("Revoke a member's EVE SSO token and stop its syncs")
    .description(
      "Mark the character's token revoked (its syncs stop, the cached access token is dropped) and ask the SSO to\n" +
        "revoke the refresh token as well (best effort: the token stays revoked here whatever the SSO answers).",
    )
    .argument("<character>", "character id", integer(1))
    .option("--json", "print JSON for scripts")
    .addHelpText("after", "\nExample:\n  bun cli sso:revoke 90000001")
    .action(
      runCommand(async (id: number, opts: { json?: boolean }) => {
        const [{ closeDb }, { revokeSso }] = await Promise.all([import("../server/db/client.ts"), import("../server/sso/manage.ts")]);
        onCleanup(closeDb);
        const result = await revokeSso(id);
        if (opts.json) printJson({ characterId: id, ...result });
        if (!result.found) {
          if (!opts.json) process.stderr.write(`error: no character ${id} logged in (see sso:list)\n`);
          return EXIT_FAILURE;
        }
        if (!opts.json) {
          print(`character ${id}: token ${result.revoked ? "revoked, syncs stopped" : "was already revoked"}`);
          print(`at the SSO: ${result.atSso ? "revoked" : "not confirmed (revoked here all the same)"}`);
        }
      }),
    );
}
