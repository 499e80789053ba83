-- Records one ESI response (or its absence) in the shared budget: error limit, guard, 429 pause, token bucket.
-- Run by budget.ts settle() after every request acquire.lua admitted; keys as in acquire.lua.
--
-- KEYS[1] guard: hash until/reason/setAt; raised here at the low mark or on a 420
-- KEYS[2] errors: hash remain/resetAt/at/max; the lowest Remain of the current window, its end, the full allowance seen
-- KEYS[3] inflight: zset reqId → ms; this request leaves it
-- KEYS[4] serial: string ms; one request at a time until then, set after a guard
-- KEYS[5] serialLock: string reqId; released when this request holds it
-- KEYS[6] pause: string ms; the 429 pause of the group (or of the route when there is no group)
-- KEYS[7] bucket: hash limit/windowMs/used/probeUntil/probeId of the group's token bucket ("-" when no group)
-- KEYS[8] bucketLog: zset `r:<reqId>|cost` (reservation) or `<reqId>|cost` → ms; the bucket's floating window
-- KEYS[9] events: list of JSON guard and pause events, newest first (500 kept)
-- KEYS[10] groups: hash route → group, as learned from X-Ratelimit-Group
-- KEYS[11] active: zset reqId → ms; every admitted request not yet settled; this request leaves it
--
-- ARGV[1] reqId: the id acquire.lua admitted
-- ARGV[2] status: HTTP status, 0 when no response came (timeout, reset)
-- ARGV[3] errRemain: X-ESI-Error-Limit-Remain, '' when absent
-- ARGV[4] errReset: X-ESI-Error-Limit-Reset in seconds, '' when absent (60 assumed)
-- ARGV[5] lowMark: error-limit Remain at which the guard goes up
-- ARGV[6] serialMs: how long one-at-a-time mode lasts after a guard ends (0 = off)
-- ARGV[7] group: the route's rate-limit group, '' when it has none
-- ARGV[8] limit: the bucket's token limit from X-Ratelimit-Limit, '' when absent
-- ARGV[9] windowMs: the bucket's window from X-Ratelimit-Limit, '' when absent
-- ARGV[10] remaining: X-Ratelimit-Remaining, '' when absent
-- ARGV[11] retryAfter: Retry-After in seconds, '' when absent (60 assumed on a 429)
-- ARGV[12] reserve: the tokens acquire.lua reserved (part of the reservation's member)
-- ARGV[13] route: the route's path template
-- ARGV[14] cost: the response's real token cost, -1 when no response came (the reservation stays)
--
-- Returns 1.
local guardKey = KEYS[1]
local errorsKey = KEYS[2]
local inflightKey = KEYS[3]
local serialKey = KEYS[4]
local serialLockKey = KEYS[5]
local pauseKey = KEYS[6]
local bucketKey = KEYS[7]
local bucketLogKey = KEYS[8]
local eventsKey = KEYS[9]
local groupsKey = KEYS[10]
local activeKey = KEYS[11]

local reqId = ARGV[1]
local status = tonumber(ARGV[2])
local errRemain = tonumber(ARGV[3])
local errReset = tonumber(ARGV[4])
local lowMark = tonumber(ARGV[5])
local serialMs = tonumber(ARGV[6])
local group = ARGV[7]
local limit = tonumber(ARGV[8])
local windowMs = tonumber(ARGV[9])
local remaining = tonumber(ARGV[10])
local retryAfter = tonumber(ARGV[11])
local reserve = ARGV[12]
local route = ARGV[13]
local cost = tonumber(ARGV[14])

-- Redis' clock, so every process sees one time (duplicated in acquire.lua)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

redis.call('ZREM', inflightKey, reqId)
redis.call('ZREM', activeKey, reqId)
if redis.call('GET', serialLockKey) == reqId then redis.call('DEL', serialLockKey) end

-- error limit: remember the lowest Remain seen in the current window
local remain = errRemain
if remain then
  local resetAt = now + (errReset or 60) * 1000
  local oldAt = tonumber(redis.call('HGET', errorsKey, 'resetAt') or '0')
  local oldRemain = tonumber(redis.call('HGET', errorsKey, 'remain') or '-1')
  if oldAt > now and resetAt <= oldAt + 1500 and oldRemain >= 0 then
    if oldRemain < remain then remain = oldRemain end
    if oldAt > resetAt then resetAt = oldAt end
  end
  local max = tonumber(redis.call('HGET', errorsKey, 'max') or '-1')
  if errRemain > max then max = errRemain end
  redis.call('HSET', errorsKey, 'remain', remain, 'resetAt', resetAt, 'at', now, 'max', max)
  -- the window's figures go stale at resetAt; the allowance (max) is kept while ESI answers (1 h after the last)
  redis.call('PEXPIRE', errorsKey, 3600000)
end

local trigger = nil
if status == 420 then trigger = 'status-420' elseif remain and remain <= lowMark then trigger = 'low-mark' end
if trigger then
  local untilMs = now + (errReset or 60) * 1000 + 1000
  local cur = tonumber(redis.call('HGET', guardKey, 'until') or '0')
  if untilMs > cur then
    redis.call('HSET', guardKey, 'until', untilMs, 'reason', trigger, 'setAt', now)
    redis.call('PEXPIREAT', guardKey, untilMs)
    -- every request already sent (any route) may still reach ESI after this moment
    redis.call('ZREMRANGEBYSCORE', activeKey, '-inf', now)
    local inflight = redis.call('ZCARD', activeKey)
    redis.call('LPUSH', eventsKey, cjson.encode({kind = 'guard', reason = trigger, setAt = now, ['until'] = untilMs,
      remain = remain or -1, inflight = inflight, extends = cur > now}))
    redis.call('LTRIM', eventsKey, 0, 499)
    if serialMs > 0 then redis.call('SET', serialKey, untilMs + serialMs, 'PX', untilMs + serialMs - now) end
  end
end

-- 429: everyone pauses this group (or route) for Retry-After (a second at least: "0" still means "not now")
if status == 429 then
  local untilMs = now + math.max(retryAfter or 60, 1) * 1000
  local cur = tonumber(redis.call('GET', pauseKey) or '0')
  if untilMs > cur then
    redis.call('SET', pauseKey, untilMs, 'PX', untilMs - now)
    redis.call('LPUSH', eventsKey, cjson.encode({kind = 'pause', reason = 'status-429', group = group, setAt = now, ['until'] = untilMs}))
    redis.call('LTRIM', eventsKey, 0, 499)
  end
end

if group ~= '' then
  redis.call('HSET', groupsKey, route, group)
  if limit and windowMs then redis.call('HSET', bucketKey, 'limit', limit, 'windowMs', windowMs) end
  if redis.call('HGET', bucketKey, 'probeId') == reqId then redis.call('HDEL', bucketKey, 'probeId', 'probeUntil') end
  local used = tonumber(redis.call('HGET', bucketKey, 'used') or '0')
  local member = 'r:' .. reqId .. '|' .. reserve
  local ts = redis.call('ZSCORE', bucketLogKey, member)
  if ts then
    if cost >= 0 then
      redis.call('ZREM', bucketLogKey, member)
      used = used - tonumber(reserve)
      if cost > 0 then
        redis.call('ZADD', bucketLogKey, ts, reqId .. '|' .. cost)
        used = used + cost
      end
    end
  elseif cost > 0 then
    redis.call('ZADD', bucketLogKey, now, reqId .. '|' .. cost)
    used = used + cost
  end
  -- the server's count wins when it is higher (another client on this IP, lost state); reservations of
  -- requests still in flight are already in ours at their worst cost
  if limit and remaining and limit - remaining > used then
    redis.call('ZADD', bucketLogKey, now, 'sync-' .. reqId .. '|' .. (limit - remaining - used))
    used = limit - remaining
  end
  redis.call('HSET', bucketKey, 'used', used)
  local w = tonumber(redis.call('HGET', bucketKey, 'windowMs') or '0')
  if w > 0 then
    redis.call('PEXPIRE', bucketKey, w + 60000)
    redis.call('PEXPIRE', bucketLogKey, w + 60000)
  end
end
return 1
