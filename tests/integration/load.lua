-- load.lua - the wrk script of test_load.sh: mixed reads and writes, and a
-- log of every write the server acknowledged.
--
-- Environment: KX_LOAD_INPUT names a file of lines "threads N", "admin
-- TOKEN" (several), "liaison TOKEN" and "need ID" (open public needs of
-- the dataset); KX_LOAD_LOG the file that done() writes.
--
-- wrk runs each thread's connections in one event loop and calls
-- request() and response() without saying which connection a response
-- belongs to, so a response is matched to its request by what it names:
-- the need id in its body. Every request about one of our needs (read or
-- write) makes that need busy until the response naming it arrives, so a
-- need never has two requests in flight and the acknowledgements of its
-- writes come in the order the server applied them.
--
-- Writes are paced below the server's rate limit (600 a minute per token,
-- bursts of 120; api/http/ratelimit.h): each thread holds its own share of
-- the admin tokens, and spends one only while its bucket here (8 a second
-- per token, at most 60 saved) has one. Then no 429 can be legitimate, and
-- every status outside 2xx counts as an error.
--
-- The log, one line per acknowledged write, tab-separated:
--   ack ID create BODY | ack ID update BODY | ack ID move PARTNER STAGE |
--   ack ID delete
-- and for a write still in flight when wrk stopped, the same with "sent".

local RATE, SAVED = 8, 60 -- client-side bucket per token, under 10/s, 120
local PARTNERS = {"expert:E0001", "expert:E0002", "academician:A001",
                  "society:S001", "result:R0001"}
local STAGES = {"shortlisted", "contacted", "declined", "agreement_signed"}
-- Topics of the dataset (title, tag, industry, discipline, region,
-- enterprise), so that the needs posted here match partners and show in
-- searches like real ones.
local TOPICS = {
    {"重油催化裂化装置增产丙烯", "催化裂化", "2511", "B060902", "371603107", "C001"},
    {"废加氢催化剂中钼镍钴回收", "废催化剂", "4210", "B061201", "371602008", "C003"},
    {"环氧丙烷装置HAZOP分析", "过程安全", "2614", "B061004", "371602008", "C007"},
    {"低气味聚醚多元醇开发", "聚醚多元醇", "2651", "B0401", "371602008", "C012"},
    {"MVR蒸发器结垢治理", "高盐废水", "772", "B060301", "371603002", "C017"},
    {"电解铝产品碳足迹核算", "碳足迹", "3216", "G0312", "371681003", "C021"},
    {"定型机废气VOCs治理", "VOCs", "1713", "E080405", "371602009", "C031"},
    {"冬枣裂果防控", "冬枣", "0151", "C150101", "371603101", "C037"},
    {"温室水肥一体化智能控制", "智慧农业", "6532", "C150706", "371621101", "C048"},
    {"活塞加工线视觉检测", "机器视觉", "3412", "F0116", "371602004", "C053"},
}
local WORDS = {"聚丙烯", "催化剂", "废水", "丙烯", "碳足迹", "冬枣", "机器视觉",
               "供热", "铝合金", "VOCs", "轴承", "纺织", "盐碱地", "小麦",
               "catalyst", "die casting", "polymer", "wastewater", "犊牛",
               "水肥一体化", "kxloadprobe", "聚丙烯 -熔喷", "余热 回收"}
local KINDS = {"", "need", "expert", "result", "society", "expert,academician"}
local REGIONS = {"", "371600", "371602", "371603", "371681"}
local INDUSTRIES = {"", "C", "26", "2614", "25", "01"}

threads = {}

local function read_input()
    local cfg = {threads = 1, admin = {}, need = {}}
    local f = assert(io.open(assert(os.getenv("KX_LOAD_INPUT")), "r"))
    for line in f:lines() do
        local k, v = line:match("^(%S+) (%S+)$")
        if k == "threads" then cfg.threads = tonumber(v)
        elseif k == "liaison" then cfg.liaison = v
        elseif k then table.insert(cfg[k], v) end
    end
    f:close()
    return cfg
