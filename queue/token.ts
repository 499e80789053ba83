// token processor: refreshes a member's EVE SSO token ahead of its expiry (one refresh per token at a time).
import { defineProcessor } from "../server/queues/processor.ts";
import { refreshCharacter } from "../server/sso/tokens.ts";

export default defineProcessor("token", (payload) => refreshCharacter(payload.characterId));
