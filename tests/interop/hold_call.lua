-- The library calls baresip (auto answer) and puts it on hold with music
-- (call:hold{music = a 700 Hz tone}): the re-INVITE offers sendonly, baresip
-- answers recvonly, and the music loops to baresip; then call:unhold()
-- offers sendrecv and the music stops. Then it holds baresip with the music
-- again and hangs up while baresip is held. What baresip is sent is
-- captured and measured by tests/interop/calls_hold.sh (baresip 1.0.0 does
-- not record what it receives while held).
--
-- Environment:
--   TARGET     the URI to call
--   UA_PORT    UDP port of the endpoint on 127.0.0.1
--   RTP_PORTS  FIRST-LAST, the endpoint's RTP port range
--   HELD       seconds baresip stays on hold

package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local t = require "support"
local b = require "bs_support"

local target = t.env("TARGET")
local ua_port = t.env_number("UA_PORT")
local rtp = b.rtp_ports()
local held_for = t.env_number("HELD")

local sip = t.require_sip()
local events = t.record(sip)

t.main(sip, function(track)
  local ua, code, reason = sip.ua{
    uri = "sip:alice@127.0.0.1",
    listen = { "udp:127.0.0.1:" .. ua_port },
    rtp_ports = rtp,
  }
  if not ua then
    t.check("endpoint", false, "sip.ua failed: %s", b.show(code, reason))
    return
  end
  track(ua)

  local call, ccode, creason = ua:call(target, { timeout = 5 })
  t.check("ua:call returns a confirmed call", call and call.state == "confirmed",
    "call %s (%s)", tostring(call), b.show(ccode, creason))
  if not call then return end
  -- past the first second's silence, so the music starts a talkspurt
  sip.sleep(1.2)

  local res = table.pack(call:hold{ music = sip.tone{ freqs = { 700 } } })
  t.check("call:hold{music = tone} returns true, call.held is \"local\"",
    res[1] == true and call.held == "local",
    "returned %s, call.held %s", b.show(table.unpack(res, 1, res.n)), tostring(call.held))
  local reinvites = b.find(events, call.id, function(e, m)
    return e.dir == "out" and m.method == "INVITE" end)
  local hold = reinvites[2]
  local hold_answer = hold and b.response_to(events, call.id, hold, 200)
  t.check("the hold re-INVITE offers sendonly, baresip answers recvonly",
    hold and b.entry_direction(hold) == "sendonly" and b.entry_direction(hold_answer) == "recvonly",
    "offer %s, answer %s", tostring(hold and b.entry_direction(hold)),
    tostring(hold_answer and b.entry_direction(hold_answer)))
  local sent = call:stats().packets_sent
  sip.sleep(held_for)
  local music = call:stats().packets_sent - sent
  t.check("the music goes out while baresip is held",
    music >= held_for * 50 * 0.9, "%d packets in %g s", music, held_for)

  res = table.pack(call:unhold())
  reinvites = b.find(events, call.id, function(e, m) return e.dir == "out" and m.method == "INVITE" end)
  local resume = reinvites[3]
  local resume_answer = resume and b.response_to(events, call.id, resume, 200)
  t.check("call:unhold() returns true after a sendrecv offer answered sendrecv, call.held nil",
    res[1] == true and call.held == nil and resume and b.entry_direction(resume) == "sendrecv"
      and b.entry_direction(resume_answer) == "sendrecv",
    "returned %s, call.held %s, offer %s, answer %s", b.show(table.unpack(res, 1, res.n)),
    tostring(call.held), tostring(resume and b.entry_direction(resume)),
    tostring(resume_answer and b.entry_direction(resume_answer)))
  -- the music stopped: after the short tail of silence nothing goes out
  sip.sleep(0.5)
  sent = call:stats().packets_sent
  sip.sleep(0.5)
  t.check("after unhold the music stops", call:stats().packets_sent == sent,
    "%d packets in 0.5 s", call:stats().packets_sent - sent)

  res = table.pack(call:hold{ music = sip.tone{ freqs = { 700 } } })
  t.check("held again with music, the script hangs up", res[1] == true and call.held == "local",
    "returned %s, call.held %s", b.show(table.unpack(res, 1, res.n)), tostring(call.held))
  sip.sleep(held_for)
  call:hangup()
  b.wait_label(sip, events, call.id, "in 200 BYE", 2)
  b.check_flow("SIP flow", events, call.id, { "out INVITE", "in 100 INVITE?", "in 180 INVITE",
    "in 200 INVITE", "out ACK", "out INVITE", "in 100 INVITE?", "in 200 INVITE", "out ACK",
    "out INVITE", "in 100 INVITE?", "in 200 INVITE", "out ACK",
    "out INVITE", "in 100 INVITE?", "in 200 INVITE", "out ACK", "out BYE", "in 200 BYE" })
end)
