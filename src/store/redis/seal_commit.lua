-- Writes a sealed day's units and deletes the open hashes they were read
-- from, in one step, but only if no flush wrote to that day since the
-- sealer set its mark (a flush takes the mark away), nor retention ran.
-- KEYS[1]: the sealing mark; KEYS[2]: the site's bucket index; KEYS[3]:
-- its units; KEYS[4]: the latest day sealed; KEYS[5]: the site's count of
-- moves from open hashes into units, which readers compare before and
-- after they read both; then one key per unit; then the open hashes read.
-- ARGV[1]: the sealer's mark; ARGV[2]: the day; ARGV[3]: how many units;
-- then per unit: its day (a month's first day), a field count, and
-- (field, block) * count, the whole unit (no field: the unit goes).
-- Returns 1 when written, 0 when the day must be read again.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
local units = tonumber(ARGV[3])
local a = 4
for u = 1, units do
  local key, period, fields = KEYS[5 + u], ARGV[a], tonumber(ARGV[a + 1])
  a = a + 2
  redis.call('DEL', key)
  if fields > 0 then
    redis.call('HSET', key, unpack(ARGV, a, a + 2 * fields - 1))
    redis.call('ZADD', KEYS[3], period, key)
  else
    redis.call('ZREM', KEYS[3], key)
  end
  a = a + 2 * fields
end
-- 500 keys per call: unpack is bounded by Lua's stack.
for i = 6 + units, #KEYS, 500 do
  local last = math.min(i + 499, #KEYS)
  redis.call('UNLINK', unpack(KEYS, i, last))
  redis.call('ZREM', KEYS[2], unpack(KEYS, i, last))
end
local horizon = tonumber(redis.call('GET', KEYS[4]))
if not horizon or horizon < tonumber(ARGV[2]) then
  redis.call('SET', KEYS[4], ARGV[2])
end
redis.call('INCR', KEYS[5])
redis.call('DEL', KEYS[1])
return 1
