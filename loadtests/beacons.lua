-- wrk script: a realistic mix of Plausible-style beacons for POST /api/event.
--
--   wrk -t1 -c64 -d20s --latency -s loadtests/beacons.lua \
--       http://127.0.0.1:8080/api/event [-- SITE_HOST [STREAM]]
--
-- SITE_HOST (default load.example) is the site every beacon names in "d" and
-- in its page URL; run.sh warms up with another site so the warm-up does not
-- count towards the figures it checks.
-- STREAM (default 1) picks the random request stream. wrk processes that run
-- at the same time against instances sharing one store need different
-- streams: with the same one they would send the same visitors in the same
-- order, each beacon twice within a few milliseconds. All streams draw from
-- the same visitor pool, so regulars still visit through every instance.
--
-- What one thread sends:
--   * pageviews (about 95%) and "Download" custom events (about 5%), as JSON
--     with content-type text/plain, like the Plausible tracker;
--   * pages drawn Zipf-like (s = 1.1) from about 2,000 paths of a municipal
--     site; some visits arrive from a newsletter with utm_* parameters, some
--     from Facebook with an fbclid the server must strip from the URL;
--   * visits of a few pageviews each (about 40% bounce), 256 of them open at
--     once and interleaved, so consecutive requests rarely share a visitor;
--     the first pageview carries the external referrer (45% none), later ones
--     the previous page on the site, as a browser would;
--   * visitors from a pool of 200,000 public IPv4 addresses in
--     X-Forwarded-For (no traffic goes to them: they are only header text),
--     each with a fixed browser and screen width; 30% of visits come from a
--     tenth of the pool, so those regulars come back several times;
--   * about 5% of visits from bots (Googlebot, bingbot, HeadlessChrome, curl).
--
-- It counts the answers: 202 without X-Kruimel-Dropped is "counted", 202
-- with it is "dropped", anything else is "other". done() prints:
--   RESULT counted=<n> dropped=<n> other=<n>
--   LATENCY p50_us=<n> p99_us=<n> rps=<n>
--   REQUESTS sent=<n> unanswered=<n> socket_errors=<n> duration_us=<n>
-- "unanswered" are requests written but not answered when wrk stopped (at most
-- one per connection, plus one request wrk builds to check the script): the
-- server may or may not have counted them.
--
-- wrk runs on the same cores as the server, so everything that can be built
-- ahead is built in init(); request() only draws numbers and joins strings.

local SITE_HOST_DEFAULT = "load.example"
local VISITOR_POOL_SIZE = 200000
local OPEN_VISITS = 256
local REGULAR_VISIT_TENTHS = 3
local PATH_COUNT = 2000
local ZIPF_EXPONENT = 1.1
local POOL_SEED = 424242 -- same visitor pool in every thread and every run
local STREAM_SEED = 1000 -- plus the thread number: one request stream per thread
local STREAM_STRIDE = 100 -- stream 2 starts at STREAM_SEED + 100: room for 99 threads

-- Results, read by done() through thread:get(); they must be globals.
counted, dropped, other, sent = 0, 0, 0, 0

---------------------------------------------------------------------------
-- Setup and done run in wrk's main Lua state, once per thread and once.
---------------------------------------------------------------------------

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_number", #threads)
end

function done(summary, latency, requests)
   local totals = { counted = 0, dropped = 0, other = 0, sent = 0 }
   for _, thread in ipairs(threads) do
      for name in pairs(totals) do
         totals[name] = totals[name] + (thread:get(name) or 0)
      end
   end
   local errors = summary.errors
   local socket_errors = errors.connect + errors.read + errors.write + errors.timeout
   local answered = totals.counted + totals.dropped + totals.other
   local seconds = summary.duration / 1e6
   io.write(string.format("RESULT counted=%d dropped=%d other=%d\n",
      totals.counted, totals.dropped, totals.other))
   io.write(string.format("LATENCY p50_us=%d p99_us=%d rps=%d\n",
      math.floor(latency:percentile(50)), math.floor(latency:percentile(99)),
      math.floor(summary.requests / seconds)))
   io.write(string.format("REQUESTS sent=%d unanswered=%d socket_errors=%d duration_us=%d\n",
      totals.sent, math.max(totals.sent - answered, 0), socket_errors, summary.duration))
end

---------------------------------------------------------------------------
-- Fixed vocabulary: a Dutch municipal site and its visitors.
---------------------------------------------------------------------------

