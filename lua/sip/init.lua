-- luasip: the public module. The C core (sip.core) is callback based; this
-- file turns its callbacks into tasks (coroutines) so that a call flow reads
-- top to bottom: a function that waits yields its task, and the C callback
-- that ends the wait resumes it.
local core = require "sip.core"
local task = require "sip.task"
local options = require "sip.options"
local Call = require "sip.call"
local media = require "sip.media"
require "sip.bridge"
require "sip.hold"
require "sip.transfer"

local spawn_task, current_task, wait = task.spawn_task, task.current_task, task.wait
local check_options, set, checked = options.check_options, options.set, options.checked
local auth_fields, request_headers = options.auth_fields, options.request_headers

local sip = { version = core.version, tone = media.tone }

---------------------------------------------------------------------------
-- Running
---------------------------------------------------------------------------

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

-- The sinks, in the order they came; sip.core calls one function, which
-- hands each event to every sink. A sink that fails is logged and the
-- others still get the event.
local sinks = {}

local function dispatch(ev)
  local now = table.move(sinks, 1, #sinks, 1, {})  -- a sink may remove one
  for _, fn in ipairs(now) do
    local ok, err = xpcall(fn, debug.traceback, ev)
    if not ok then io.stderr:write("luasip: trace sink failed: ", tostring(err), "\n") end
  end
end

local function remove_sink(fn)
  for i, s in ipairs(sinks) do
    if s == fn then
      table.remove(sinks, i)
      break
    end
  end
  if #sinks == 0 then core.trace(nil) end
end

-- sip.trace(true | fn) adds a sink (the printer, or fn; each once) and
-- returns a function that removes that one; sip.trace(false) removes all.
function sip.trace(on)
  local fn
  if on == true then
    fn = print_trace
  elseif on == false or on == nil then
    sinks = {}
    core.trace(nil)
    return
  elseif type(on) == "function" then
    fn = on
  else
    error("sip.trace: expected true, false or a function", 2)
  end
  local present = false
  for _, s in ipairs(sinks) do present = present or s == fn end
  if not present then sinks[#sinks + 1] = fn end
  core.trace(dispatch)
  return function() remove_sink(fn) end
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
  -- a URI, or "Display Name" <URI> (sip.core checks the rest)
  if opts.uri ~= nil and (type(opts.uri) ~= "string"
      or not (opts.uri:match("<%s*(.-)>") or opts.uri):match("^sips?:")) then
    error("sip.ua: uri must be a sip: URI, or a display name and one: \"Alice\" <sip:...>", 2)
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
  local c = checked(pcall(core.ua, opts.uri))
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
                              live_calls = {}, calls_made = 0,
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

-- The endpoint's calls that are not over, incoming and outgoing, in the
-- order they were made (a new list each time).
-- The calls not over, in the order made: a set (the call and its number),
-- so that a call's end takes it out at once however many are up.
function UA:calls()
  local live, list = self.live_calls, {}
  for call in pairs(live) do list[#list + 1] = call end
  table.sort(list, function(x, y) return live[x] < live[y] end)
  return list
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
  self.core:methods_changed()
end

-- Each incoming request runs its handler as a task. The handler answers with
-- req:respond(...) or by returning status [, reason] [, headers] [, body];
-- a handler that fails or ends without an answer gets the request a 500.
-- An INVITE comes with its session (ccall): the handler gets the call.
function UA:_dispatch(req, ccall)
  local handler = self.handlers[req.method]
  if ccall then
    return Call.incoming(self, handler, req, ccall)
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

local request_options = set { "method", "uri", "to", "from", "headers", "body", "auth" }

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
  local res, code, reason = checked(pcall(wait, "ua:request", function(k)
    local ok, c, r = self.core:request(p, k)
    if not ok then k(nil, c, r) end
  end))
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

-- Places a call and waits until it is answered (sip/call.lua).
UA.call = Call.place

sip.Tone = media.Tone
sip.Call = Call
sip.Registration = Registration
sip.UA = UA

return sip
