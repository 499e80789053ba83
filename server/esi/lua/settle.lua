-- Records one ESI response (or its absence) in the shared budget: error limit and per-route errors, guard, downtime, 429 pause, token bucket.
-- Run by budget.ts settle() after every request acquire.lua admitted (and after its /status probes); keys as in acquire.lua.
--
-- KEYS[1] guard: hash until/reason/setAt; raised here at the low mark or on a 420
-- KEYS[2] errors: hash remain/resetAt/at/max/span/share; the lowest Remain of the current window, its end, the full allowance seen, the window's length, the recent error share
-- KEYS[3] inflight: zset reqId → ms; this request leaves it
-- KEYS[4] serial: string ms; one request at a time until then, set after a guard
-- KEYS[5] serialLock: string reqId; released when this request holds it
-- KEYS[6] pause: string ms; the 429 pause of the group (or of the route when there is no group)
-- KEYS[7] bucket: hash limit/windowMs/used/probeUntil/probeId of the group's token bucket ("-" when no group)
-- KEYS[8] bucketLog: zset `r:<reqId>|cost` (reservation) or `<reqId>|cost` → ms; the bucket's floating window
-- KEYS[9] events: list of JSON budget events, newest first (500 kept)
-- KEYS[10] groups: hash route → group, as learned from X-Ratelimit-Group
-- KEYS[11] active: zset reqId → ms; every admitted request not yet settled; this request leaves it
-- KEYS[12] modes: hash guard/guardUntil/downGap/downEndedAt; the modes last reported (see acquire.lua)
-- KEYS[13] downtime: hash since/probeAt/gap/reason; set here when Tranquility stops answering, removed when it answers
-- KEYS[14] probeLock: string reqId; the /status probe in flight, released when this request holds it
-- KEYS[15] streak: hash count, `r:<route>` → n; the current run of 502/503/504 answers (any other answer ends it)
-- KEYS[16] statusCheck: string; exists while a /status check asked for by a 5xx is spaced out
-- KEYS[17] statusFresh: string; exists while the last /status answer is fresh (its Expires)
-- KEYS[18] routeErrors: hash route → errors of the current window (what spent it)
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
-- ARGV[15] downStreak: 502/503/504 answers in a row, from at least two routes, that mean Tranquility is down
-- ARGV[16] probeMs: first spacing of /status probes during a downtime (and of the /status checks 5xx ask for)
-- ARGV[17] freshMs: ms the answer stays fresh (Expires - now) when it is a /status answer, 0 otherwise
--
-- Returns {down 0/1, ms until the next probe (while down), check 0/1 (send a /status check now), reports}:
-- reports is a JSON array of the mode changes this call made (each also pushed to events), '' when none.
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
local modesKey = KEYS[12]
local downtimeKey = KEYS[13]
local probeLockKey = KEYS[14]
local streakKey = KEYS[15]
local statusCheckKey = KEYS[16]
local statusFreshKey = KEYS[17]
local routeErrorsKey = KEYS[18]

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
local downStreak = tonumber(ARGV[15])
local probeMs = tonumber(ARGV[16])
local freshMs = tonumber(ARGV[17])

