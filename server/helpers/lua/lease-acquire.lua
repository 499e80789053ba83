-- Takes a fenced lease if nobody holds it, with a fencing token greater than every one given before.
-- Run by lease.ts acquireFencedLease(); renewals and releases go through lease-keep.lua.
--
-- KEYS[1] lease: string "<holder> <fence>" with a TTL (`${QUEUE_PREFIX}:lease:<name>`)
-- KEYS[2] fence: integer; the last fencing token given (`${QUEUE_PREFIX}:lease:<name>:fence`, no TTL)
--
-- ARGV[1] holder: who asks (host:pid:random)
-- ARGV[2] ttlMs: lifetime of the lease unless renewed
-- ARGV[3] floor: the highest token the guarded store has seen (a Redis that lost the counter must not
--   hand out a token the store would refuse)
--
-- Returns {fence, value}: fence 0 and the current holder's value when the lease is held.
local leaseKey = KEYS[1]
local fenceKey = KEYS[2]

local holder = ARGV[1]
local ttlMs = tonumber(ARGV[2])
local floor = tonumber(ARGV[3])

local current = redis.call('GET', leaseKey)
if current then return {0, current} end
local fence = redis.call('INCR', fenceKey)
if fence <= floor then
  fence = floor + 1
  redis.call('SET', fenceKey, fence)
end
local value = holder .. ' ' .. fence
redis.call('SET', leaseKey, value, 'PX', ttlMs)
return {fence, value}
