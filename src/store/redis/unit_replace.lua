-- Replaces one unit whole (a rolled-up month) and deletes the open hashes
-- it replaces (monthly hashes of an earlier roll-up), in one step, so a
-- reader never meets it half written nor counted twice.
-- KEYS[1]: the unit; KEYS[2]: the site's units; KEYS[3]: its bucket index;
-- KEYS[4]: the site's count of moves into units (see seal_commit.lua);
-- KEYS[5..]: the hashes replaced.
-- ARGV[1]: the unit's day (a month's first day); ARGV[2]: a field count;
-- then (field, block) * count (no field: the unit goes).
redis.call('DEL', KEYS[1])
local fields = tonumber(ARGV[2])
if fields > 0 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 3, 2 + 2 * fields))
  redis.call('ZADD', KEYS[2], ARGV[1], KEYS[1])
else
  redis.call('ZREM', KEYS[2], KEYS[1])
end
for i = 5, #KEYS, 500 do
  local last = math.min(i + 499, #KEYS)
  redis.call('UNLINK', unpack(KEYS, i, last))
  redis.call('ZREM', KEYS[3], unpack(KEYS, i, last))
end
redis.call('INCR', KEYS[4])
return 1
