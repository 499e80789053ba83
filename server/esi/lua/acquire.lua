-- Admits one ESI request, or tells how long to wait: guard, downtime, 429 pauses, error limit (floors, live reserve, pacing), one-at-a-time mode, token bucket.
-- Run by budget.ts acquire() before every request; all keys live under `${QUEUE_PREFIX}:esi:` (README.md beside budget.ts).
--
-- KEYS[1] guard: hash until/reason/setAt; no ESI call before until
-- KEYS[2] errors: hash remain/resetAt of the current error window, max = the full allowance seen, span = the window's length, share = recent error share of answers
-- KEYS[3] inflight: zset reqId → ms; admitted requests on error-counted routes, scored by when they stop counting
-- KEYS[4] serial: string ms; one request at a time until then
-- KEYS[5] serialLock: string reqId; the one request in flight in one-at-a-time mode
-- KEYS[6] groupPause: string ms; a 429 pause of the route's group (the route's own pause when it has no group)
-- KEYS[7] routePause: string ms; a 429 pause of the route
-- KEYS[8] bucket: hash limit/windowMs/used/probeUntil/probeId of the group's token bucket ("-" when no group)
-- KEYS[9] bucketLog: zset `r:<reqId>|cost` (reservation) or `<reqId>|cost` → ms; the bucket's floating window
-- KEYS[10] active: zset reqId → ms; every admitted request not yet settled
-- KEYS[11] paceSlot: string ms; the next slot of this caller class's paced error-counted requests
-- KEYS[12] modes: hash guard/guardUntil/reserve/pacing/pacedUntil; the modes last reported, so each change is reported once
-- KEYS[13] downtime: hash since/probeAt/gap/reason; Tranquility is down (no call but spaced /status probes)
-- KEYS[14] probeLock: string reqId; the /status probe in flight during a downtime
-- KEYS[15] statusFresh: string; exists while the last /status answer is fresh (its Expires): no probe before
-- KEYS[16] routeErrors: hash route → errors of the current window (what spent it; for the reports)
-- KEYS[17] events: list of JSON budget events, newest first (500 kept)
--
-- ARGV[1] reqId: this request's id, unique across processes
-- ARGV[2] hold: ms an admitted request counts as in flight when it is never settled (timeout + 5 s)
-- ARGV[3] lowMark: error-limit Remain at which nobody may call ESI (the hard floor)
-- ARGV[4] reserve: tokens reserved before sending (the worst cost, a 4xx)
-- ARGV[5] margin: tokens of each bucket never used
-- ARGV[6] hasGroup: '1' when the route has a token-bucket group, '0' when its errors count against the error limit
-- ARGV[7] class: 'high' (live work, on-demand: may spend the live reserve) or 'normal'
-- ARGV[8] liveReserve: errors above the low mark that only 'high' callers may spend
-- ARGV[9] pacePercent: pacing starts once a caller's spendable errors fall to this share (%) of the window's; 0 = never
-- ARGV[10] probeMs: first spacing of /status probes during a downtime (doubles up to 4×)
--
-- Returns {admitted 0/1, waitMs, reason, untilMs, reports}: reason 'ok', 'guard', 'downtime', 'probe' (this caller
-- sends the /status probe now, then asks again), 'pause', 'errors', 'reserve', 'pace', 'serial' or 'bucket';
-- untilMs how long a caller that gives up should stay away; reports a JSON array of the mode changes this call
-- made (each also pushed to events), '' when none.
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
local paceSlotKey = KEYS[11]
local modesKey = KEYS[12]
local downtimeKey = KEYS[13]
local probeLockKey = KEYS[14]
local statusFreshKey = KEYS[15]
local routeErrorsKey = KEYS[16]
local eventsKey = KEYS[17]

local reqId = ARGV[1]
local hold = tonumber(ARGV[2])
local lowMark = tonumber(ARGV[3])
local reserve = tonumber(ARGV[4])
local margin = tonumber(ARGV[5])
local hasGroup = ARGV[6]
local class = ARGV[7]
local liveReserve = tonumber(ARGV[8])
local pacePercent = tonumber(ARGV[9])
local probeMs = tonumber(ARGV[10])

-- Redis' clock, so every process sees one time (duplicated in settle.lua)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- Mode changes are decided here, atomically, so exactly one caller (of all processes) reports each one.
local reports = {}
local function spentBy()
  local flat = redis.call('HGETALL', routeErrorsKey)
  local out = {}
  for i = 1, #flat, 2 do out[flat[i]] = tonumber(flat[i + 1]) end
  return out
