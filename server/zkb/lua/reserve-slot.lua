-- Reserves the next free request slot of a paced upstream: slot = max(next, now); next = slot + interval.
-- Run by pace.ts waitForSlot(); the caller sleeps until its slot.
--
-- KEYS[1] next: string ms; the next free slot (`${QUEUE_PREFIX}:<name>:next-slot`)
--
-- ARGV[1] intervalMs: spacing between slots
-- ARGV[2] maxWaitMs: a slot further away than this is not reserved (a caller that gives up must not push
--   everyone else's slots back)
--
-- Returns {reserved 0/1, ms to wait until the slot}.
local nextKey = KEYS[1]

local intervalMs = tonumber(ARGV[1])
local maxWaitMs = tonumber(ARGV[2])

-- Redis' clock, so every process sees one time
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local slot = tonumber(redis.call('GET', nextKey) or '0')
if slot < now then slot = now end
if slot - now > maxWaitMs then return {0, slot - now} end
redis.call('SET', nextKey, slot + intervalMs, 'PX', slot + intervalMs - now + 60000)
return {1, slot - now}
