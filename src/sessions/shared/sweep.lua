-- Ends one site's visits idle for the timeout, and records the answer so
-- a retried sweep gets the same one.
-- KEYS[1]: this sweep's answer. ARGV[1]: key prefix; ARGV[2]: timeout in
-- seconds; ARGV[3]: now, unix second; ARGV[4]: answer life in ms;
-- ARGV[5..]: the days whose open visits to look at.
-- Answer: per ended visit: exit page, attributes, start unix, day, hour.
local answered = redis.call('GET', KEYS[1])
if answered then
  return cmsgpack.unpack(answered)
end
local prefix, timeout, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local ended = {}
for d = 5, #ARGV do
  local open = prefix .. 'open:' .. ARGV[d]
  local idle = redis.call('ZRANGEBYSCORE', open, '-inf', now - timeout, 'LIMIT', 0, 2000)
  for _, visitor in ipairs(idle) do
    local key = prefix .. 'v:' .. visitor
    local raw = redis.call('GET', key)
    if raw then
      local s = cmsgpack.unpack(raw)
      if s[3] >= 0 and now - s[6] >= timeout then
        ended[#ended + 1] = { s[9], s[10], s[3], s[4], s[5] }
        s[3] = -1
        redis.call('SET', key, cmsgpack.pack(s), 'KEEPTTL')
      end
    end
    redis.call('ZREM', open, visitor)
  end
end
redis.call('SET', KEYS[1], cmsgpack.pack(ended), 'PX', ARGV[4])
return ended
