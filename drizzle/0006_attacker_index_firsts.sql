-- The attacker indexes by corporation, alliance and ship type hold one entry per kill and entity: only
-- the kill's first attacker row of that corporation / alliance / ship type (flags set by the store).
-- Rows stored before this migration get their flags here, before the new indexes are built (one pass
-- over attackers; on a large database this migration takes as long as rewriting that table once).
DROP INDEX "attackers_corporation_idx";--> statement-breakpoint
DROP INDEX "attackers_alliance_idx";--> statement-breakpoint
DROP INDEX "attackers_ship_idx";--> statement-breakpoint
ALTER TABLE "attackers" ADD COLUMN "corporation_first" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "attackers" ADD COLUMN "alliance_first" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "attackers" ADD COLUMN "ship_first" boolean DEFAULT false NOT NULL;--> statement-breakpoint
UPDATE "attackers" a SET corporation_first = f.corporation_first, alliance_first = f.alliance_first, ship_first = f.ship_first
FROM (
  SELECT killmail_id, attacker_index,
         corporation_id IS NOT NULL AND attacker_index = min(attacker_index) OVER (PARTITION BY killmail_id, corporation_id) AS corporation_first,
         alliance_id IS NOT NULL AND attacker_index = min(attacker_index) OVER (PARTITION BY killmail_id, alliance_id) AS alliance_first,
         ship_type_id IS NOT NULL AND attacker_index = min(attacker_index) OVER (PARTITION BY killmail_id, ship_type_id) AS ship_first
  FROM "attackers"
) f
WHERE a.killmail_id = f.killmail_id AND a.attacker_index = f.attacker_index
  AND (f.corporation_first OR f.alliance_first OR f.ship_first);--> statement-breakpoint
CREATE INDEX "attackers_corporation_idx" ON "attackers" USING btree ("corporation_id","killmail_id") WHERE corporation_first;--> statement-breakpoint
CREATE INDEX "attackers_alliance_idx" ON "attackers" USING btree ("alliance_id","killmail_id") WHERE alliance_first;--> statement-breakpoint
CREATE INDEX "attackers_ship_idx" ON "attackers" USING btree ("ship_type_id","killmail_id") WHERE ship_first;
