-- Admits one event under two rolling-window limits at once (both or neither), or tells how long to wait.
-- Run by intake-guard.ts for POST /api/killmails: a client's limit and, for fetches, the limit of all clients.
-- Keys live under `${QUEUE_PREFIX}:intake:`; every server process shares them.
--
-- KEYS[1] first: zset member → ms; events admitted under the first limit within the window
-- KEYS[2] second: zset member → ms; events admitted under the second limit (ignored when secondLimit is 0)
--
-- ARGV[1] windowMs: the rolling window both limits count over
-- ARGV[2] firstLimit: events allowed in the window under KEYS[1] (0: no limit)
-- ARGV[3] secondLimit: events allowed in the window under KEYS[2] (0: no limit)
-- ARGV[4] member: this event's id, unique across processes
--
-- Returns {admitted 0/1, waitMs, limit}: limit is 0 when admitted, else 1 or 2, the one that refused
-- (the one with the longer wait when both did). A refused event is not recorded: it costs nothing.
local firstKey = KEYS[1]
local secondKey = KEYS[2]

local windowMs = tonumber(ARGV[1])
local firstLimit = tonumber(ARGV[2])
local secondLimit = tonumber(ARGV[3])
local member = ARGV[4]

-- Redis' clock, so every process sees one time
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local keys = {firstKey, secondKey}
local limits = {firstLimit, secondLimit}
local wait, refusedBy = 0, 0
for i = 1, 2 do
  if limits[i] > 0 then
    redis.call('ZREMRANGEBYSCORE', keys[i], '-inf', now - windowMs)
    local n = redis.call('ZCARD', keys[i])
    if n >= limits[i] then
      -- a place frees when the (n - limit + 1)-th oldest event leaves the window (n > limit after the
      -- limit was lowered)
      local oldest = redis.call('ZRANGE', keys[i], n - limits[i], n - limits[i], 'WITHSCORES')
      local w = tonumber(oldest[2]) + windowMs - now
      if w < 1 then w = 1 end
      if w > wait then wait, refusedBy = w, i end
    end
  end
end
if refusedBy > 0 then return {0, wait, refusedBy} end

for i = 1, 2 do
  if limits[i] > 0 then
    redis.call('ZADD', keys[i], now, member)
    redis.call('PEXPIRE', keys[i], windowMs + 1000)
  end
end
return {1, 0, 0}
