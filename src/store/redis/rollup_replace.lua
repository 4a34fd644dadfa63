-- Replaces one monthly hash whole and indexes it under its month, in one
-- step, so a reader never meets it half written.
-- KEYS[1]: the monthly hash; KEYS[2]: the site's bucket index.
-- ARGV[1]: the month's first day; ARGV[2..]: field, value, field, value…
redis.call('DEL', KEYS[1])
local i = 2
while i <= #ARGV do
  -- 500 pairs per call: unpack is bounded by Lua's stack.
  local last = math.min(i + 999, #ARGV)
  redis.call('HSET', KEYS[1], unpack(ARGV, i, last))
  i = last + 1
end
if #ARGV > 1 then
  redis.call('ZADD', KEYS[2], ARGV[1], KEYS[1])
end
return 1
