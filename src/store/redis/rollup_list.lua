-- Lists a month as rolled up if no flush wrote one of its days while it
-- was summed (a flush takes it off the pending list).
-- KEYS[1]: the site's months being rolled up; KEYS[2]: its months rolled up.
-- ARGV[1]: the month's first day. Returns 1 when listed.
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1])
  return 1
end
return 0
