-- Call transfer (RFC 3515 REFER, RFC 5589 call flows, RFC 3891 Replaces,
-- RFC 4488 Refer-Sub), the transferor's and the transferee's sides; the
-- target's side, an INVITE with Replaces, is sip.core's (call.replaces).
-- The REFER and its subscription are csrc/sip/sub.c, bound in
-- csrc/lua/l_sub.c. The methods join the Call class.
local core = require "sip.core"
local task = require "sip.task"
local options = require "sip.options"
local Call = require "sip.call"

local spawn_task, current_task, wait = task.spawn_task, task.current_task, task.wait
local check_options, set = options.check_options, options.set

-- How long a transferee waits for the transferor's BYE after the success (s).
local BYE_GRACE = 2

-- A URI header value escaped as RFC 3261 §19.1.1 asks: all but the
-- unreserved characters (a Replaces holds '@', ';' and '=').
local function escape(s)
  return (s:gsub("[^%w%-%._~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

-- The URI of a name-addr or addr-spec ("<sip:b@h?x=1>;p" -> "sip:b@h?x=1").
local function uri_of(v)
  if not v then return nil end
  return v:match("<([^>]*)>") or v:match("^%s*([^;%s]+)")
end

-- The Refer-To of an attended transfer: where other's peer is (its
-- Contact), with the Replaces that names other's dialog as that peer sees
-- it: its to-tag is the peer's tag, its from-tag ours (RFC 3891 §3).
local function replacing_target(other)
  local target = other.remote_target
  if other.state ~= "confirmed" or not target or not other.remote_tag then return nil end
  local replaces = ("%s;to-tag=%s;from-tag=%s"):format(other.id, other.remote_tag,
                                                       other.local_tag)
  return target .. (target:find("?", 1, true) and "&" or "?") .. "Replaces=" .. escape(replaces)
end

-- What the end of a REFER's subscription says of the transfer: true, or
-- nil, status, reason.
local function outcome(why, status, reason, final)
  if why == "no subscription" then return true end  -- RFC 4488: the 2xx is all
  if why == "done" and final then
    if final.status >= 200 and final.status < 300 then return true end
    if final.status >= 300 then return nil, final.status, final.reason end
    return nil, 500, "the final NOTIFY had no final status"
  end
  if why == "refused" then return nil, status, reason end
  if why == "timeout" then return nil, 408, "no final NOTIFY in time" end
  return nil, status or why, reason or ("the subscription ended: " .. why)
end

local transfer_options = set { "keep", "timeout", "on_progress", "subscription" }

-- call:transfer(uri or other_call [, {keep =, timeout =, on_progress =,
-- subscription =}]): sends REFER to the peer of call and waits for the
-- outcome, which the final NOTIFY's sipfrag says (on_progress(status,
-- reason) hears each). True on success: our call ends (with other_call, an
-- attended transfer) unless keep. Else nil, status, reason, and the calls
-- stay as they were (RFC 5589 §6: the transferor may take the call back).
-- subscription = false asks for no NOTIFYs (RFC 4488): the REFER's 2xx is
-- then the success.
function Call:transfer(target, opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("call:transfer: expected a table of options", 2) end
  check_options("call:transfer", opts, transfer_options)
  local timeout = opts.timeout or 30
  if type(timeout) ~= "number" or timeout <= 0 then
    error("call:transfer: timeout must be a positive number of seconds", 2)
  end
  local on_progress = opts.on_progress
  if on_progress ~= nil and type(on_progress) ~= "function" then
    error("call:transfer: on_progress must be a function", 2)
  end
  local other, refer_to
  if getmetatable(target) == Call then
    if target == self then error("call:transfer: a call cannot be transferred to itself", 2) end
    other = target
    refer_to = replacing_target(other)
    if not refer_to then return nil, "ENOTCONN", "the other call is not up" end
  elseif type(target) == "string" and target ~= "" then
    refer_to = target
  else
    error("call:transfer: expected a URI or a call", 2)
  end
  current_task("call:transfer")
  local ok, code, reason = wait("call:transfer", function(k)
    local final
    local sub, err = self.core:refer(refer_to, opts.subscription == false,
                                     math.floor(timeout * 1000), function(ev, a, b, c)
      if ev == "notify" then
        if c then final = { status = a, reason = b } end
        if on_progress and a > 0 then spawn_task(nil, on_progress, a, b) end
      else
        k(outcome(a, b, c, final))
      end
    end)
    if not sub then k(nil, err, "the call is not up") end
  end)
  if not ok then return nil, code, reason end
  if not opts.keep then
    if other and other.state ~= "ended" then other:hangup() end
    if self.state ~= "ended" then self:hangup() end
  end
  return true
end

-- The request a handler of call:on("refer") sees: the REFER, with the URI
-- it refers to (refer_to) and who referred (referred_by, the header value).
local function refer_view(req, refer_to, referred_by)
  return setmetatable({ refer_to = refer_to, referred_by = referred_by }, {
    __index = function(_, k)
      local v = req[k]
      if type(v) == "function" then return function(_, ...) return v(req, ...) end end
      return v
    end,
    __tostring = function() return tostring(req) end,
  })
end

-- The transferee: calls the Refer-To target (its Replaces and the
-- REFER's Referred-By go into the INVITE), NOTIFYs the transferor of each
-- status (sub.c sent 100 Trying), and once the new call is up ends this
-- one "transferred" (BYE, unless the transferor sent one). A failure
-- leaves this call as it is.
local function follow(self, req, refer_to, referred_by)
  self.transferring = true
  local sub = self.core:accept_refer(req, function() end)
  if sub == nil then
    self.transferring = false
    if not req.answered then req:respond(481) end
    if self.state == "ended" then self:_tell_end() end
    return
  end
  local function notify(status, reason)
    if sub then sub:notify(status, reason) end
  end
  local placed, new, code, reason = pcall(self.ua.call, self.ua, refer_to, {
    headers = { ["Referred-By"] = referred_by },
    on_progress = function(_, status, why) if status > 100 then notify(status, why) end end,
  })
  if not placed then
    notify(400, "Bad Refer-To")
  elseif not new then
    -- a failure that is no SIP answer (no transport, ...) is a 503 (§8.1.3.1)
    if math.type(code) == "integer" then notify(code, reason) else notify(503) end
  else
    notify(200, "OK")
    self.replaced_by = new
    if self.state ~= "ended" then
      -- RFC 5589 §6: the transferor ends the call once told of the
      -- success; when it keeps it, our BYE ends it a moment later
      local timer = core.timer(BYE_GRACE, function() self:_wake("transfer_end") end)
      wait("call:transfer", self.waiters, "transfer_end")
      timer:cancel()
      if self.state ~= "ended" then self.core:hangup() end
    end
    self.end_reason = "transferred"
  end
  self.transferring = false
  if self.state == "ended" then self:_tell_end() end
end

-- An in-call REFER (call.lua): call:on("refer", fn(call, req)) may refuse
-- it by returning a status of 300 or more (or answer it itself); otherwise
-- it is accepted and followed. One transfer at a time: a REFER while one
-- is followed gets 491.
function Call:_referred(req)
  if self.transferring then
    req:respond(491)
    return
  end
  local refer_to = uri_of(req:header("Refer-To"))
  local referred_by = req:header("Referred-By")
  if refer_to and not refer_to:lower():match("^sips?:") then
    req:respond(416)  -- we can only call SIP URIs
    return
  end
  local fn = self.handlers and self.handlers.refer
  if not fn or not refer_to then
    spawn_task(nil, follow, self, req, refer_to, referred_by)
    return
  end
  spawn_task(function(ok, status, reason, headers)
    if req.answered then return end
    if not ok then
      req:respond(500)
    elseif math.type(status) == "integer" and status >= 300 then
      if not pcall(req.respond, req, status, reason, headers) then req:respond(500) end
    else
      spawn_task(nil, follow, self, req, refer_to, referred_by)
    end
  end, fn, self, refer_view(req, refer_to, referred_by))
end

return Call
