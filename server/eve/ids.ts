// zKillboard's id rules for telling NPCs from players: characters up to 3,999,999 and corporations up
// to 1,999,999 are NPCs (agents, NPC corporations); player ids start above them.
export const NPC_CHARACTER_MAX = 3_999_999;
export const NPC_CORPORATION_MAX = 1_999_999;

export const isPlayerCharacter = (id: number | undefined): id is number => id !== undefined && id > NPC_CHARACTER_MAX;
export const isPlayerCorporation = (id: number | undefined): id is number => id !== undefined && id > NPC_CORPORATION_MAX;
