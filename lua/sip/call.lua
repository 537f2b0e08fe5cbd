-- Calls: the Lua side of an INVITE session (sip.core's call userdata).
-- Each event of the session (csrc/lua/l_call.c) arrives in Call:_event and
-- wakes the task that waits for it, or runs the handlers of call:on.
local core = require "sip.core"
local task = require "sip.task"
local options = require "sip.options"

local spawn_task, current_task, wait = task.spawn_task, task.current_task, task.wait
local check_options, set, checked = options.check_options, options.set, options.checked
local auth_fields, request_headers = options.auth_fields, options.request_headers

local Call = {}

-- Fields read from the session as it is now.
local live_fields = set { "state", "id", "local_uri", "remote_uri", "remote_sdp", "local_sdp",
                         "local_tag", "remote_tag", "remote_target" }

Call.__index = function(self, k)
  local method = Call[k]
  if method ~= nil then return method end
  if k == "state" then return self.core:state() end  -- the field read most
  if live_fields[k] then return self.core:info()[k] end
  if k == "media" then return self.core:media() end
  if k == "history" then return self.core:history() end
  -- an outgoing call's INVITE: the one sent last (a retry's after a
  -- challenge); an incoming call's is a field
  if k == "request" then return self.core:invite() end
  -- who holds whom: "local" (our call:hold), "remote" (the far end's), "both"
  if k == "held" then
    local l, r = self.local_hold, self.peer_hold
    return l and r and "both" or l and "local" or r and "remote" or nil
  end
  return nil
end

Call.__tostring = function(self) return tostring(self.core) end

-- A handler of call:on runs as a task of its own, so it may wait. (Tables
-- that most calls never need, handlers and enders, start as false: a field
-- that is present, even false, is found without running Call.__index.)
local function emit(self, event, ...)
  local fn = self.handlers and self.handlers[event]
  if fn then spawn_task(nil, fn, self, ...) end
end
Call._emit = emit

-- Hands the outcome to whoever waits for it (call, answer, modify).
local function wake(self, what, ...)
  local k = self.waiters[what]
  if k then
    self.waiters[what] = nil
    k(...)
  end
end
Call._wake = wake

-- Whether a message has a body of the SDP media type (spelled once, in
-- csrc/sip/sdp.h), as the session's own check reads its Content-Type.
local sdp_media_type = core.sdp_media_type
local function has_sdp(msg)
  local ct = msg and msg:header("Content-Type")
  local media_type = ct and ct:match("^%s*([^;%s]+)")
  return media_type ~= nil and media_type:lower() == sdp_media_type and #msg.body > 0
end

-- The Lua call of a call's userdata, among the endpoint's calls not over.
local function call_of(ua, ccall)
  for call in pairs(ua.live_calls) do
    if call.core == ccall then return call end
  end
  return nil
end

-- The events come most often in this order: established, ended.
local function event(self, ev, a, b, c, d, e)
  if ev == "established" then
    wake(self, "established", true)
    if self.bridged then self:_bridge_media() end
  elseif ev == "ended" then
    self.end_reason, self.end_status = a, b
    -- "replaced": an INVITE with Replaces took its place (RFC 3891)
    if e then self.replaced_by = call_of(self.ua, e) end
    self:_forget()
    if self.pending_timer then self.pending_timer:cancel() end
    wake(self, "play", nil, "hangup")
    wake(self, "digit", nil, "hangup")
    if self.direction == "outgoing" then
      wake(self, "established", nil, b or a, c or a, d)
    else
      wake(self, "established", nil, a, c)
    end
    wake(self, "modify", nil, a, "the call ended")
    if self.bridged then self:_bridge_ended(a) end
    -- a transfer we accepted (transfer.lua) tells the end once its outcome
    -- is known: "transferred" when the new call is up
    if self.transferring then wake(self, "transfer_end") else self:_tell_end() end
  elseif ev == "progress" then
    if self.on_progress then spawn_task(nil, self.on_progress, self, a, b) end
    if not self.early and has_sdp(c) and self.core:media() then
      self.early = true
      if self.bridged then self:_bridge_media() end
      if self.on_early then spawn_task(nil, self.on_early, self) end
    end
  elseif ev == "modified" then
    emit(self, "modified")
    self:_hold_check()
  elseif ev == "modify_done" then
    -- an answer may say that the far end holds us (RFC 6337 §5.2)
    self:_hold_check()
    wake(self, "modify", a, b, c)
  elseif ev == "request" then
    self:_request(a)
  elseif ev == "dtmf" then
    self:_digit(a)
  elseif ev == "played" then
    wake(self, "play", true)
  elseif ev == "recorded" then
    -- a write that failed (b, c) says more than the end of the call; the
    -- recorder closes before the end is told: then the far end hung up
    if b then wake(self, "record", nil, b, c)
    elseif self.state == "ended" then wake(self, "record", nil, "hangup", a)
    else wake(self, "record", a) end
  end
end
Call._event = event

-- Wakes the tasks in call:wait and runs the "ended" handler: why the call
-- ended, and the call that took its place (Replaces, a transfer).
function Call:_tell_end()
  local waiting = self.enders
  self.enders = false
  if waiting then
    for _, k in ipairs(waiting) do k(self.end_reason, self.replaced_by) end
  end
  emit(self, "ended", self.end_reason)
end

-- The far end's direction: sendonly/inactive from it is hold (RFC 3264 §8.4).
function Call:_hold_check()
  local m = self.core:media()
  local held = m and m.hold_by_peer or false
  if held ~= self.peer_hold then
    self.peer_hold = held
    emit(self, held and "hold" or "unhold")
  end
end

-- The requests a call takes and who answers them, from the one list in C
-- (csrc/sip/sess.c): "call" (the session itself), "handler or 200",
-- "handler or 405".
local call_methods = core.call_methods

-- The Allow value of this call: what it takes without a handler, and the
-- methods it has a handler for.
function Call:_allow()
  local allow = self.core:allow()
  local have = {}
  for m in allow:gmatch("[^, ]+") do have[m] = true end
  for event in pairs(self.handlers or {}) do
    local m = event:upper()
    if call_methods[m] and not have[m] then allow = allow .. ", " .. m end
  end
  return allow
end

-- INFO and the like: call:on("info", fn(call, req)) answers like a request
-- handler; without one INFO and OPTIONS get 200, anything else 405 with
-- the Allow header of RFC 3261 §21.4.6.
function Call:_request(req)
  -- REFER: the handler may refuse, else the call is transferred (transfer.lua)
  if call_methods[req.method] == "handler or transfer" then return self:_referred(req) end
  local fn = self.handlers and self.handlers[req.method:lower()]
  if not fn then
    if call_methods[req.method] == "handler or 200" then
      req:respond(200)
    else
      req:respond(405, nil, { Allow = self:_allow() })
    end
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
                              handlers = false, waiters = {}, enders = false,
                              peer_hold = false, local_hold = false, music = false,
                              pending_timer = false, early = false, on_progress = false,
                              on_early = false, pending_digits = "", bridged = false,
                              transferring = false }, Call)
  ccore:events(function(...) event(self, ...) end)
  -- ua:calls() lists the calls that are not over, in the order made
  ua.calls_made = ua.calls_made + 1
  ua.live_calls[self] = ua.calls_made
  return self