local SECTIONS = {
   "nieuws", "afval", "parkeren", "paspoort-en-id-kaart", "verhuizen",
   "vergunningen", "belastingen", "werk-en-inkomen", "zorg-en-ondersteuning",
   "wonen", "bestuur", "evenementen", "subsidies", "onderwijs", "verkeer",
   "sport", "cultuur", "afspraak-maken", "bouwen", "duurzaamheid",
}

local TOPICS = {
   "aanvragen", "wijzigen", "kosten", "openingstijden", "voorwaarden",
   "ophaaldagen", "vergunning", "melding", "klacht", "formulier", "kalender",
   "regels", "uitkering", "toeslag", "inschrijven", "verlengen", "spoed",
   "buitenland", "jongeren", "ouderen", "ondernemers", "centrum", "noord",
   "zuid", "oost", "west", "raadsvergadering", "begroting", "plannen",
   "bekendmakingen", "zonnepanelen", "isolatie", "laadpalen", "groen",
   "speeltuinen", "bibliotheek", "zwembad", "markt", "wegwerkzaamheden",
   "evenement", "vrijwilligers", "mantelzorg", "schuldhulp", "energietoeslag",
   "huurtoeslag", "gft", "grofvuil", "milieustraat", "container", "rijbewijs",
}

local DOWNLOADS = {
   "/documenten/afvalkalender-2026.pdf", "/documenten/begroting-2026.pdf",
   "/documenten/jaarverslag-2025.pdf", "/documenten/aanvraagformulier-subsidie.pdf",
   "/documenten/parkeerkaart-wijken.pdf", "/documenten/omgevingsplan-toelichting.pdf",
   "/documenten/raadsbesluit-2026-014.pdf", "/documenten/verordening-afvalstoffen.pdf",
   "/documenten/tarieven-leges-2026.xlsx", "/documenten/bestemmingsplan-centrum.zip",
}

local CAMPAIGNS = { "nieuwsbrief-januari", "nieuwsbrief-februari", "afvalwijzer", "energiecoach" }

-- External referrers of a visit's first pageview; weights are per cent.
local REFERRERS = {
   { 45, nil },
   { 27, "https://www.google.nl/" },
   { 4, "https://www.bing.com/" },
   { 2, "https://duckduckgo.com/" },
   { 6, "https://www.facebook.com/" },
   { 2, "https://t.co/" },
   { 3, "https://nos.nl/artikel/2570001-gemeenten-en-afval" },
   { 4, "https://www.rijksoverheid.nl/onderwerpen/paspoort-en-identiteitskaart" },
   { 3, "https://www.buurtvereniging-de-linde.nl/nieuws" },
   { 2, "https://forum.stadsgenoten.nl/t/parkeren-centrum/812" },
   { 2, "android-app://com.google.android.gm/" },
}

-- Browsers with a rough Dutch share (weights are per mille) and the screen
-- widths their visitors have.
local DESKTOP_WIDTHS = { 1920, 1920, 1536, 1440, 1366, 1280, 2560 }
local PHONE_WIDTHS = { 390, 393, 412, 414, 375, 360, 430 }
local TABLET_WIDTHS = { 820, 810, 768, 1024 }