end

function setup(thread)
    cfg = cfg or read_input()
    local n = #threads + 1
    local mine = {}
    for i, tok in ipairs(cfg.admin) do
        if (i - 1) % cfg.threads == n - 1 then table.insert(mine, tok) end
    end
    thread:set("tid", n)
    thread:set("admins", mine)
    thread:set("liaison", cfg.liaison)
    thread:set("bundled", cfg.need)
    table.insert(threads, thread)
end

-- ---- per thread ---------------------------------------------------------

local buckets, rr = {}, 0
local counter = 0
local known = {}     -- id -> {v, body, moves = {partner -> stage}, nmoves}
local idle = {}      -- ids with nothing in flight
local inflight = {}  -- id -> the request in flight
pending = {}         -- id -> the log line of a write in flight
log = {}             -- acknowledged writes
stats = {requests = 0, ok = 0, bad_status = 0, bad_body = 0, stale = 0,
         stray = 0, create = 0, update = 0, move = 0, delete = 0,
         search = 0, matches = 0, get = 0, pipeline_get = 0, paced = 0}
notes = {}           -- the first problems, for the test's output

local function note(s)
    if #notes < 10 then table.insert(notes, s) end
end

function init(args)
    math.randomseed(os.time() * 100 + tid)
    for i = 1, #admins do buckets[i] = {left = SAVED, at = os.time()} end
end

