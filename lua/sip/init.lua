-- luasip: the public module. The C core (sip.core) is callback based; this
-- file turns its callbacks into tasks (coroutines) so that a call flow reads
-- top to bottom: a function that waits yields its task, and the C callback
-- that ends the wait resumes it.
local core = require "sip.core"

local sip = { version = core.version }

---------------------------------------------------------------------------
-- Tasks
---------------------------------------------------------------------------

-- Live tasks: coroutine -> { on_end = function(ok, err) | nil }
local tasks = setmetatable({}, { __mode = "k" })

local function log_error(co, err)
  io.stderr:write("luasip: task failed: ", debug.traceback(co, tostring(err)), "\n")
end

-- Resumes a task and finishes it when it ends: an error is logged with its
-- traceback, its <close> variables run, and its owner hears how it ended.
local function resume(co, ...)
  local r = table.pack(coroutine.resume(co, ...))
  if not r[1] then
    log_error(co, r[2])
    coroutine.close(co)
  end
  if coroutine.status(co) == "dead" then
    local t = tasks[co]
    tasks[co] = nil
    if t and t.on_end then
      -- on_end(ok, results...) or on_end(false, err)
      local hok, herr = pcall(t.on_end, table.unpack(r, 1, r.n))
      if not hok then io.stderr:write("luasip: ", tostring(herr), "\n") end
    end
  end
end

local function spawn_task(on_end, fn, ...)
  local co = coroutine.create(fn)
  tasks[co] = { on_end = on_end }
  resume(co, ...)
  return co
end

-- The running task, or an error naming what needed one.
local function current_task(what)
  local co, main = coroutine.running()
  if main or not tasks[co] then
    error(what .. " must be called inside a task (sip.run or sip.spawn)", 3)
  end
  return co
end

-- Waits inside a task until the callback handed to start is called, and
-- returns what it was called with. The callback may come at once (before
-- the yield) or later from the loop; a second call is ignored.
local function wait(what, start)
  local co = current_task(what)
  local done, early = false, nil
  start(function(...)
    if done then return end
    done = true
    if coroutine.status(co) == "suspended" then
      resume(co, ...)
    else
      early = table.pack(...)
    end
  end)
  if early then return table.unpack(early, 1, early.n) end
  return coroutine.yield()
end

function sip.spawn(fn, ...)
  if type(fn) ~= "function" then error("sip.spawn: expected a function", 2) end
  return spawn_task(nil, fn, ...)
end

function sip.run(fn)
  if fn ~= nil and type(fn) ~= "function" then error("sip.run: expected a function", 2) end
  if fn then sip.spawn(fn) end
  core.run()
end

function sip.sleep(seconds)
  if type(seconds) ~= "number" then error("sip.sleep: expected seconds as a number", 2) end
  wait("sip.sleep", function(k) core.timer(seconds, k) end)
end

sip.now = core.now
sip.stop = core.stop
-- The media clock's lateness since the first call (or the last reset):
-- {ticks, streams, skipped, late_max, late_p50, late_p99, late_p999} in ms.
sip.media_stats = core.media_stats

---------------------------------------------------------------------------
-- Tracing
---------------------------------------------------------------------------

local function print_trace(ev)
  io.stdout:write(("%s %s %s %s:%d (%.6f)\n%s\n"):format(
    ev.dir == "out" and "-->" or "<--", ev.dir == "out" and "to" or "from",
    ev.transport, ev.addr, ev.port, ev.time, ev.text))
  io.stdout:flush()
end

function sip.trace(on)
  if on == true then
    core.trace(print_trace)
  elseif not on then
    core.trace(nil)
  elseif type(on) == "function" then
    core.trace(on)
  else
    error("sip.trace: expected true, false or a function", 2)
  end
end

---------------------------------------------------------------------------
-- Option checking
---------------------------------------------------------------------------

local function check_options(what, opts, allowed)
  if type(opts) ~= "table" then error(what .. ": expected a table of options", 3) end
  for k in pairs(opts) do
    if not allowed[k] then error(("%s: unknown option '%s'"):format(what, tostring(k)), 3) end
  end
