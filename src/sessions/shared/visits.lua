-- Moves one site's visitors and visits on by one batch of hits, in order,
-- and records the answer so a retried batch gets the same one.
-- KEYS[1]: this batch's answer. ARGV[1]: key prefix "kr:{site}:";
-- ARGV[2]: visit timeout in seconds; ARGV[3]: answer life in ms; then per
-- hit 10 values: visitor, yesterday's visitor or "", unix second, day,
-- hour, kind ("1" a pageview, "0" an event, "e" an engagement report),
-- 1 for an interactive event (for a report: its scroll depth, -1 for
-- none), page, attributes (opaque), life of the visitor's state in ms.
-- Visitor state (MessagePack): day, last seen, visit start unix (-1: no
-- open visit), start day, start hour, visit last seen, pageviews,
-- bounced (1/0), last page, attributes, the last pageview's deepest
-- scroll point (-1 or absent: none), whether it sent a report (1/0), the
-- page of the pageview before it ('' or absent: none), and that one's
-- deepest point and report flag.
-- Answer: { per hit: started, start unix, start day, start hour,
-- bounce delta, duration delta, attributes if not the hit's own else "" },
-- { per ended visit: exit page, attributes, start unix, day, hour } }.
-- An engagement report answers { -1, counted (1/0), first report of its
-- pageview (1/0), first depth of its pageview (1/0), depth added, 0, "" }.
local answered = redis.call('GET', KEYS[1])
if answered then
  return cmsgpack.unpack(answered)
end
local prefix, timeout = ARGV[1], tonumber(ARGV[2])
local states, order, hits, ended = {}, {}, {}, {}

local function load(visitor, yesterday)
  local raw = redis.call('GET', prefix .. 'v:' .. visitor)
  if raw then
    return cmsgpack.unpack(raw)
  end
  if yesterday == '' then
    return nil
  end
  -- A visit from before midnight goes on under today's hash, whether its
  -- state is in Redis or earlier in this batch.
  local state
  local cached = states[yesterday]
  if cached then
    state = cached.state
    states[yesterday] = nil
  else
    raw = redis.call('GET', prefix .. 'v:' .. yesterday)
    if raw then
      state = cmsgpack.unpack(raw)
    end
  end
  if state then
    redis.call('DEL', prefix .. 'v:' .. yesterday, prefix .. 'c:' .. yesterday)
    redis.call('ZREM', prefix .. 'open:' .. state[1], yesterday)
  end
  return state
end

-- An engagement report, as `Sessions::engage`: counted only for the
-- open visit's last two pageviews under today's hash, by their page (a
-- page's last report may arrive after the next pageview); it moves
-- nothing else.
local function engage(visitor, unix, page, depth, life)
  local entry = states[visitor]
  if not entry then
    local raw = redis.call('GET', prefix .. 'v:' .. visitor)
    if not raw then
      return { -1, 0, 0, 0, 0, 0, '' }
    end
    entry = { state = cmsgpack.unpack(raw), life = life }
    states[visitor] = entry
    order[#order + 1] = visitor
  end
  local s = entry.state
  if s[3] < 0 or unix - s[6] >= timeout then
    return { -1, 0, 0, 0, 0, 0, '' }
  end
  -- Where this pageview's deepest point and report flag are kept.
  local at
  if s[9] == page then
    at = 11
  elseif s[13] == page then
    at = 14
  else
    return { -1, 0, 0, 0, 0, 0, '' }
  end
  local answer = { -1, 1, 0, 0, 0, 0, '' }
  if s[at + 1] ~= 1 then
    s[at + 1] = 1
    answer[3] = 1
  end
  local deepest = s[at] or -1
  if depth >= 0 and deepest < 0 then
    s[at] = depth
    answer[4], answer[5] = 1, depth
  elseif depth > deepest then
    s[at] = depth
    answer[5] = depth - deepest
  end
  return answer
end

local n = #ARGV
local i = 4
while i <= n do
  local visitor, yesterday = ARGV[i], ARGV[i + 1]
  local unix, day, hour = tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3]), tonumber(ARGV[i + 4])
  local pageview, interactive = ARGV[i + 5] == '1', ARGV[i + 6] == '1'
  local page, attrs, life = ARGV[i + 7], ARGV[i + 8], ARGV[i + 9]
  local report = ARGV[i + 5] == 'e'
  local depth = tonumber(ARGV[i + 6])
  i = i + 10
  if report then
    hits[#hits + 1] = engage(visitor, unix, page, depth, life)
  else
    local entry = states[visitor]
    if not entry then
      local state = load(visitor, yesterday) or { day, unix, -1, 0, 0, 0, 0, 0, '', '' }
      entry = { state = state }
      states[visitor] = entry
      order[#order + 1] = visitor
    end
    entry.life = life
    local s = entry.state
    if s[1] ~= day then
      -- A new local day: a new visitor for counting; the visit may go on.
      s[1] = day
      redis.call('DEL', prefix .. 'c:' .. visitor)
    end
    if s[2] < unix then
      s[2] = unix
    end
    if s[3] >= 0 and unix - s[6] < timeout then
      local duration = unix - s[6]
      if duration < 0 then
        duration = 0
      end
      if s[6] < unix then
        s[6] = unix
      end
      if pageview then
        s[7] = s[7] + 1
        s[13], s[14], s[15] = s[9], s[11] or -1, s[12] or 0
        s[9] = page
        s[11], s[12] = -1, 0
      end
      local bounce = 0
      if s[8] == 1 and (s[7] >= 2 or interactive) then
        s[8] = 0
        bounce = -1
      end
      local own = ''
      if s[10] ~= attrs then
        own = s[10]
      end
      hits[#hits + 1] = { 0, s[3], s[4], s[5], bounce, duration, own }
    else
      if s[3] >= 0 then
        ended[#ended + 1] = { s[9], s[10], s[3], s[4], s[5] }
      end
      s[3], s[4], s[5], s[6] = unix, day, hour, unix
      s[7] = pageview and 1 or 0
      s[8] = interactive and 0 or 1
      s[9], s[10] = page, attrs
      s[11], s[12] = -1, 0
      s[13], s[14], s[15] = '', -1, 0
      hits[#hits + 1] = { 1, unix, day, hour, s[8], 0, '' }
    end
  end
end

local opened = {}
for _, visitor in ipairs(order) do
  local entry = states[visitor]
  if entry then
    local s = entry.state
    redis.call('SET', prefix .. 'v:' .. visitor, cmsgpack.pack(s), 'PX', entry.life)
    if s[3] >= 0 then
      local open = prefix .. 'open:' .. s[1]
      redis.call('ZADD', open, s[6], visitor)
      opened[open] = entry.life
    end
  end
end
for open, life in pairs(opened) do
  redis.call('PEXPIRE', open, life)
end
local answer = { hits, ended }
redis.call('SET', KEYS[1], cmsgpack.pack(answer), 'PX', ARGV[3])
return answer