end

function Call:_forget()
  self.ua.live_calls[self] = nil
end

local function pending(call)
  local st = call.state
  return st == "incoming" or (st == "early" and call.direction == "incoming")
end

-- An incoming call runs the INVITE handler as a task with the call. One
-- that replaces a call of ours (Replaces, RFC 3891) knows it: call.replaces.
function Call.incoming(self, handler, req, ccall)
  local replaced = ccall:replaces()
  local call = new_call(self, ccall, "incoming", req)
  if replaced then call.replaces = call_of(self, replaced) end
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
                           "on_progress", "on_early", "follow" }

-- follow = true | n: new INVITEs after 3xx, at most (true: 5)
local function follow_hops(follow)
  if follow == nil or follow == false then return 0 end
  if follow == true then return 5 end
  if math.type(follow) ~= "integer" or follow < 0 then
    error("ua:call: follow must be true or a number of hops", 3)
  end
  return follow
end

-- Places a call and waits until it is answered: the call, or nil, code,
-- reason, response.
function Call.place(self, uri, opts)
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
  local follow = follow_hops(opts.follow)
  current_task("ua:call")
  local p = { uri = uri, from = opts.from, to = opts.to, headers = opts.headers,
              late_offer = opts.offer == false, follow = follow }
  auth_fields("ua:call", opts.auth, p)
  local ccall, code, reason = checked(pcall(self.core.call, self.core, p))
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
  local ok, c, r, res = wait("ua:call", call.waiters, "established")
  if timer then timer:cancel() end
  if ok then return call end
  -- following 3xx, the targets tried come fifth (there is no call to hold them)
  if follow > 0 then return nil, c, r, res, call.core:history() end
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
  return wait("call:answer", self.waiters, "established")
