-- Deletes a site's count hashes whose bucket day is before ARGV[1], and its
-- units (a day's or a month's dictionary and tables) of days before it.
-- KEYS[1]: the site's bucket index; KEYS[2] and KEYS[3]: its lists of months
-- rolled up and being rolled up, from which months whose first day is
-- before ARGV[1] go with their hashes; KEYS[4]: its units; KEYS[5]: the
-- sealing mark, taken away so a seal in progress reads its day again
-- rather than write back a day deleted here.
-- Returns how many hashes and units were deleted.
local removed = 0
redis.call('DEL', KEYS[5])
while true do
  local keys = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', '(' .. ARGV[1], 'LIMIT', 0, 500)
  if #keys == 0 then
    break
  end
  redis.call('DEL', unpack(keys))
  redis.call('ZREM', KEYS[4], unpack(keys))
  removed = removed + #keys
end
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
