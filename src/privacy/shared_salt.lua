-- The deployment's salt for one site and day: the first offer wins.
-- Mirrors `src/privacy/salt.rs`, which keeps the same salt in memory for one instance.
-- KEYS[1]: the salt key; ARGV[1]: this instance's offer; ARGV[2]: life in ms.
local salt = redis.call('GET', KEYS[1])
if salt then
  return salt
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]