end

local function set(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end

---------------------------------------------------------------------------
-- Endpoints
---------------------------------------------------------------------------

local UA = {}
UA.__index = UA

-- "udp:127.0.0.1:5060", "tcp:[::1]:0" -> proto, host, port
local function parse_listen(spec)
  if type(spec) ~= "string" then error("sip.ua: listen entries must be strings", 4) end
  local proto, host, port = spec:match("^(%a+):%[([^%]]+)%]:(%d+)$")
  if not proto then proto, host, port = spec:match("^(%a+):([^:]+):(%d+)$") end
  proto = proto and proto:lower()
  if not proto or (proto ~= "udp" and proto ~= "tcp") then
    error(("sip.ua: bad listen address '%s' (want udp:HOST:PORT or tcp:HOST:PORT)"):format(spec), 4)
  end
  return proto, host, tonumber(port)
end

local ua_options = set { "uri", "listen", "timers", "rtp_ports", "max_message", "max_calls" }

function sip.ua(opts)
  opts = opts or {}
  check_options("sip.ua", opts, ua_options)
  if opts.uri ~= nil and (type(opts.uri) ~= "string" or not opts.uri:match("^sips?:")) then
    error("sip.ua: uri must be a sip: URI", 2)
  end
  local listen = opts.listen or { "udp:127.0.0.1:0" }
  if type(listen) == "string" then listen = { listen } end
  if type(listen) ~= "table" then error("sip.ua: listen must be a list of addresses", 2) end
  local specs = {}
  for i, spec in ipairs(listen) do specs[i] = table.pack(parse_listen(spec)) end

  local timers
  if opts.timers ~= nil then
    local t = opts.timers
    check_options("sip.ua timers", t, set { "t1", "t2", "t4" })
    local function ms(name, dflt)
      local v = t[name]
      if v == nil then return dflt end
      if type(v) ~= "number" or v <= 0 or v > 600 then
        error(("sip.ua: timer %s must be a number of seconds in (0, 600]"):format(name), 3)
      end
      return math.max(1, math.floor(v * 1000 + 0.5))
    end
    timers = { ms("t1", 500), ms("t2", 4000), ms("t4", 5000) }
  end
  local max_message = opts.max_message
  if max_message ~= nil and (math.type(max_message) ~= "integer" or max_message < 1024
      or max_message > 65535) then
    error("sip.ua: max_message must be an integer number of bytes in [1024, 65535]", 2)
  end
  local c = core.ua(opts.uri)
  if timers then c:timers(timers[1], timers[2], timers[3]) end
  if max_message then c:max_message(max_message) end
  for i, s in ipairs(specs) do
    local ok, err = c:listen(s[1], s[2], s[3])
    if not ok then
      c:close()
      return nil, err, ("cannot listen on %s: %s"):format(listen[i], err)
    end
  end

  local self = setmetatable({ core = c, uri = opts.uri, handlers = {}, methods = {},
                              t1 = timers and timers[1] / 1000 or 0.5 }, UA)
  if opts.max_calls ~= nil then
    if math.type(opts.max_calls) ~= "integer" or opts.max_calls < 1 then
      c:close()
      error("sip.ua: max_calls must be a positive integer", 2)
    end
    c:max_calls(opts.max_calls)
  end
  if opts.rtp_ports ~= nil then
    local r = opts.rtp_ports
    if type(r) ~= "table" or math.type(r[1]) ~= "integer" or math.type(r[2]) ~= "integer" then
      c:close()
      error("sip.ua: rtp_ports must be {min, max} (integers)", 2)
    end
    local ok, err = pcall(c.rtp_ports, c, r[1], r[2])
    if not ok then
      c:close()
      error("sip.ua: " .. tostring(err):gsub("^.-: ", ""), 2)
    end
  end
  c:handler(function(req, ccall) self:_dispatch(req, ccall) end, self.methods)
  return self
end

function UA:address(proto)
  return self.core:address(proto or "udp")
end

function UA:close()
  self.core:close()
end

function UA:on(method, fn)
  if type(method) ~= "string" or not method:match("^[%w%-%.!%%%*_%+`'~]+$") then
    error("ua:on: expected a method name", 2)
  end
  if fn ~= nil and type(fn) ~= "function" then error("ua:on: expected a function or nil", 2) end
  method = method:upper()
  self.handlers[method] = fn
  self.methods[method] = fn and true or nil
end

-- Each incoming request runs its handler as a task. The handler answers with
-- req:respond(...) or by returning status [, reason] [, headers] [, body];
-- a handler that fails or ends without an answer gets the request a 500.
-- An INVITE comes with its session (ccall): the handler gets the call.
function UA:_dispatch(req, ccall)
  local handler = self.handlers[req.method]
  if ccall then
    return self:_incoming_call(handler, req, ccall)
  end
  if not handler then
    req:respond(500)
    return
  end
  spawn_task(function(ok, status, reason, headers, body)
    if req.answered then return end
    if ok and type(status) == "number" then
      local done, err = pcall(req.respond, req, status, reason, headers, body)
      if done then return end
      io.stderr:write("luasip: handler for ", req.method, " returned a bad answer: ",
        tostring(err), "\n")
    end
    req:respond(500, ok and "Handler Did Not Answer" or "Handler Failed")
  end, function()
    return handler(req)
  end)
end

-- Whether a header table names a header (long or compact form, any case).
local function has_header(headers, long, compact)
  for k in pairs(headers or {}) do
    local n = type(k) == "string" and k:lower()
    if n == long or n == compact then return true end
  end
  return false
end

local request_options = set { "method", "uri", "to", "from", "headers", "body", "auth" }

local function auth_fields(what, auth, p)
  if auth == nil then return end
  if type(auth) ~= "table" or type(auth.user) ~= "string" or type(auth.password) ~= "string" then
    error(what .. ": auth must be {user = string, password = string}", 3)
  end
  p.user, p.password = auth.user, auth.password
end

-- The headers and body options of a request, checked; a body gets its type
-- (RFC 3261 §20.15): plain text unless told.
local function request_headers(what, opts)
  if opts.headers ~= nil and type(opts.headers) ~= "table" then
    error(what .. ": headers must be a table", 3)
  end
  if opts.body ~= nil and type(opts.body) ~= "string" then
    error(what .. ": body must be a string", 3)
  end
  local headers = opts.headers
  if opts.body and #opts.body > 0 and not has_header(headers, "content-type", "c") then
    headers = { ["Content-Type"] = "text/plain" }
    for k, v in pairs(opts.headers or {}) do headers[k] = v end
  end
  return headers
end

-- Sends a request outside a dialog and waits for the final answer: a 2xx
-- returns the response; anything else nil, code, reason (and the response).
function UA:request(opts)
  check_options("ua:request", opts, request_options)
  if type(opts.method) ~= "string" or type(opts.uri) ~= "string" then
    error("ua:request: method and uri are required strings", 2)
  end
  local headers = request_headers("ua:request", opts)
  local p = { method = opts.method:upper(), uri = opts.uri, to = opts.to, from = opts.from,
              headers = headers, body = opts.body }
  auth_fields("ua:request", opts.auth, p)
  if p.method == "INVITE" or p.method == "ACK" or p.method == "CANCEL" then
    error("ua:request: use ua:call for " .. p.method, 2)
  end
  local res, code, reason = wait("ua:request", function(k)
    local ok, c, r = self.core:request(p, k)
    if not ok then k(nil, c, r) end
  end)
  if res and res.status >= 300 then return nil, res.status, res.reason, res end
  return res, code, reason
end

---------------------------------------------------------------------------
-- Registration
---------------------------------------------------------------------------

local Registration = {}
Registration.__index = Registration

local register_options = set { "registrar", "aor", "user", "password", "expires", "auth" }

-- Registers and waits for the registrar's answer; then refreshes on its own
-- until reg:unregister() or the endpoint closes.
function UA:register(opts)
  check_options("ua:register", opts, register_options)
  if type(opts.registrar) ~= "string" then error("ua:register: registrar is required", 2) end
  -- the address of record is the endpoint's identity unless told otherwise
  local p = { registrar = opts.registrar, aor = opts.aor or self.uri, user = opts.user,
              password = opts.password, expires = opts.expires }
  if opts.auth then
    auth_fields("ua:register", opts.auth, p)
    p.user = p.user or opts.auth.user
  end
  current_task("ua:register")
  local reg = setmetatable({ ua = self, state = "registering" }, Registration)
  local creg, code, reason = self.core:register(p, function(res, c, r)
    if res then
      reg.state = reg.state == "unregistering" and "unregistered" or "registered"
      reg.expires = reg.core:expires()
    else
      reg.state = c == "closed" and "closed" or "failed"
      reg.error = { code = c, reason = r }
    end
    local w = reg._waiter
    reg._waiter = nil
    if w then w(res, c, r) end
  end)
  if not creg then return nil, code, reason end
  reg.core = creg
  local res, c, r = wait("ua:register", function(k) reg._waiter = k end)
  if not res then
    creg:close()
    return nil, c, r
  end
  return reg
end

-- Sends Expires: 0 for our binding and waits for the answer.
function Registration:unregister()
  if self.state == "unregistered" or self.state == "closed" then return true end
  local res, c, r = wait("reg:unregister", function(k)
    self._waiter = k
    self.state = "unregistering"
    local ok, code, reason = self.core:unregister()
    if not ok then
      self._waiter = nil
      k(nil, code, reason)
    end
  end)
  self.core:close()
  if res then
    self.state = "unregistered"
    return true
  end
  self.state = "failed"
  return nil, c, r
end

-- Stops refreshing without telling the registrar.
function Registration:close()
  self.core:close()
  if self.state ~= "unregistered" then self.state = "closed" end
end

---------------------------------------------------------------------------
-- Calls
---------------------------------------------------------------------------

local Call = {}

-- Fields read from the session as it is now.
local live_fields = set { "state", "id", "local_uri", "remote_uri", "remote_sdp", "local_sdp" }

Call.__index = function(self, k)
  local method = Call[k]
  if method ~= nil then return method end
  if live_fields[k] then return self.core:info()[k] end
  if k == "media" then return self.core:media() end
  return nil
end

Call.__tostring = function(self) return tostring(self.core) end

-- A handler of call:on runs as a task of its own, so it may wait.
function Call:_emit(event, ...)
  local fn = self.handlers[event]
  if fn then spawn_task(nil, fn, self, ...) end
end

-- Hands the outcome to whoever waits for it (call, answer, modify).
function Call:_wake(what, ...)
  local k = self.waiters[what]
  self.waiters[what] = nil
  if k then k(...) end
end

local function has_sdp(msg)
  local ct = msg and msg:header("Content-Type")
  return ct ~= nil and ct:lower():match("^%s*application/sdp") ~= nil and #msg.body > 0
end

function Call:_event(ev, a, b, c, d)
  if ev == "progress" then
    if self.on_progress then spawn_task(nil, self.on_progress, self, a, b) end
    if not self.early and has_sdp(c) and self.core:media() then
      self.early = true
      if self.on_early then spawn_task(nil, self.on_early, self) end
    end
  elseif ev == "established" then
    self:_wake("established", true)
  elseif ev == "modified" then
    self:_emit("modified")
    self:_hold_check()
  elseif ev == "modify_done" then
    self:_wake("modify", a, b, c)
  elseif ev == "request" then
    self:_request(a)
  elseif ev == "dtmf" then
    self:_digit(a)
  elseif ev == "played" then
    self:_wake("play", true)
  elseif ev == "recorded" then
    -- the recorder closes before the end is told: then the far end hung up
    if self.state == "ended" then self:_wake("record", nil, "hangup", a)
    else self:_wake("record", a) end
  elseif ev == "ended" then
    self.end_reason, self.end_status = a, b
    if self.pending_timer then self.pending_timer:cancel() end
    self:_wake("play", nil, "hangup")
    self:_wake("digit", nil, "hangup")
    if self.direction == "outgoing" then
      self:_wake("established", nil, b or a, c or a, d)
    else
      self:_wake("established", nil, a, c)
    end
    self:_wake("modify", nil, a, "the call ended")
    local waiting = self.enders
    self.enders = {}
    for _, k in ipairs(waiting) do k(a) end
    self:_emit("ended", a)
  end
end

-- The far end's direction: sendonly/inactive from it is hold (RFC 3264 §8.4).
function Call:_hold_check()
  local m = self.core:media()
  local held = m and m.hold_by_peer or false
  if held ~= self.held then
    self.held = held
    self:_emit(held and "hold" or "unhold")
  end
end

-- INFO and the like: call:on("info", fn(call, req)) answers like a request
-- handler; without one INFO and OPTIONS get 200, anything else 405.
function Call:_request(req)
  local fn = self.handlers[req.method:lower()]
  if not fn then
    req:respond((req.method == "INFO" or req.method == "OPTIONS") and 200 or 405)
    return
  end
  spawn_task(function(ok, status, reason, headers, body)
    if req.answered then return end
    if ok and type(status) == "number" and pcall(req.respond, req, status, reason, headers, body) then
      return
    end
    req:respond(ok and 200 or 500)
  end, fn, self, req)
end

local function new_call(ua, ccore, direction, request)
  local self = setmetatable({ core = ccore, ua = ua, direction = direction, request = request,
                              handlers = {}, waiters = {}, enders = {}, held = false,
                              pending_digits = "" }, Call)
  ccore:events(function(...) self:_event(...) end)
  return self
end

local function pending(call)
  local st = call.state
  return st == "incoming" or (st == "early" and call.direction == "incoming")
end

-- An incoming call runs the INVITE handler as a task with the call.
function UA:_incoming_call(handler, req, ccall)
  local call = new_call(self, ccall, "incoming", req)
  spawn_task(function(ok, status, reason, headers)
    if not ok then
      -- the script failed: the call ends, the process goes on
      if pending(call) then call.core:reject(500, "Handler Failed")
      elseif call.state ~= "ended" then call.core:hangup() end
    elseif pending(call) then
      if type(status) == "number" then
        local done = pcall(call.core.reject, call.core, status, reason, headers)
        if not done then call.core:reject(500, "Handler Returned A Bad Status") end
      else
        -- left to other tasks; nobody may keep the caller waiting for ever
        call.pending_timer = core.timer(64 * self.t1, function()
          if pending(call) then call.core:reject(480) end
        end)
      end
    end
  end, handler, call)
end

local call_options = set { "timeout", "auth", "headers", "from", "to", "offer",
                           "on_progress", "on_early" }

-- Places a call and waits until it is answered: the call, or nil, code,
-- reason, response.
function UA:call(uri, opts)
  opts = opts or {}
  if type(uri) ~= "string" then error("ua:call: expected a URI string", 2) end
  check_options("ua:call", opts, call_options)
  if opts.timeout ~= nil and (type(opts.timeout) ~= "number" or opts.timeout <= 0) then
    error("ua:call: timeout must be a positive number of seconds", 2)
  end
  if opts.headers ~= nil and type(opts.headers) ~= "table" then
    error("ua:call: headers must be a table", 2)
  end
  for _, name in ipairs { "on_progress", "on_early" } do
    if opts[name] ~= nil and type(opts[name]) ~= "function" then
      error(("ua:call: %s must be a function"):format(name), 2)
    end
  end
  for _, name in ipairs { "from", "to" } do
    if opts[name] ~= nil and type(opts[name]) ~= "string" then
      error(("ua:call: %s must be a string"):format(name), 2)
    end
  end
  current_task("ua:call")
  local p = { uri = uri, from = opts.from, to = opts.to, headers = opts.headers,
              late_offer = opts.offer == false }
  auth_fields("ua:call", opts.auth, p)
  local ccall, code, reason = self.core:call(p)
  if not ccall then return nil, code, reason end
  local call = new_call(self, ccall, "outgoing")
  call.on_progress, call.on_early = opts.on_progress, opts.on_early
  local timer
  if opts.timeout then
    -- no answer in time: CANCEL; the 487 that follows is the outcome
    timer = core.timer(opts.timeout, function()
      if call.state == "calling" or call.state == "early" then call.core:hangup() end
    end)
  end
  local ok, c, r, res = wait("ua:call", function(k) call.waiters.established = k end)
  if timer then timer:cancel() end
  if ok then return call end
  return nil, c, r, res
end

function Call:ring()
  return self.core:ring()
end

function Call:progress()
  return self.core:progress()
end

-- 200 with SDP; waits for the ACK.
function Call:answer()
  if self.state == "ended" then return nil, self.end_reason end
  local ok, err = self.core:answer()
  if not ok then return nil, err end
  return wait("call:answer", function(k) self.waiters.established = k end)
end

function Call:reject(status, reason, headers)
  status = status or 486
  if math.type(status) ~= "integer" then error("call:reject: status must be an integer", 2) end
  if reason ~= nil and type(reason) ~= "string" then error("call:reject: reason must be a string", 2) end
  if headers ~= nil and type(headers) ~= "table" then error("call:reject: headers must be a table", 2) end
  if status < 300 or status > 699 then error("call:reject: status must be 300-699", 2) end
  return self.core:reject(status, reason, headers)
end

function Call:redirect(uri, status)
  if type(uri) ~= "string" or uri:find("[\r\n<>]") then error("call:redirect: expected a URI", 2) end
  return self.core:reject(status or 302, nil, { Contact = "<" .. uri .. ">" })
end

function Call:hangup()
  if self.state == "ended" then return true end
  return self.core:hangup()
end

-- Waits until the call is over; returns why it ended.
function Call:wait()
  if self.state == "ended" then return self.end_reason end
  return wait("call:wait", function(k) table.insert(self.enders, k) end)
end

local modify_options = set { "direction", "method" }
local directions = set { "sendrecv", "sendonly", "recvonly", "inactive" }

-- A new offer by re-INVITE or UPDATE; waits for the answer.
function Call:modify(opts)
  opts = opts or {}
  check_options("call:modify", opts, modify_options)
  local dir = opts.direction or "sendrecv"
  if not directions[dir] then error("call:modify: bad direction '" .. tostring(dir) .. "'", 2) end
  local method = opts.method and tostring(opts.method):upper() or "INVITE"
  if method ~= "INVITE" and method ~= "UPDATE" then
    error("call:modify: method must be INVITE or UPDATE", 2)
  end
  current_task("call:modify")
  local ok, err = self.core:modify(dir, method == "UPDATE")
  if not ok then return nil, err end
  local status, c, r = wait("call:modify", function(k) self.waiters.modify = k end)
  if status then return true end
  return nil, c, r
end

local request_in_call_options = set { "method", "headers", "body" }

-- Sends a request in the call (INFO, OPTIONS, MESSAGE ...) and waits for
-- its final answer: true and the response for a 2xx, else nil, code, reason.
-- (call.request is the INVITE of an incoming call, so this is call:send.)
function Call:send(opts)
  check_options("call:send", opts, request_in_call_options)
  if type(opts.method) ~= "string" then error("call:send: method is required", 2) end
  local headers = request_headers("call:send", opts)
  local res, code, reason = wait("call:send", function(k)
    local ok, err = self.core:request(opts.method:upper(), headers, opts.body, k)
    if not ok then k(nil, err, "the call is not established") end
  end)
  if res and res.status >= 300 then return nil, res.status, res.reason, res end
  if res then return true, res end
  return nil, code, reason
end

-- INFO in the call (RFC 6086): {headers =, body =}; true once answered 2xx.
function Call:info(opts)
  opts = opts or {}
  check_options("call:info", opts, set { "headers", "body" })
  return self:send { method = "INFO", headers = opts.headers, body = opts.body }
end

-- Events of a call; a request in the call is the event named by its method.
local call_events = set { "ended", "modified", "hold", "unhold", "dtmf", "info", "refer",
                          "notify", "options", "message" }

function Call:on(event, fn)
  if type(event) ~= "string" then error("call:on: expected an event name", 2) end
  if not call_events[event] then error("call:on: unknown event '" .. event .. "'", 2) end
  if fn ~= nil and type(fn) ~= "function" then error("call:on: expected a function or nil", 2) end
  self.handlers[event] = fn
end

---------------------------------------------------------------------------
-- Media: tones, playback, recording, digits
---------------------------------------------------------------------------

local Tone = {}
Tone.__index = Tone
Tone.__tostring = function(t) return "sip.tone(" .. t.name .. ")" end

-- A tone is rendered once and shared by every call that plays it, for as
-- long as something holds it.
local tone_cache = setmetatable({}, { __mode = "v" })

local tone_options = set { "country" }
local custom_tone_options = set { "freqs", "on", "off", "level" }

function sip.tone(name, opts)
  local key, clip, seconds
  if type(name) == "string" then
    opts = opts or {}
    check_options("sip.tone", opts, tone_options)
    if opts.country ~= nil and type(opts.country) ~= "string" then
      error("sip.tone: country must be a string such as \"us\"", 2)
    end
    key = name .. "/" .. (opts.country or "us")
    local cached = tone_cache[key]
    if cached then return cached end
    local ok, c, secs = pcall(core.tone, name, opts.country and opts.country:lower())
    if not ok then error(c, 2) end
    clip, seconds = c, secs
  elseif type(name) == "table" then
    check_options("sip.tone", name, custom_tone_options)
    local freqs, on, off = name.freqs, name.on, name.off
    if type(freqs) ~= "table" then error("sip.tone: freqs must be a list of frequencies", 2) end
    if (on == nil) ~= (off == nil) then error("sip.tone: on and off go together", 2) end
    if on ~= nil and (type(on) ~= "number" or type(off) ~= "number" or on <= 0 or off < 0) then
      error("sip.tone: on and off must be seconds (on > 0)", 2)
    end
    local spec = { freqs = freqs, level = name.level,
                   cadence = on and { math.floor(on * 1000 + 0.5), math.floor(off * 1000 + 0.5) } }
    key = table.concat(freqs, "+") .. "/" .. tostring(on) .. "/" .. tostring(off) .. "/"
      .. tostring(name.level)
    local cached = tone_cache[key]
    if cached then return cached end
    local ok, c, secs = pcall(core.tone, spec)
    if not ok then error(c, 2) end
    clip, seconds = c, secs
  else
    error("sip.tone: expected a tone name or {freqs =, on =, off =}", 2)
  end
  local t = setmetatable({ name = key, clip = clip, seconds = seconds }, Tone)
  tone_cache[key] = t
  return t
end

local function clip_of(source)
  if getmetatable(source) == Tone then return source.clip end
  if type(source) == "string" then
    -- the cache shares one decoding among every call that plays the file
    local clip, err = core.sound(source)
    if not clip then error("call:play: " .. err, 3) end
    return clip
  end
  error("call:play: expected a file name or a sip.tone", 3)
end

local play_options = set { "loop", "interrupt" }

-- Plays a file or tone into the call; yields until it has played (with
-- loop, until call:stop()). nil, "stopped" | "hangup" | "dtmf", digit.
function Call:play(source, opts)
  opts = opts or {}
  check_options("call:play", opts, play_options)
  if opts.interrupt ~= nil and opts.interrupt ~= "dtmf" then
    error("call:play: interrupt must be \"dtmf\"", 2)
  end
  local clip = clip_of(source)
  current_task("call:play")
  if self.state == "ended" then return nil, "hangup" end
  -- what played before is stopped, and its task told so
  self:_wake("play", nil, "stopped")
  return wait("call:play", function(k)
    local ok, err = self.core:play(clip, opts.loop and true or false)
    if not ok then return k(nil, err) end
    self.play_interrupt = opts.interrupt == "dtmf"
    self.waiters.play = k
  end)
end

-- Stops what plays and what records.
function Call:stop()
  if self.state == "ended" then return end
  if self.core:stop_play() or self.waiters.play then self:_wake("play", nil, "stopped") end
  local secs = self.core:stop_record()
  if secs then self:_wake("record", secs) end
end

local record_options = set { "max", "silence" }

-- Records what the far end sends into a WAV file; yields until max seconds,
-- silence seconds of quiet after speech, call:stop() or the end of the
-- call; returns the seconds recorded (nil, "hangup", seconds at the end).
function Call:record(path, opts)
  opts = opts or {}
  if type(path) ~= "string" then error("call:record: expected a file name", 2) end
  check_options("call:record", opts, record_options)
  for _, k in ipairs { "max", "silence" } do
    if opts[k] ~= nil and (type(opts[k]) ~= "number" or opts[k] <= 0) then
      error(("call:record: %s must be a positive number of seconds"):format(k), 2)
    end
  end
  current_task("call:record")
  if self.state == "ended" then return nil, "hangup" end
  return wait("call:record", function(k)
    local ok, err, msg = self.core:record(path, opts.max, opts.silence)
    if not ok then return k(nil, err, msg) end
    self.waiters.record = k
  end)
end

-- A digit from the far end: to collect, to a playing prompt that it
-- interrupts, to call:on("dtmf").
function Call:_digit(d)
  self:_emit("dtmf", d)
  if self.play_interrupt and self.waiters.play then
    self.core:stop_play()
    self.play_interrupt = false
    self.pending_digits = self.pending_digits .. d
    self:_wake("play", nil, "dtmf", d)
    return
  end
  if self.waiters.digit then
    self:_wake("digit", d)
  else
    self.pending_digits = self.pending_digits .. d
  end
end

local collect_options = set { "max", "timeout", "terminators", "prompt" }

-- Collects digits: until max of them, a terminator (not returned), or
-- timeout seconds without a key (then what came so far, or nil, "timeout").
function Call:collect(opts)
  opts = opts or {}
  check_options("call:collect", opts, collect_options)
  local max, timeout, terms = opts.max or 1, opts.timeout or 5, opts.terminators or ""
  if math.type(max) ~= "integer" or max < 1 then error("call:collect: max must be a positive integer", 2) end
  if type(timeout) ~= "number" or timeout <= 0 then error("call:collect: timeout must be seconds", 2) end
  if type(terms) ~= "string" then error("call:collect: terminators must be a string", 2) end
  current_task("call:collect")
  if self.state == "ended" then return nil, "hangup" end
  self.pending_digits = ""
  if opts.prompt ~= nil then
    local ok, why = self:play(opts.prompt, { interrupt = "dtmf" })
    if not ok and why == "hangup" then return nil, "hangup" end
  end
  local got = ""
  while true do
    while #self.pending_digits > 0 do
      local d = self.pending_digits:sub(1, 1)
      self.pending_digits = self.pending_digits:sub(2)
      if terms:find(d, 1, true) then return got end
      got = got .. d
      if #got >= max then return got end
    end
    local timer
    local d, why = wait("call:collect", function(k)
      self.waiters.digit = k
      timer = core.timer(timeout, function() self:_wake("digit", nil, "timeout") end)
    end)
    timer:cancel()
    if not d then
      if why == "timeout" and #got > 0 then return got end
      return nil, why
    end
    self.pending_digits = self.pending_digits .. d
  end
end

-- Sends digits as telephone-events (RFC 4733); does not wait.
function Call:send_dtmf(digits)
  if type(digits) ~= "string" or not digits:match("^[0-9%*#A-Da-d]+$") then
    error("call:send_dtmf: expected digits 0-9 * # A-D", 2)
  end
  return self.core:dtmf(digits:upper())
end

function Call:stats()
  return self.core:stats()
end

sip.Tone = Tone
sip.Call = Call
sip.Registration = Registration
sip.UA = UA

return sip
