-- Appends a choice to a consent receipt, if the receipt exists, belongs to
-- the site and has room. A receipt is a list: site, created, choices...
-- KEYS[1] the receipt
-- ARGV[1] site, ARGV[2] choice JSON, ARGV[3] expiry (unix ms), ARGV[4] most choices
-- Returns the number of choices after the append, or 0 when nothing was appended.
local length = redis.call('LLEN', KEYS[1])
if length < 3 or length - 2 >= tonumber(ARGV[4]) then
  return 0
end
if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[1] then
  return 0
end
redis.call('RPUSH', KEYS[1], ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return length - 1
