-- Credits one site's visitors to counting scopes, once per visitor and
-- day, and records the answer so a retried batch gets the same one.
-- KEYS[1]: this batch's answer. ARGV[1]: key prefix; ARGV[2]: answer
-- life in ms; ARGV[3]: the visits answer this batch follows, now done
-- with; then per hit: visitor, life of its credits in ms, scope count,
-- the scopes' fingerprints.
-- Answer: per hit, a string with "1" for each scope credited for the
-- first time and "0" for each already credited.
local answered = redis.call('GET', KEYS[1])
if answered then
  return cmsgpack.unpack(answered)
end
redis.call('DEL', ARGV[3])
local prefix = ARGV[1]
local sets, order, answer = {}, {}, {}
local n = #ARGV
local i = 4
while i <= n do
  local visitor, life, count = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  i = i + 3
  local set = sets[visitor]
  if not set then
    set = { known = {}, added = {} }
    for _, member in ipairs(redis.call('SMEMBERS', prefix .. 'c:' .. visitor)) do
      set.known[member] = true
    end
    sets[visitor] = set
    order[#order + 1] = visitor
  end
  set.life = life
  local bits = {}
  for j = 1, count do
    local scope = ARGV[i + j - 1]
    if set.known[scope] then
      bits[j] = '0'
    else
      set.known[scope] = true
      set.added[#set.added + 1] = scope
      bits[j] = '1'
    end
  end
  i = i + count
  answer[#answer + 1] = table.concat(bits)
end
for _, visitor in ipairs(order) do
  local set = sets[visitor]
  local key = prefix .. 'c:' .. visitor
  for from = 1, #set.added, 1000 do
    redis.call('SADD', key, unpack(set.added, from, math.min(from + 999, #set.added)))
  end
  if #set.added > 0 then
    redis.call('PEXPIRE', key, set.life)
  end
end
redis.call('SET', KEYS[1], cmsgpack.pack(answer), 'PX', ARGV[2])
return answer