end

function Call:reject(status, reason, headers)
  status = status or 486
  if math.type(status) ~= "integer" then error("call:reject: status must be an integer", 2) end
  if reason ~= nil and type(reason) ~= "string" then error("call:reject: reason must be a string", 2) end
  if headers ~= nil and type(headers) ~= "table" then error("call:reject: headers must be a table", 2) end
  if status < 300 or status > 699 then error("call:reject: status must be 300-699", 2) end
  return checked(pcall(self.core.reject, self.core, status, reason, headers))
end

-- 3xx (302 by default) with one Contact, or several from a list: q
-- descending in the order given (RFC 3261 §8.1.3.4 has the caller try
-- the highest q first).
function Call:redirect(targets, status)
  if type(targets) == "string" then targets = { targets } end
  if type(targets) ~= "table" or #targets == 0 then error("call:redirect: expected a URI or a list of URIs", 2) end
  status = status or 302
  if math.type(status) ~= "integer" or status < 300 or status > 399 then
    error("call:redirect: status must be 300-399", 2)
  end
  local contacts = {}
  for i, uri in ipairs(targets) do
    if type(uri) ~= "string" or uri == "" or uri:find("[\r\n<>]") then
      error("call:redirect: expected a URI", 2)
    end
    if #targets == 1 then
      contacts[i] = "<" .. uri .. ">"
    else
      -- 1.0, 0.9 ... down to 0.1, then 0.1 for the rest (their order stands)
      local q = math.max(10 - (i - 1), 1)
      contacts[i] = ("<%s>;q=%s"):format(uri, q == 10 and "1.0" or ("0." .. q))
    end
  end
  return self.core:reject(status, nil, { Contact = table.concat(contacts, ", ") })
end

-- BYE, or CANCEL; an incoming call not answered yet gets 480, or the
-- status given (busy: 486).
function Call:hangup(status, reason)
  if status ~= nil and (math.type(status) ~= "integer" or status < 300 or status > 699) then
    error("call:hangup: status must be an integer 300-699", 2)
  end
  if reason ~= nil and type(reason) ~= "string" then error("call:hangup: reason must be a string", 2) end
  if self.state == "ended" then return true end
  if status and pending(self) then return self.core:reject(status, reason) end
  return self.core:hangup()
end

