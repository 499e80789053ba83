-- Renews (ttlMs > 0) or releases (ttlMs 0) a lease, only for its holder: an expired lease may be someone
-- else's by now. Run by lease.ts.
--
-- KEYS[1] lease: string; the lease's value (`${QUEUE_PREFIX}:lease:<name>`)
--
-- ARGV[1] value: what the holder set (its lease is still its own when the key holds exactly this)
-- ARGV[2] ttlMs: new lifetime; 0 deletes the lease
--
-- Returns 1 when the lease was the caller's, 0 when it was not (expired, or taken by another).
local leaseKey = KEYS[1]

local value = ARGV[1]
local ttlMs = tonumber(ARGV[2])

if redis.call('GET', leaseKey) ~= value then return 0 end
if ttlMs > 0 then
  redis.call('PEXPIRE', leaseKey, ttlMs)
else
  redis.call('DEL', leaseKey)
end
return 1