local function pick(t) return t[math.random(#t)] end

local function urlenc(s)
    return (s:gsub("[^%w%-%._~]", function(c)
        return string.format("%%%02X", string.byte(c)) end))
end

local function idle_add(id) table.insert(idle, id) end

-- One of the idle needs at random, taken out of the list, or nil.
local function idle_take()
    if #idle == 0 then return nil end
    local i = math.random(#idle)
    local id = idle[i]
    idle[i] = idle[#idle]
    idle[#idle] = nil
    return id
end

-- A token whose bucket has a write left, or nil.
local function write_token()
    local now = os.time()
    for _ = 1, #admins do
        rr = rr % #admins + 1
        local b = buckets[rr]
        b.left = math.min(SAVED, b.left + (now - b.at) * RATE)
        b.at = now
        if b.left >= 1 then
            b.left = b.left - 1
            return admins[rr]
        end
    end
    return nil
end

local function req(method, path, token, body)
    local h = {["Authorization"] = "Bearer " .. token}
    if body then h["Content-Type"] = "application/json" end
    stats.requests = stats.requests + 1
    return wrk.format(method, path, h, body)
end

-- The body of version v of need id: every field is checked after the run.
local function need_body(id, v)
    local t = TOPICS[(counter + v) % #TOPICS + 1]
    return string.format(
        '{"id":"%s","name":"负载测试 kxloadprobe %s v%d %s",' ..
        '"enterprise":"enterprise:%s","region":"%s",' ..
        '"industries":["%s"],"disciplines":["%s"],"tags":["%s","负载测试"],' ..
        '"text":"%s:压力测试写入的需求,版本%d。kxloadprobe","budget":%d}',
        id, id, v, t[1], t[6], t[5], t[3], t[4], t[2], t[1], v,
        v * 1000 + counter)
end

local function send(id, op, line)
    inflight[id] = op
    if line then pending[id] = "sent\t" .. id .. "\t" .. line end
end

local function write_request(token)
    local w = math.random()
    local id = (w >= 0.35 and #idle > 20) and idle_take() or nil
    if not id then
        counter = counter + 1
        id = string.format("LD%d-%06d", tid, counter)
        local body = need_body(id, 1)
        send(id, {kind = "create", v = 1, body = body}, "create\t" .. body)
        return req("POST", "/v1/needs", token, body)
    end
    local k = known[id]
    if w < 0.70 then
        local p, s = pick(PARTNERS), pick(STAGES)
        send(id, {kind = "move", p = p, s = s}, "move\t" .. p .. "\t" .. s)
        return req("POST", "/v1/pipeline", token, string.format(
            '{"need":"need:%s","partner":"%s","stage":"%s","note":"load %d"}',
            id, p, s, k.nmoves + 1))
    elseif w < 0.87 then
        local body = need_body(id, k.v + 1)
        send(id, {kind = "update", v = k.v + 1, body = body},
             "update\t" .. body)
        return req("PUT", "/v1/needs/" .. id, token, body)
    end
    send(id, {kind = "delete"}, "delete")
    return req("DELETE", "/v1/needs/" .. id, token)
end

local function search_request()
    local q = {"q=" .. urlenc(pick(WORDS))}
    local kind, region, ind = pick(KINDS), pick(REGIONS), pick(INDUSTRIES)
    if kind ~= "" then table.insert(q, "kind=" .. urlenc(kind)) end
    if region ~= "" then table.insert(q, "region=" .. region) end
    if ind ~= "" then table.insert(q, "industry=" .. ind) end
    table.insert(q, "page=" .. math.random(3))
    table.insert(q, "facets=" .. math.random(0, 1))
    stats.search = stats.search + 1
    return req("GET", "/v1/search?" .. table.concat(q, "&"), liaison)
end

local function read_request()
    local r = math.random()
    if r < 0.45 then return search_request() end
    local id = (r < 0.55 or r >= 0.80) and idle_take() or nil
    if r < 0.65 then
        stats.matches = stats.matches + 1
        if id then
            send(id, {kind = "matches"})
            return req("GET", "/v1/needs/" .. id .. "/matches?top=10",
                       admins[1])
        end
        return req("GET", "/v1/needs/" .. pick(bundled) ..
                   "/matches?top=" .. math.random(5, 20), liaison)
    elseif r < 0.80 then
        stats.get = stats.get + 1
        return req("GET", "/v1/needs/" .. pick(bundled), liaison)
    end
    if not id then return search_request() end
    if known[id].nmoves == 0 or math.random() < 0.5 then
        stats.get = stats.get + 1
        send(id, {kind = "get"})
        return req("GET", "/v1/needs/" .. id, admins[1])
    end
    stats.pipeline_get = stats.pipeline_get + 1
    send(id, {kind = "pipeline_get"})
    return req("GET", "/v1/pipeline?need=need:" .. id, liaison)
end

function request()
    if math.random() < 0.5 then
        local token = write_token()
        if token then return write_request(token) end
        stats.paced = stats.paced + 1
    end
    return read_request()
end

-- What a response to a request about our need id must start with.
local SHAPE = {create = '{"record":{"kind":"need"', update = '{"record":{"kind":"need"',
               get = '{"record":{"kind":"need"', move = '{"need":"need:',
               delete = '{"deleted":"need:', matches = '{"subject":"need:',
               pipeline_get = '{"total":'}

local function named(body)
    return body:match('^{"record":{"kind":"need","id":"([^"]+)"') or
           body:match('^{"need":"need:([^"]+)"') or
           body:match('^{"deleted":"need:([^"]+)"') or
           body:match('^{"subject":"need:([^"]+)"') or
           body:match('^{"total":%d+,.-"entries":%[{"need":"need:([^"]+)"')
end

-- The partner -> stage pairs of a pipeline listing.
local function stages_of(body)
    local m, n = {}, 0
    for p, s in body:gmatch('"partner":"([^"]+)","created":"[^"]*","stage":"([^"]+)"') do
        m[p], n = s, n + 1
    end
    return m, n
end

local function acked(id, op, body)
    local k = known[id]
    if op.kind == "create" then
        known[id] = {v = 1, body = op.body, moves = {}, nmoves = 0, nstages = 0}
        table.insert(log, "ack\t" .. id .. "\tcreate\t" .. op.body)
    elseif op.kind == "update" then
        k.v, k.body = op.v, op.body
        table.insert(log, "ack\t" .. id .. "\tupdate\t" .. op.body)
    elseif op.kind == "move" then
        if not k.moves[op.p] then k.nstages = k.nstages + 1 end
        k.moves[op.p], k.nmoves = op.s, k.nmoves + 1
        table.insert(log, "ack\t" .. id .. "\tmove\t" .. op.p .. "\t" .. op.s)
    elseif op.kind == "delete" then
        known[id] = nil
        stats.delete = stats.delete + 1
        table.insert(log, "ack\t" .. id .. "\tdelete")
        return
    elseif op.kind == "get" then
        -- Read after an acknowledged write: it must show that write.
        local name = k.body:match('"name":"([^"]+)"')
        if not body:find('"name":"' .. name .. '"', 1, true) then
            stats.stale = stats.stale + 1
            note("stale read of " .. id .. ": want " .. name)
        end
    elseif op.kind == "pipeline_get" then
        local m, n = stages_of(body)
        local same = n == k.nstages
        for p, s in pairs(k.moves) do same = same and m[p] == s end
        if not same then
            stats.stale = stats.stale + 1
            note("stale pipeline of " .. id .. ": " .. body:sub(1, 300))
        end
    end
    if op.kind == "create" or op.kind == "update" or op.kind == "move" then
        stats[op.kind] = stats[op.kind] + 1
    end
    idle_add(id)
end

function response(status, headers, body)
    local id = named(body)
    local op = id and inflight[id]
    if status < 200 or status > 299 then
        stats.bad_status = stats.bad_status + 1
        note("HTTP " .. status .. ": " .. body:sub(1, 300))
        return -- the need stays busy: what happened to it is unknown
    end
    stats.ok = stats.ok + 1
    if not op then
        -- A search, or a read of a dataset need: nothing to match.
        if id and id:match("^LD") then
            stats.stray = stats.stray + 1
            note("answer about " .. id .. " with nothing in flight")
        elseif not id and not body:find('^{"query":') then
            stats.bad_body = stats.bad_body + 1
            note("unexpected answer: " .. body:sub(1, 300))
        end
        return
    end
    inflight[id], pending[id] = nil, nil
    if body:sub(1, #SHAPE[op.kind]) ~= SHAPE[op.kind] then
        stats.bad_body = stats.bad_body + 1
        note(op.kind .. " of " .. id .. " answered " .. body:sub(1, 300))
        return
    end
    acked(id, op, body)
end

-- ---- after the run (the setup environment) -------------------------------

function done(summary, latency, requests)
    local f = assert(io.open(assert(os.getenv("KX_LOAD_LOG")), "w"))
    local total = {}
    for _, t in ipairs(threads) do
        for _, line in ipairs(t:get("log")) do f:write(line, "\n") end
        for _, line in pairs(t:get("pending")) do f:write(line, "\n") end
        for k, v in pairs(t:get("stats")) do total[k] = (total[k] or 0) + v end
        for _, s in ipairs(t:get("notes")) do print("load: note: " .. s) end
    end
    f:close()
    local e = summary.errors
    local s = summary.duration / 1e6
    print(string.format("load: %d requests in %.1f s, %.0f req/s; latency " ..
        "p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms",
        summary.requests, s, summary.requests / s,
        latency:percentile(50) / 1000, latency:percentile(90) / 1000,
        latency:percentile(99) / 1000, latency.max / 1000))
    print(string.format("load: writes acknowledged %d (create %d, update %d, " ..
        "move %d, delete %d); reads: search %d, matches %d, get %d, " ..
        "pipeline %d; writes deferred by pacing %d",
        total.create + total.update + total.move + total.delete, total.create,
        total.update, total.move, total.delete, total.search, total.matches,
        total.get, total.pipeline_get, total.paced))
    print(string.format("load-result connect=%d read=%d write=%d timeout=%d " ..
        "status=%d bad_status=%d bad_body=%d stale=%d stray=%d acked=%d",
        e.connect, e.read, e.write, e.timeout, e.status, total.bad_status,
        total.bad_body, total.stale, total.stray,
        total.create + total.update + total.move + total.delete))
end