end
local function report(e)
  e.setAt = now
  local json = cjson.encode(e)
  redis.call('LPUSH', eventsKey, json)
  redis.call('LTRIM', eventsKey, 0, 499)
  reports[#reports + 1] = json
end
local function reply(admitted, waitMs, reason, untilMs)
  local out = ''
  if #reports > 0 then out = '[' .. table.concat(reports, ',') .. ']' end
  waitMs = math.floor(waitMs)
  return {admitted, waitMs, reason, math.floor(untilMs or waitMs), out}
end

local gu = tonumber(redis.call('HGET', guardKey, 'until') or '0')
if gu <= now and redis.call('HGET', modesKey, 'guard') == '1' then
  local was = tonumber(redis.call('HGET', modesKey, 'guardUntil') or '0')
  redis.call('HSET', modesKey, 'guard', '0')
  report({kind = 'guard-down', reason = 'guard-ended', ['until'] = was})
end
if gu > now then return reply(0, gu - now, 'guard') end

-- Tranquility down: nobody calls; one caller at a time, spaced, sends the /status probe (budget.ts) and
-- settle.lua ends the downtime on any answer that is not a 5xx.
if redis.call('EXISTS', downtimeKey) == 1 then
  local probeAt = tonumber(redis.call('HGET', downtimeKey, 'probeAt') or '0')
  local fresh = redis.call('PTTL', statusFreshKey)
  if fresh > 0 and now + fresh > probeAt then probeAt = now + fresh end
  if redis.call('EXISTS', probeLockKey) == 1 then
    -- a probe is out: look again soon (it may end the downtime), or come back at the next probe
    return reply(0, 250, 'downtime', math.max(probeAt - now, 1000))
  end
  if probeAt > now then return reply(0, probeAt - now, 'downtime') end
  local gap = math.min(tonumber(redis.call('HGET', downtimeKey, 'gap') or probeMs) * 2, probeMs * 4)
  redis.call('HSET', downtimeKey, 'probeAt', now + gap, 'gap', gap)
  redis.call('SET', probeLockKey, reqId, 'PX', hold)
  redis.call('ZREMRANGEBYSCORE', activeKey, '-inf', now)
  redis.call('ZADD', activeKey, now + hold, reqId)
  return reply(0, 0, 'probe', gap)
end

for _, k in ipairs({groupPauseKey, routePauseKey}) do
  local pu = tonumber(redis.call('GET', k) or '0')
  if pu > now then return reply(0, pu - now, 'pause') end
end

-- error limit (routes outside a token-bucket group: errors there are paid in tokens instead).
-- R = the window's Remain (its full allowance, max, once the window has passed; unknown: one request at a
-- time until a response tells); every request in flight may still come back as an error, so A = R - in flight.
-- A caller's floor F is the low mark ('high') or the low mark + the live reserve ('normal'): admit only
-- while A > F, so even if every request in flight fails the count stops at F. Below a pacing threshold
-- P = F + pacePercent% of (max - F), admit no faster than what remains above F spread over the time left
-- (README.md beside budget.ts: the curve).
local errorCounted = hasGroup ~= '1'
local paceNext = nil
if errorCounted then
  redis.call('ZREMRANGEBYSCORE', inflightKey, '-inf', now)
  local inflight = redis.call('ZCARD', inflightKey)
  local remain = tonumber(redis.call('HGET', errorsKey, 'remain') or '-1')
  local resetAt = tonumber(redis.call('HGET', errorsKey, 'resetAt') or '0')
  local max = tonumber(redis.call('HGET', errorsKey, 'max') or '-1')
  local current = resetAt > now and remain >= 0
  if not current then remain = max end
  -- the reserve never takes more than half of what lies above the low mark, so normal work always has some
  local live = 0
  if max > lowMark then live = math.min(liveReserve, math.floor((max - lowMark) / 2)) end
  local normalFloor = lowMark + live
  local floor = lowMark
  if class ~= 'high' then floor = normalFloor end
  local function threshold(f)
    if pacePercent <= 0 or max <= f then return -1 end
    return f + math.ceil(pacePercent * (max - f) / 100)
  end

  -- Modes are judged on the window's Remain (it only falls within a window), not on requests in flight,
  -- so they change at most twice a window; pacing is reported ended after a whole window without it.
  if max >= 0 then
    -- (without a reserve there is nothing to close: the low mark is the guard's)
    local closed = live > 0 and current and remain <= normalFloor
    if closed ~= (redis.call('HGET', modesKey, 'reserve') == '1') then
      if closed then
        redis.call('HSET', modesKey, 'reserve', '1')
        report({kind = 'reserve', reason = 'reserve-reached', remain = remain, max = max, floor = normalFloor,
          ['until'] = resetAt, routes = spentBy()})
      else
        redis.call('HSET', modesKey, 'reserve', '0')
        report({kind = 'reserve-end', reason = 'window-reset', max = max, ['until'] = now})
      end
    end
    local paceBelow = threshold(normalFloor)
    local paced = current and paceBelow >= 0 and remain <= paceBelow
    local wasPaced = redis.call('HGET', modesKey, 'pacing') == '1'
    if paced then
      redis.call('HSET', modesKey, 'pacedUntil', resetAt)
      if not wasPaced then
        redis.call('HSET', modesKey, 'pacing', '1')
        report({kind = 'pacing', reason = 'below-threshold', remain = remain, max = max, floor = normalFloor,
          threshold = paceBelow, ['until'] = resetAt, routes = spentBy()})
      end
    elseif wasPaced then
      local span = tonumber(redis.call('HGET', errorsKey, 'span') or '60000')
      local pacedUntil = tonumber(redis.call('HGET', modesKey, 'pacedUntil') or '0')
      if now >= pacedUntil + span then
        redis.call('HSET', modesKey, 'pacing', '0')
        report({kind = 'pacing-end', reason = 'window-without-pacing', max = max, ['until'] = now})
      end
    end
  end

  local avail = remain - inflight
  if remain < 0 then
    if inflight > 0 then return reply(0, 50, 'errors') end
  elseif avail <= floor then
    if remain > floor and inflight > 0 then
      -- requests in flight may still come back fine: look again soon
      if class ~= 'high' and avail > lowMark then return reply(0, 50, 'reserve') end
      return reply(0, 50, 'errors')
    end
    if current then
      if class ~= 'high' and remain > lowMark then return reply(0, resetAt + 1000 - now, 'reserve') end
      return reply(0, resetAt + 1000 - now, 'guard')
    end
  end

  -- decided on A (requests in flight may all fail), reported on R (above)
  local paceBelow = threshold(floor)
  if current and paceBelow >= 0 and avail <= paceBelow then
    local slot = tonumber(redis.call('GET', paceSlotKey) or '0')
    if slot > now then return reply(0, slot - now, 'pace') end
    -- After this request, `left` more errors may come before the floor: spread them over the time left.
    -- One request in p turns out an error, p the recent share of errors among answers (1 until known),
    -- but never taken below 1/left: the last error above the floor is only ever admitted at the reset,
    -- so even a stream of errors ends the window one above the floor.
    local left = avail - 1 - floor
    if left > 0 then
      local p = math.max(tonumber(redis.call('HGET', errorsKey, 'share') or '1'), 1 / left)
      paceNext = now + math.floor(p * (resetAt - now) / left)
    else
      paceNext = resetAt
    end
  end
end

local serial = tonumber(redis.call('GET', serialKey) or '0') > now
if serial and redis.call('EXISTS', serialLockKey) == 1 then return reply(0, 25, 'serial') end

if hasGroup == '1' then
  local limit = tonumber(redis.call('HGET', bucketKey, 'limit') or '-1')
  if limit < 0 then
    -- limit not known yet: one probe at a time until a response tells it
    local pu = tonumber(redis.call('HGET', bucketKey, 'probeUntil') or '0')
    if pu > now then return reply(0, 50, 'bucket') end
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
      return reply(0, wait, 'bucket')
    end
    redis.call('ZADD', bucketLogKey, now, 'r:' .. reqId .. '|' .. reserve)
    redis.call('HSET', bucketKey, 'used', used + reserve)
    redis.call('PEXPIRE', bucketKey, windowMs + 60000)
    redis.call('PEXPIRE', bucketLogKey, windowMs + 60000)
  end
end

if errorCounted then redis.call('ZADD', inflightKey, now + hold, reqId) end
if paceNext then redis.call('SET', paceSlotKey, paceNext, 'PX', math.max(paceNext - now, 1) + 60000) end
redis.call('ZREMRANGEBYSCORE', activeKey, '-inf', now)
redis.call('ZADD', activeKey, now + hold, reqId)
if serial then redis.call('SET', serialLockKey, reqId, 'PX', hold) end
return reply(1, 0, 'ok')
