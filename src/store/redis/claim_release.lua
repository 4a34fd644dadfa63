-- Releases a claim only if it is still the caller's (its token), so a
-- claim that expired and was taken by another instance stays theirs.
-- KEYS[1]: the claim; ARGV[1]: the caller's token.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