local BROWSERS = {
   { 160, PHONE_WIDTHS, "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0 Mobile/15E148 Safari/604.1" },
   { 90, PHONE_WIDTHS, "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1" },
   { 30, PHONE_WIDTHS, "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/141.0.7390.96 Mobile/15E148 Safari/604.1" },
   { 200, PHONE_WIDTHS, "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Mobile Safari/537.36" },
   { 40, PHONE_WIDTHS, "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/28.0 Chrome/130.0.0.0 Mobile Safari/537.36" },
   { 50, TABLET_WIDTHS, "Mozilla/5.0 (iPad; CPU OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0 Mobile/15E148 Safari/604.1" },
   { 190, DESKTOP_WIDTHS, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36" },
   { 90, DESKTOP_WIDTHS, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36 Edg/141.0.0.0" },
   { 40, DESKTOP_WIDTHS, "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:144.0) Gecko/20100101 Firefox/144.0" },
   { 40, DESKTOP_WIDTHS, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36" },
   { 50, DESKTOP_WIDTHS, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0 Safari/605.1.15" },
   { 10, DESKTOP_WIDTHS, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:144.0) Gecko/20100101 Firefox/144.0" },
   { 10, DESKTOP_WIDTHS, "Mozilla/5.0 (X11; Linux x86_64; rv:144.0) Gecko/20100101 Firefox/144.0" },
}

local BOTS = {
   "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
   "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.7390.122 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
   "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
   "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/141.0.0.0 Safari/537.36",
   "curl/8.14.1",
}
local BOT_VISIT_PERCENT = 5
local DOWNLOAD_PERCENT = 5
local NEWSLETTER_PERCENT = 4 -- of visits without a referrer: a click in an e-mail
local FBCLID_PERCENT = 70 -- of visits from Facebook

-- Pageviews per visit: 40% bounce, mean 3.6.
local VISIT_LENGTHS = { 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5, 6, 8, 10, 15 }

---------------------------------------------------------------------------
-- Tables built by init(); request() only reads them.
---------------------------------------------------------------------------

local random, floor = math.random, math.floor
local site_url, request_head
local paths, path_cumulative, path_url_json = {}, {}, {}
local content_length_lines = {}
local referrer_cumulative, referrer_json = {}, {}
local facebook_source -- index of facebook.com in REFERRERS
local visitor_forwarded_for, visitor_agent_line, visitor_width_field = {}, {}, {}
local bot_agent_lines = {}
local campaign_queries, fbclid_queries = {}, {}
local download_props = {}
local open_visitor, open_pages_left, open_previous_page = {}, {}, {}
local pageview_prefix, download_prefix, domain_field

local function build_paths()
   paths[1] = "/"
   for _, section in ipairs(SECTIONS) do
      paths[#paths + 1] = "/" .. section
   end
   -- Section pages first, then section/topic pages in an order spread over
   -- sections, so popular ranks are not all in one section.
   local topic_round = 0
   while #paths < PATH_COUNT do
      topic_round = topic_round + 1
      for section_index, section in ipairs(SECTIONS) do
         local topic = TOPICS[(section_index * 7 + topic_round) % #TOPICS + 1]
         local suffix = topic_round > #TOPICS and ("-" .. floor(topic_round / #TOPICS)) or ""
         paths[#paths + 1] = "/" .. section .. "/" .. topic .. suffix
         if #paths == PATH_COUNT then break end
      end
   end
   local total = 0
   for rank = 1, PATH_COUNT do
      total = total + rank ^ -ZIPF_EXPONENT
      path_cumulative[rank] = total
   end
   for rank = 1, PATH_COUNT do
      path_cumulative[rank] = path_cumulative[rank] / total
      path_url_json[rank] = '"' .. site_url .. paths[rank] .. '"'
   end
end

local function build_referrers()
   local total = 0
   for index, entry in ipairs(REFERRERS) do
      total = total + entry[1]
      referrer_cumulative[index] = total
      referrer_json[index] = entry[2] and ('"' .. entry[2] .. '"') or "null"
      if entry[2] == "https://www.facebook.com/" then facebook_source = index end
   end
   for index = 1, #referrer_cumulative do
      referrer_cumulative[index] = referrer_cumulative[index] / total
   end
end

-- A random address outside private, shared, loopback, link-local,
-- documentation, benchmark and multicast ranges.
local RESERVED_FIRST_OCTETS = { [0] = true, [10] = true, [100] = true, [127] = true,
   [169] = true, [172] = true, [192] = true, [198] = true, [203] = true }

local function random_public_ipv4()
   local first
   repeat first = random(1, 223) until not RESERVED_FIRST_OCTETS[first]
   return first .. "." .. random(0, 255) .. "." .. random(0, 255) .. "." .. random(1, 254)
end

local function build_visitors()
   local browser_total = 0
   for _, browser in ipairs(BROWSERS) do browser_total = browser_total + browser[1] end
   for visitor = 1, VISITOR_POOL_SIZE do
      visitor_forwarded_for[visitor] = "X-Forwarded-For: " .. random_public_ipv4() .. "\r\n"
      local draw, browser = random() * browser_total, BROWSERS[#BROWSERS]
      for _, candidate in ipairs(BROWSERS) do
         draw = draw - candidate[1]
         if draw < 0 then browser = candidate; break end
      end
      local widths = browser[2]
      visitor_agent_line[visitor] = "User-Agent: " .. browser[3] .. "\r\n"
      visitor_width_field[visitor] = ',"w":' .. widths[random(#widths)]
   end
   for index, agent in ipairs(BOTS) do
      bot_agent_lines[index] = "User-Agent: " .. agent .. "\r\n"
   end
end

local function build_queries()
   for index, campaign in ipairs(CAMPAIGNS) do
      campaign_queries[index] = "?utm_source=nieuwsbrief&utm_medium=email&utm_campaign=" .. campaign
   end
   local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
   for index = 1, 1000 do
      local characters = {}
      for position = 1, 40 do
         local pick = random(#alphabet)
         characters[position] = alphabet:sub(pick, pick)
      end
      fbclid_queries[index] = "?fbclid=IwAR" .. table.concat(characters)
   end
   for index, file in ipairs(DOWNLOADS) do
      download_props[index] = ',"p":{"url":"' .. site_url .. file .. '"}}'
   end
   for length = 1, 4096 do
      content_length_lines[length] = "Content-Length: " .. length .. "\r\n\r\n"
   end
end

function init(args)
   local site_host = args[1] or SITE_HOST_DEFAULT
   local stream = tonumber(args[2] or "1") or 1
   site_url = "https://" .. site_host
   request_head = "POST " .. wrk.path .. " HTTP/1.1\r\nHost: " .. wrk.headers["Host"]
      .. "\r\nContent-Type: text/plain\r\n"
   math.randomseed(POOL_SEED)
   build_paths()
   build_referrers()
   build_visitors()
   build_queries()
   pageview_prefix = '{"n":"pageview","u":"' .. site_url
   download_prefix = '{"n":"Download","u":"' .. site_url
   domain_field = '","d":"' .. site_host .. '","r":'
   math.randomseed(STREAM_SEED + (stream - 1) * STREAM_STRIDE + (thread_number or 1))
   for slot = 1, OPEN_VISITS do open_pages_left[slot] = 0 end
end

---------------------------------------------------------------------------
-- Per request: a few random draws and one string join.
---------------------------------------------------------------------------

-- Smallest index whose cumulative weight reaches u (binary search).
local function pick_cumulative(cumulative, u)
   local low, high = 1, #cumulative
   while low < high do
      local middle = floor((low + high) / 2)
      if cumulative[middle] < u then low = middle + 1 else high = middle end
   end
   return low
end

-- Three visits in ten come from a tenth of the pool (regulars), the rest
-- from anyone, so regulars come back several times in a run while most
-- visitors appear once or not at all, and no single visitor dominates.
local function pick_visitor()
   if random(10) <= REGULAR_VISIT_TENTHS then
      return random(VISITOR_POOL_SIZE / 10)
   end
   return random(VISITOR_POOL_SIZE)
end

function request()
   sent = sent + 1
   local slot = random(OPEN_VISITS)
   local pages_left = open_pages_left[slot]
   local page = pick_cumulative(path_cumulative, random())
   local referrer, query = nil, ""
   if pages_left == 0 then
      -- First pageview of a new visit: external referrer, campaign tags.
      local source = pick_cumulative(referrer_cumulative, random())
      referrer = referrer_json[source]
      if source == 1 and random(100) <= NEWSLETTER_PERCENT then
         query = campaign_queries[random(#campaign_queries)]
      elseif source == facebook_source and random(100) <= FBCLID_PERCENT then
         query = fbclid_queries[random(#fbclid_queries)]
      end
      local visitor = pick_visitor()
      -- A bot visit keeps its bot agent for all its pageviews: the slot holds
      -- the visitor negated.
      if random(100) <= BOT_VISIT_PERCENT then
         visitor = -visitor
         referrer = "null"
      end
      open_visitor[slot] = visitor
      open_pages_left[slot] = VISIT_LENGTHS[random(#VISIT_LENGTHS)] - 1
   else
      -- Later pageviews: the browser sends the previous page as referrer.
      open_pages_left[slot] = pages_left - 1
      referrer = path_url_json[open_previous_page[slot]]
   end
   open_previous_page[slot] = page

   local visitor, agent_line = open_visitor[slot], nil
   if visitor < 0 then
      visitor = -visitor
      agent_line = bot_agent_lines[visitor % #bot_agent_lines + 1]
   else
      agent_line = visitor_agent_line[visitor]
   end
   local prefix, suffix = pageview_prefix, "}"
   if random(100) <= DOWNLOAD_PERCENT then
      prefix, suffix = download_prefix, download_props[random(#download_props)]
   end
   local path, width_field = paths[page], visitor_width_field[visitor]
   -- The body is only ever written as part of the request: its length is
   -- the sum of its parts, which spares building it as a string of its own.
   local body_length = #prefix + #path + #query + #domain_field + #referrer
      + #width_field + #suffix
   return request_head .. agent_line .. visitor_forwarded_for[visitor]
      .. content_length_lines[body_length]
      .. prefix .. path .. query .. domain_field .. referrer .. width_field .. suffix
end

function response(status, headers, body)
   if status == 202 then
      if headers["x-kruimel-dropped"] or headers["X-Kruimel-Dropped"] then
         dropped = dropped + 1
      else
         counted = counted + 1
      end
   else
      other = other + 1
   end
end
