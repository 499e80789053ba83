-- Admits one ESI request, or tells how long to wait: guard, 429 pauses, error limit, one-at-a-time mode, token bucket.
-- Run by budget.ts acquire() before every request; all keys live under `${QUEUE_PREFIX}:esi:` (README.md beside budget.ts).
--
-- KEYS[1] guard: hash until/reason/setAt; no ESI call before until
-- KEYS[2] errors: hash remain/resetAt of the current error window, max = the full allowance seen
-- KEYS[3] inflight: zset reqId → ms; admitted requests on error-counted routes, scored by when they stop counting
-- KEYS[4] serial: string ms; one request at a time until then
-- KEYS[5] serialLock: string reqId; the one request in flight in one-at-a-time mode
-- KEYS[6] groupPause: string ms; a 429 pause of the route's group (the route's own pause when it has no group)
-- KEYS[7] routePause: string ms; a 429 pause of the route
-- KEYS[8] bucket: hash limit/windowMs/used/probeUntil/probeId of the group's token bucket ("-" when no group)
-- KEYS[9] bucketLog: zset `r:<reqId>|cost` (reservation) or `<reqId>|cost` → ms; the bucket's floating window
-- KEYS[10] active: zset reqId → ms; every admitted request not yet settled
--
-- ARGV[1] reqId: this request's id, unique across processes
-- ARGV[2] hold: ms an admitted request counts as in flight when it is never settled (timeout + 5 s)
-- ARGV[3] lowMark: error-limit Remain at which nobody may call ESI
-- ARGV[4] reserve: tokens reserved before sending (the worst cost, a 4xx)
-- ARGV[5] margin: tokens of each bucket never used
-- ARGV[6] hasGroup: '1' when the route has a token-bucket group, '0' when its errors count against the error limit
--
-- Returns {admitted 0/1, waitMs, reason}: reason 'ok', 'guard', 'pause', 'errors', 'serial' or 'bucket'.
local guardKey = KEYS[1]
local errorsKey = KEYS[2]
local inflightKey = KEYS[3]
local serialKey = KEYS[4]
local serialLockKey = KEYS[5]
local groupPauseKey = KEYS[6]
local routePauseKey = KEYS[7]
local bucketKey = KEYS[8]
local bucketLogKey = KEYS[9]
local activeKey = KEYS[10]

local reqId = ARGV[1]
local hold = tonumber(ARGV[2])
local lowMark = tonumber(ARGV[3])
local reserve = tonumber(ARGV[4])
local margin = tonumber(ARGV[5])
local hasGroup = ARGV[6]

-- Redis' clock, so every process sees one time (duplicated in settle.lua)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local gu = tonumber(redis.call('HGET', guardKey, 'until') or '0')
if gu > now then return {0, gu - now, 'guard'} end

for _, k in ipairs({groupPauseKey, routePauseKey}) do
  local pu = tonumber(redis.call('GET', k) or '0')
  if pu > now then return {0, pu - now, 'pause'} end
end

-- error limit (routes outside a token-bucket group: errors there are paid in tokens instead).
-- Every request in flight may still come back as an error: keep remain - inflight above the low mark.
-- Without a current window's figure, assume the window's full allowance seen before (errors-max);
-- never seen one: one request at a time until a response tells.
local errorCounted = hasGroup ~= '1'
if errorCounted then
  redis.call('ZREMRANGEBYSCORE', inflightKey, '-inf', now)
  local inflight = redis.call('ZCARD', inflightKey)
  local remain = tonumber(redis.call('HGET', errorsKey, 'remain') or '-1')
  local resetAt = tonumber(redis.call('HGET', errorsKey, 'resetAt') or '0')
  if resetAt <= now then remain = tonumber(redis.call('HGET', errorsKey, 'max') or '-1') end
  if remain < 0 then
    if inflight > 0 then return {0, 50, 'errors'} end
  elseif remain - inflight <= lowMark then
    if inflight > 0 then return {0, 50, 'errors'} end
    if resetAt > now then return {0, resetAt + 1000 - now, 'guard'} end
  end
end

local serial = tonumber(redis.call('GET', serialKey) or '0') > now
if serial and redis.call('EXISTS', serialLockKey) == 1 then return {0, 25, 'serial'} end

if hasGroup == '1' then
  local limit = tonumber(redis.call('HGET', bucketKey, 'limit') or '-1')
  if limit < 0 then
    -- limit not known yet: one probe at a time until a response tells it
    local pu = tonumber(redis.call('HGET', bucketKey, 'probeUntil') or '0')
    if pu > now then return {0, 50, 'bucket'} end
    redis.call('HSET', bucketKey, 'probeUntil', now + hold, 'probeId', reqId)
    redis.call('PEXPIRE', bucketKey, hold + 60000)
  else
    local windowMs = tonumber(redis.call('HGET', bucketKey, 'windowMs'))
    -- entries are kept 1 s longer than the window: the server stamps them a little after we do
    local cutoff = now - windowMs - 1000
    local used = tonumber(redis.call('HGET', bucketKey, 'used') or '0')
    local old = redis.call('ZRANGEBYSCORE', bucketLogKey, '-inf', cutoff)
    for _, m in ipairs(old) do used = used - tonumber(string.match(m, '|(%d+)$')) end
    if #old > 0 then redis.call('ZREMRANGEBYSCORE', bucketLogKey, '-inf', cutoff) end
    if used < 0 then used = 0 end
    redis.call('HSET', bucketKey, 'used', used)
    local cap = limit - margin
    if reserve > cap then reserve = cap end
    if used + reserve > cap then
      -- wait until enough of the oldest entries leave the window; if a reservation is still in flight
      -- (r:…), look again soon: its real cost is usually lower than the reserved worst case
      local need = used + reserve - cap
      local entries = redis.call('ZRANGE', bucketLogKey, 0, -1, 'WITHSCORES')
      local freed, wait, pending = 0, nil, false
      for i = 1, #entries, 2 do
        local at = tonumber(entries[i + 1])
        if string.sub(entries[i], 1, 2) == 'r:' and at > now - hold then pending = true end
        freed = freed + tonumber(string.match(entries[i], '|(%d+)$'))
        if wait == nil and freed >= need then wait = at + windowMs + 1001 - now end
      end
      wait = wait or windowMs
      if pending and wait > 100 then wait = 100 end
      return {0, wait, 'bucket'}
    end
    redis.call('ZADD', bucketLogKey, now, 'r:' .. reqId .. '|' .. reserve)
    redis.call('HSET', bucketKey, 'used', used + reserve)
    redis.call('PEXPIRE', bucketKey, windowMs + 60000)
    redis.call('PEXPIRE', bucketLogKey, windowMs + 60000)
  end
end

if errorCounted then redis.call('ZADD', inflightKey, now + hold, reqId) end
redis.call('ZREMRANGEBYSCORE', activeKey, '-inf', now)
redis.call('ZADD', activeKey, now + hold, reqId)
if serial then redis.call('SET', serialLockKey, reqId, 'PX', hold) end
return {1, 0, 'ok'}
