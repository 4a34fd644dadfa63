-- Deletes a site's count hashes whose bucket day is before ARGV[1].
-- KEYS[1]: the site's bucket index; KEYS[2] and KEYS[3]: its lists of months
-- rolled up and being rolled up, from which months whose first day is
-- before ARGV[1] go with their hashes.
-- Returns how many hashes were deleted.
local removed = 0
while true do
  local keys = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0, 500)
  if #keys == 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[1])
    redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[1])
    return removed
  end
  redis.call('DEL', unpack(keys))
  redis.call('ZREM', KEYS[1], unpack(keys))
  removed = removed + #keys
end