-- Redis' clock, so every process sees one time (duplicated in acquire.lua)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- Mode changes are decided here, atomically, so exactly one caller (of all processes) reports each one.
local reports = {}
local function counts(key, prefix)
  local flat = redis.call('HGETALL', key)
  local out = {}
  for i = 1, #flat, 2 do
    if prefix == '' then out[flat[i]] = tonumber(flat[i + 1])
    elseif string.sub(flat[i], 1, #prefix) == prefix then out[string.sub(flat[i], #prefix + 1)] = tonumber(flat[i + 1]) end
  end
  return out
end
local function report(e, quiet)
  e.setAt = now
  local json = cjson.encode(e)
  redis.call('LPUSH', eventsKey, json)
  redis.call('LTRIM', eventsKey, 0, 499)
  -- an extended guard is an event but not a change of mode: no report
  if not quiet then reports[#reports + 1] = json end
end

redis.call('ZREM', inflightKey, reqId)
redis.call('ZREM', activeKey, reqId)
if redis.call('GET', serialLockKey) == reqId then redis.call('DEL', serialLockKey) end
if redis.call('GET', probeLockKey) == reqId then redis.call('DEL', probeLockKey) end

-- error limit: remember the lowest Remain seen in the current window
local remain = errRemain
if remain then
  local resetAt = now + (errReset or 60) * 1000
  local oldAt = tonumber(redis.call('HGET', errorsKey, 'resetAt') or '0')
  local oldRemain = tonumber(redis.call('HGET', errorsKey, 'remain') or '-1')
  if oldAt > now and resetAt <= oldAt + 1500 and oldRemain >= 0 then
    if oldRemain < remain then remain = oldRemain end
    if oldAt > resetAt then resetAt = oldAt end
  else
    -- a new window: what spent the last one no longer counts
    redis.call('DEL', routeErrorsKey)
  end
  local max = tonumber(redis.call('HGET', errorsKey, 'max') or '-1')
  if errRemain > max then max = errRemain end
  local span = tonumber(redis.call('HGET', errorsKey, 'span') or '0')
  if (errReset or 0) * 1000 > span then span = errReset * 1000 end
  redis.call('HSET', errorsKey, 'remain', remain, 'resetAt', resetAt, 'at', now, 'max', max, 'span', span)
  -- the window's figures go stale at resetAt; the allowance (max) is kept while ESI answers (1 h after the last)
  redis.call('PEXPIRE', errorsKey, 3600000)
end
-- the errors ESI counts (non-2xx/3xx on routes without a bucket; a 420 is the limit itself), per route
if group == '' and status >= 400 and status ~= 420 then
  redis.call('HINCRBY', routeErrorsKey, route, 1)
  redis.call('PEXPIRE', routeErrorsKey, 3600000)
end
-- the share of errors among recent answers on error-counted routes (moving average over about ten
-- answers; 1 until the first), which pacing expects of the requests it admits
if group == '' and status > 0 then
  local share = tonumber(redis.call('HGET', errorsKey, 'share') or '1')
  local isError = 0
  if status >= 400 then isError = 1 end
  redis.call('HSET', errorsKey, 'share', share * 0.9 + isError * 0.1)
  redis.call('PEXPIRE', errorsKey, 3600000)
end

local trigger = nil
if status == 420 then trigger = 'status-420' elseif remain and remain <= lowMark then trigger = 'low-mark' end
if trigger then
  local untilMs = now + (errReset or 60) * 1000 + 1000
  local cur = tonumber(redis.call('HGET', guardKey, 'until') or '0')
  if untilMs > cur then
    if cur <= now and redis.call('HGET', modesKey, 'guard') == '1' then
      -- the last guard ended unseen (no call since): report its end before this one
      report({kind = 'guard-down', reason = 'guard-ended', ['until'] = tonumber(redis.call('HGET', modesKey, 'guardUntil') or '0')})
    end
    redis.call('HSET', guardKey, 'until', untilMs, 'reason', trigger, 'setAt', now)
    redis.call('PEXPIREAT', guardKey, untilMs)
    redis.call('HSET', modesKey, 'guard', '1', 'guardUntil', untilMs)
    -- every request already sent (any route) may still reach ESI after this moment
    redis.call('ZREMRANGEBYSCORE', activeKey, '-inf', now)
    local inflight = redis.call('ZCARD', activeKey)
    report({kind = 'guard', reason = trigger, ['until'] = untilMs, remain = remain or -1, inflight = inflight,
      extends = cur > now, route = route, routes = counts(routeErrorsKey, '')}, cur > now)
    if serialMs > 0 then redis.call('SET', serialKey, untilMs + serialMs, 'PX', untilMs + serialMs - now) end
  end
end

-- Tranquility downtime: ESI answers 502/503/504 to everything. A run of them from two routes or more
-- (downStreak long, or confirmed by /status itself) starts it; the first 5xx of a run asks the caller
-- for a /status check (spaced, and never while the last /status answer is fresh); any other answer,
-- the probes' included, ends it.
local down = redis.call('EXISTS', downtimeKey) == 1
local check = 0
if status == 502 or status == 503 or status == 504 then
  local count = redis.call('HINCRBY', streakKey, 'count', 1)
  redis.call('HINCRBY', streakKey, 'r:' .. route, 1)
  redis.call('PEXPIRE', streakKey, 3600000)
  local routes = redis.call('HLEN', streakKey) - 1
  if not down and routes >= 2 and (count >= downStreak or route == '/status') then
    -- flapping: a downtime soon after the last one goes on with the spacing the last one reached
    local gap = probeMs
    local endedAt = tonumber(redis.call('HGET', modesKey, 'downEndedAt') or '0')
    local lastGap = tonumber(redis.call('HGET', modesKey, 'downGap') or '0')
    if now - endedAt < 300000 and lastGap > gap then gap = lastGap end
    local reason = '5xx-streak'
    if route == '/status' then reason = 'status-' .. status end
    redis.call('HSET', downtimeKey, 'since', now, 'probeAt', now + gap, 'gap', gap, 'reason', reason)
    redis.call('PEXPIRE', downtimeKey, 86400000)
    report({kind = 'downtime', reason = reason, ['until'] = now + gap, count = count, routes = counts(streakKey, 'r:')})
    down = true
  elseif not down and route ~= '/status' and redis.call('EXISTS', statusFreshKey) == 0
    and redis.call('SET', statusCheckKey, now, 'NX', 'PX', probeMs) then
    check = 1
  end
elseif status > 0 then
  redis.call('DEL', streakKey)
  if down then
    local since = tonumber(redis.call('HGET', downtimeKey, 'since') or '0')
    local gap = tonumber(redis.call('HGET', downtimeKey, 'gap') or '0')
    redis.call('DEL', downtimeKey)
    redis.call('HSET', modesKey, 'downGap', gap, 'downEndedAt', now)
    report({kind = 'downtime-end', reason = 'status-' .. status, route = route, since = since, ['until'] = now})
    down = false
  end
end
if route == '/status' and freshMs > 0 then redis.call('SET', statusFreshKey, now, 'PX', freshMs) end

-- 429: everyone pauses this group (or route) for Retry-After (a second at least: "0" still means "not now")
if status == 429 then
  local untilMs = now + math.max(retryAfter or 60, 1) * 1000
  local cur = tonumber(redis.call('GET', pauseKey) or '0')
  if untilMs > cur then
    redis.call('SET', pauseKey, untilMs, 'PX', untilMs - now)
    report({kind = 'pause', reason = 'status-429', group = group, ['until'] = untilMs}, true)
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

local downIn = 0
if down then downIn = tonumber(redis.call('HGET', downtimeKey, 'probeAt') or '0') - now end
local out = ''
if #reports > 0 then out = '[' .. table.concat(reports, ',') .. ']' end
return {down and 1 or 0, math.floor(downIn), check, out}