-- Waits until the call is over; returns why it ended, and for "replaced"
-- and "transferred" the call that took its place.
function Call:wait()
  if self.state == "ended" and not self.transferring then
    return self.end_reason, self.replaced_by
  end
  return wait("call:wait", function(k)
    local enders = self.enders or {}
    self.enders = enders
    enders[#enders + 1] = k
  end)
end

local modify_options = set { "direction", "method" }
local directions = set { "sendrecv", "sendonly", "recvonly", "inactive" }

-- The method of a new offer: "INVITE" (a re-INVITE) or "UPDATE".
function Call._offer_method(fname, method)
  method = method and tostring(method):upper() or "INVITE"
  if method ~= "INVITE" and method ~= "UPDATE" then
    error(fname .. ": method must be INVITE or UPDATE", 3)
  end
  return method
end

-- A new offer of direction dir by re-INVITE or UPDATE; waits for the
-- answer (a 491 is retried by sip.core, RFC 3261 §14.1): true, or nil,
-- status, reason with the call as it was.
function Call:_offer(fname, dir, method)
  current_task(fname)
  local ok, err = self.core:modify(dir, method == "UPDATE")
  if not ok then return nil, err end
  local status, c, r = wait(fname, self.waiters, "modify")
  if not status then return nil, c, r end
  -- an offer that does not let us receive is a hold of ours (RFC 3264 §8.4)
  self.local_hold = dir == "sendonly" or dir == "inactive"
  return true
end

-- A new offer by re-INVITE or UPDATE; waits for the answer.
function Call:modify(opts)
  opts = opts or {}
  check_options("call:modify", opts, modify_options)
  local dir = opts.direction or "sendrecv"
  if not directions[dir] then error("call:modify: bad direction '" .. tostring(dir) .. "'", 2) end
  local method = Call._offer_method("call:modify", opts.method)
  return self:_offer("call:modify", dir, method)
end

local request_in_call_options = set { "method", "headers", "body" }

-- Sends a request in the call (INFO, OPTIONS, MESSAGE ...) and waits for
-- its final answer: true and the response for a 2xx, else nil, code, reason.
-- (call.request is the INVITE of an incoming call, so this is call:send.)
function Call:send(opts)
  check_options("call:send", opts, request_in_call_options)
  if type(opts.method) ~= "string" then error("call:send: method is required", 2) end
  local headers = request_headers("call:send", opts)
  local res, code, reason = checked(pcall(wait, "call:send", function(k)
    local ok, err = self.core:request(opts.method:upper(), headers, opts.body, k)
    if not ok then k(nil, err, "the call is not established") end
  end))
  if res and res.status >= 300 then return nil, res.status, res.reason, res end
  if res then return true, res end
  return nil, code, reason
end

-- INFO in the call (RFC 6086): {headers =, body =}; true once answered 2xx.
function Call:info(opts)
  opts = opts or {}
  check_options("call:info", opts, set { "headers", "body" })
  return checked(pcall(self.send, self, { method = "INFO", headers = opts.headers, body = opts.body }))
end

-- Events of a call: those of the session, and a request in the call that
-- a handler may answer, named by its method in lower case.
local call_events = set { "ended", "modified", "hold", "unhold", "dtmf" }
for method, by in pairs(call_methods) do
  if by ~= "call" then call_events[method:lower()] = true end
end
local function event_names()
  local names = {}
  for name in pairs(call_events) do names[#names + 1] = name end
  table.sort(names)
  return table.concat(names, ", ")
end

function Call:on(event, fn)
  if type(event) ~= "string" then error("call:on: expected an event name", 2) end
  if not call_events[event] then
    if call_methods[event:upper()] == "call" then
      error(("call:on: the call answers %s itself (call:on(\"modified\") tells a change, "
             .. "call:on(\"ended\") the end)"):format(event:upper()), 2)
    end
    error(("call:on: unknown event '%s' (%s)"):format(event, event_names()), 2)
  end
  if fn ~= nil and type(fn) ~= "function" then error("call:on: expected a function or nil", 2) end
  local handlers = self.handlers or {}
  self.handlers = handlers
  handlers[event] = fn
end

return Call
