-- Calls from baresip answered by the library (tests/interop/calls_baresip.sh).
--
-- Environment:
--   MODE       direct: two calls; baresip hangs up the first, the script the
--              second (after 1 s)
--              hold: one call that baresip puts on hold, resumes, hangs up
--              proxy: the script registers as bob with Kamailio first; one
--              call, through Kamailio, that baresip hangs up
--   UA_PORT    UDP port of the endpoint on 127.0.0.1
--   RTP_PORTS  FIRST-LAST, the endpoint's RTP port range
--   CALLS      calls to wait for (default 1)
--   KAM_PORT   (proxy) Kamailio's port
--   STOP_FILE  optional: once this file exists no more calls are waited for
--              (the harness creates it when baresip is done or failed)
--
-- Prints "ready" once it listens (and is registered), "# step: call N over"
-- when call N ended and "# step: unheld" when the unhold handler ran.

package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local t = require "support"
local b = require "bs_support"

local mode = t.env("MODE")
assert(mode == "direct" or mode == "hold" or mode == "proxy", "MODE: direct, hold or proxy")
local ua_port = t.env_number("UA_PORT")
local ncalls = t.env_number("CALLS", 1)
local kam_port = mode == "proxy" and t.env_number("KAM_PORT") or nil
local rtp = b.rtp_ports()
local stop_file = os.getenv("STOP_FILE")

local function stopped()
  local f = stop_file and stop_file ~= "" and io.open(stop_file)
  if f then f:close() end
  return f and true or false
end

local sip = t.require_sip()
local events = t.record(sip)

-- What each incoming call did, in arrival order.
local calls = {}

local function hook(rec, name)
  return function(call)
    -- who holds, and what went out so far: nothing may go out while held
    rec.hooks[#rec.hooks + 1] = { name = name, at = sip.now(), held = call.held,
                                  sent = call:stats().packets_sent }
    if name == "unhold" then t.diag("step: unheld") end
  end
end

local function answer_call(call, rec, n)
  if mode == "hold" then
    call:on("hold", hook(rec, "hold"))
    call:on("unhold", hook(rec, "unhold"))
    call:on("modified", hook(rec, "modified"))
  end
  rec.ring = table.pack(pcall(call.ring, call))
  rec.answer = table.pack(call:answer())
  rec.answered_at = sip.now()
  rec.confirmed = call.state
  rec.media = call.media
  if mode == "hold" then
    -- a sound all along: the stream would send it but for the hold
    sip.spawn(call.play, call, sip.tone{ freqs = { 1000 } }, { loop = true })
  end
  if mode == "direct" and n == 2 then
    -- The second call is the script's to end.
    sip.sleep(1)
    rec.hangup = table.pack(pcall(call.hangup, call))
    b.wait_label(sip, events, call.id, "in 200 BYE", 2)
  end
  rec.wait = table.pack(call:wait())
  rec.end_reason = call.end_reason
end

