-- Adds one flush's count deltas for one site, exactly once, and takes the
-- months whose days it writes off the site's roll-up lists.
-- KEYS[1]: this batch's done marker; KEYS[2]: the site's bucket index;
-- KEYS[3]: its months rolled up; KEYS[4]: its months being rolled up;
-- KEYS[5]: the day being sealed ("<day>:<token>"), taken away when this
-- batch writes that day, so the seal starts over; KEYS[6]: the latest day
-- sealed: a hash of a day up to it may have been sealed away with its
-- index entry since the caller last indexed it, so it is indexed again.
-- ARGV[1]: marker life in ms; ARGV[2]: how many months follow; the months
-- (first days); then groups of
--   hash key, day of its bucket, "1" when the caller indexed it lately
--   (else ""), field count, (field, increment) * count.
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  return 0
end
local months = tonumber(ARGV[2])
if months > 0 then
  redis.call('ZREM', KEYS[3], unpack(ARGV, 3, 2 + months))
  redis.call('ZREM', KEYS[4], unpack(ARGV, 3, 2 + months))
end
local marks = redis.call('MGET', KEYS[5], KEYS[6])
local sealing = marks[1] and tonumber(string.match(marks[1], '^(-?%d+):'))
local horizon = marks[2] and tonumber(marks[2])
local i = 3 + months
local n = #ARGV
while i <= n do
  local key, day, fields = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 3])
  if day == sealing then
    redis.call('DEL', KEYS[5])
    sealing = nil
  end
  if ARGV[i + 2] == '' or (horizon and day <= horizon) then
    redis.call('ZADD', KEYS[2], day, key)
  end
  i = i + 4
  for _ = 1, fields do
    redis.call('HINCRBY', key, ARGV[i], ARGV[i + 1])
    i = i + 2
  end
end
return 1
