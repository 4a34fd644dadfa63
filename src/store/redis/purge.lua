-- Deletes a site's count hashes whose bucket day is before ARGV[1].
-- KEYS[1]: the site's bucket index. Returns how many were deleted.
local removed = 0
while true do
  local keys = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0, 500)
  if #keys == 0 then
    return removed
  end
  redis.call('DEL', unpack(keys))
  redis.call('ZREM', KEYS[1], unpack(keys))
  removed = removed + #keys
end