local function on_invite(call)
  local rec = {
    call = call, id = call.id, state = call.state, direction = call.direction,
    remote_uri = call.remote_uri, hooks = {},
  }
  calls[#calls + 1] = rec
  local n = #calls
  -- A raising call method must not leave the main task waiting for nothing.
  local ok, err = xpcall(answer_call, debug.traceback, call, rec, n)
  if not ok then
    t.check(("call %d - handler runs without error"):format(n), false, "%s", err)
  end
  rec.done = true
  t.diag("step: call %d over", n)
end

local function incoming_checks(rec, n)
  local prefix = ("call %d - "):format(n)
  t.check(prefix .. "INVITE reaches the handler as an incoming call",
    rec and rec.direction == "incoming" and rec.state == "incoming"
      and tostring(rec.remote_uri):find("alice", 1, true) ~= nil,
    rec and ("direction %s, state %s, remote_uri %s"):format(tostring(rec.direction),
      tostring(rec.state), tostring(rec.remote_uri)) or "no call arrived")
  if not rec then
    t.check(prefix .. "call:ring() sends 180, call:answer() returns true once the ACK came",
      false, "no call arrived")
    return false
  end

  -- The ACK must have arrived before call:answer() returned.
  local ack = b.find(events, rec.id, function(e, m) return e.dir == "in" and m.method == "ACK" end)[1]
  local ringing = b.find(events, rec.id, function(_, _, l) return l == "out 180 INVITE" end)[1]
  t.check(prefix .. "call:ring() sends 180, call:answer() returns true once the ACK came",
    rec.ring and rec.ring[1] and ringing and rec.answer and rec.answer[1] == true and ack
      and ack.at <= rec.answered_at,
    "ring: %s; 180 sent: %s; answer returned %s; ACK %s",
    rec.ring and b.show(table.unpack(rec.ring, 1, rec.ring.n)) or "not called",
    tostring(ringing ~= nil),
    rec.answer and b.show(table.unpack(rec.answer, 1, rec.answer.n)) or "nothing",
    ack and rec.answered_at and ("%.3f s after answer returned"):format(ack.at - rec.answered_at)
      or (ack and "came, answer never returned" or "never came"))
  return true
end

local function byed_checks(rec, n)
  t.check(("call %d - call:wait() returns \"hangup\" after baresip's BYE"):format(n),
    rec and rec.done and rec.wait and rec.wait[1] == "hangup" and rec.end_reason == "hangup",
    rec and ("call:wait() returned %s; end_reason %s"):format(
      rec.wait and b.show(table.unpack(rec.wait, 1, rec.wait.n)) or "nothing (still waiting)",
      tostring(rec.end_reason)) or "no call")
end

local answered_flow = {
  "in INVITE", "out 100 INVITE", "out 180 INVITE", "out 200 INVITE", "in ACK",
}
local function flow(...)
  local list = {}
  for _, part in ipairs({ ... }) do
    for _, label in ipairs(part) do list[#list + 1] = label end
  end
  return list
end
local reinvite = { "in INVITE", "out 100 INVITE?", "out 200 INVITE", "in ACK" }
local their_bye = { "in BYE", "out 200 BYE" }
local our_bye = { "out BYE", "in 200 BYE" }

t.main(sip, function(track)
  local ua, code, reason = sip.ua{
    uri = mode == "proxy" and "sip:bob@test.local" or "sip:bob@127.0.0.1",
    listen = { "udp:127.0.0.1:" .. ua_port },
    rtp_ports = rtp,
  }
  if not ua then
    t.check("endpoint", false, "sip.ua failed: %s", b.show(code, reason))
    return
  end
  track(ua)
  ua:on("INVITE", on_invite)

  local reg
  if mode == "proxy" then
    local rcode, rreason
    reg, rcode, rreason = ua:register{
      registrar = ("sip:127.0.0.1:%d"):format(kam_port), user = "bob", password = "bobpw",
      expires = 60,
    }
    if not t.check("register as bob", reg ~= nil, "register returned nil, %s", b.show(rcode, rreason)) then
      return
    end
  end
  io.stdout:write("ready\n")

  t.wait_for(sip, 25, function()
    if #calls < ncalls then return stopped() end
    for _, rec in ipairs(calls) do
      if not rec.done then return false end
    end
    return true
  end)

  local rec = calls[1]
  if not incoming_checks(rec, 1) then
    -- Every check of the mode still gets its line, so none is "not reported".
    local names = {
      direct = { "call 1 - state confirmed, media negotiated with baresip" },
      hold = { "hold - call:on(\"hold\") and call:on(\"modified\") run",
        "hold - the answer to a sendonly offer is recvonly",
        "hold - call.held is \"remote\" while held, nil after; nothing is sent while held",
        "unhold - call:on(\"unhold\") and call:on(\"modified\") run",
        "unhold - the answer to a sendrecv offer is sendrecv" },
      proxy = {},
    }
    for _, name in ipairs(names[mode]) do t.check(name, false, "no call arrived") end
  elseif mode == "direct" then
    local sdp_ok = type(rec.media) == "table"
      and (rec.media.codec == "PCMU" or rec.media.codec == "PCMA")
      and tonumber(rec.media.port) and tonumber(rec.media.port) > 0
    local ok200 = b.find(events, rec.id, function(_, _, l) return l == "out 200 INVITE" end)[1]
    local port = ok200 and tonumber(ok200.msg.body:match("m=audio (%d+)"))
    t.check("call 1 - state confirmed, media negotiated with baresip",
      rec.confirmed == "confirmed" and sdp_ok and port and port >= rtp[1] and port <= rtp[2],
      "state %s; call.media %s; m=audio port in our 200: %s (range %d-%d)",
      tostring(rec.confirmed),
      type(rec.media) == "table" and ("codec=%s port=%s"):format(tostring(rec.media.codec),
        tostring(rec.media.port)) or tostring(rec.media),
      tostring(port), rtp[1], rtp[2])
  end

  if mode == "hold" and rec then
    local invites = b.find(events, rec.id, function(e, m) return e.dir == "in" and m.method == "INVITE" end)
    local hold, resume = invites[2], invites[3]
    local function phase(from, to)
      local names = {}
      for _, h in ipairs(rec.hooks) do
        if from and h.at >= from.at and (not to or h.at < to.at) then names[h.name] = true end
      end
      return names
    end
    local function hooks_text()
      local list = {}
      for _, h in ipairs(rec.hooks) do list[#list + 1] = h.name end
      return #list > 0 and table.concat(list, ", ") or "none"
    end
    local held = phase(hold, resume)
    t.check("hold - call:on(\"hold\") and call:on(\"modified\") run",
      hold and held.hold and held.modified and not held.unhold,
      "%s; handlers run: %s", hold and "re-INVITE came" or "no hold re-INVITE", hooks_text())
    local hold_answer = hold and b.response_to(events, rec.id, hold, 200)
    t.check("hold - the answer to a sendonly offer is recvonly",
      hold and b.entry_direction(hold) == "sendonly" and b.entry_direction(hold_answer) == "recvonly",
      "offer %s, answer %s", tostring(b.entry_direction(hold)), tostring(b.entry_direction(hold_answer)))
    local at_hold, at_unhold
    for _, h in ipairs(rec.hooks) do
      if h.name == "hold" and not at_hold then at_hold = h end
      if h.name == "unhold" and not at_unhold then at_unhold = h end
    end
    t.check("hold - call.held is \"remote\" while held, nil after; nothing is sent while held",
      at_hold and at_unhold and at_hold.held == "remote" and at_unhold.held == nil
        and at_unhold.sent == at_hold.sent and at_unhold.at - at_hold.at >= 0.5,
      "call.held %s at hold, %s at unhold; packets sent %s at hold, %s at unhold, %.2f s later",
      tostring(at_hold and at_hold.held), tostring(at_unhold and at_unhold.held),
      tostring(at_hold and at_hold.sent), tostring(at_unhold and at_unhold.sent),
      at_hold and at_unhold and at_unhold.at - at_hold.at or -1)
    local unheld = phase(resume, nil)
    t.check("unhold - call:on(\"unhold\") and call:on(\"modified\") run",
      resume and unheld.unhold and unheld.modified and not unheld.hold,
      "%s; handlers run: %s", resume and "re-INVITE came" or "no resume re-INVITE", hooks_text())
    local resume_answer = resume and b.response_to(events, rec.id, resume, 200)
    t.check("unhold - the answer to a sendrecv offer is sendrecv",
      resume and b.entry_direction(resume) == "sendrecv"
        and b.entry_direction(resume_answer) == "sendrecv",
      "offer %s, answer %s", tostring(b.entry_direction(resume)),
      tostring(b.entry_direction(resume_answer)))
  end

  if rec then
    byed_checks(rec, 1)
    b.check_flow("call 1 - SIP flow", events, rec.id,
      mode == "hold" and flow(answered_flow, reinvite, reinvite, their_bye)
        or flow(answered_flow, their_bye))
  else
    byed_checks(nil, 1)
    b.check_flow("call 1 - SIP flow", events, nil, {})
  end

  if mode == "proxy" then
    local entries = rec and b.call_entries(events, rec.id) or {}
    local stray = {}
    for _, e in ipairs(entries) do
      if tonumber(e.port) ~= kam_port or e.addr ~= "127.0.0.1" then stray[#stray + 1] = e end
    end
    t.check("call 1 - every message goes through kamailio", #entries > 0 and #stray == 0,
      "%d of %d elsewhere: %s", #stray, #entries, t.describe(stray))
    -- RFC 3261 12.1.1: a UAS copies the Record-Route of the request into
    -- every response that creates the dialog (the 180 with its To tag, the
    -- 200), or the caller's route set misses the proxy.
    local invite = entries[1]
    local rr_in = invite and t.header(invite.msg, "Record-Route")
    local function rr_of(label)
      local e = rec and b.find(events, rec.id, function(_, _, l) return l == label end)[1]
      return e and t.header(e.msg, "Record-Route")
    end
    local rr180, rr200 = rr_of("out 180 INVITE"), rr_of("out 200 INVITE")
    t.check("call 1 - 180 and 200 copy the INVITE's Record-Route",
      rr_in and rr_in:find("127.0.0.1:" .. kam_port, 1, true) and rr180 == rr_in and rr200 == rr_in,
      "INVITE Record-Route %s; our 180's %s; our 200's %s", tostring(rr_in), tostring(rr180),
      tostring(rr200))
    local ok, ucode, ureason = reg:unregister()
    t.check("unregister", ok == true, "unregister returned %s", b.show(ok, ucode, ureason))
  end

  if mode == "direct" then
    local rec2 = calls[2]
    local hung = rec2 and rec2.hangup
    t.check("call 2 - call:hangup() ends the call, end_reason \"local\"",
      rec2 and rec2.done and hung and hung[1] and rec2.wait and rec2.wait[1] == "local" and rec2.end_reason == "local",
      rec2 and ("hangup: %s; call:wait() returned %s; end_reason %s"):format(
        hung and b.show(table.unpack(hung, 1, hung.n)) or "not called",
        rec2.wait and b.show(table.unpack(rec2.wait, 1, rec2.wait.n)) or "nothing",
        tostring(rec2.end_reason)) or "no second call arrived")
    b.check_flow("call 2 - SIP flow", events, rec2 and rec2.id, flow(answered_flow, our_bye))
  end
end)
