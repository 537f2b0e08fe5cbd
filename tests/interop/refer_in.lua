-- SIPp transfers the library's call (RFC 3515, RFC 5589 §6.1): SIPp
-- (tests/sipp/call_uac_refer.xml) calls the script, which answers and does
-- nothing more: the library accepts SIPp's REFER by itself, calls the
-- Refer-To target (a second SIPp, call_uas_refer_target.xml) and NOTIFYs
-- SIPp of how that goes.  The script checks what the call API says of the
-- transfer and what the library sent; the SIPp scenarios check the NOTIFYs
-- and the INVITE to the target by regexps; the harness (calls_refer.sh)
-- checks both SIPps' exit statuses.
--
-- Environment:
--   UA_PORT     port to listen on (UDP, 127.0.0.1)
--   TARGET      the Refer-To URI SIPp sends (the second SIPp)
--   WAIT        seconds to wait for the INVITE (default 10)
--   SIP_TRACE_FILE, SIP_FLOW_FILE   optional: where the messages are written

package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local t = require "support"

local port = t.env_number("UA_PORT")
local target = t.env("TARGET")
local wait = t.env_number("WAIT", 10)

local sip = t.require_sip()
local events = t.record(sip)

-- How long a call may stay up waiting for a peer's next step.
local CALL_LIMIT = 8

local function call_events(call)
  return t.of_call(events, call and call.id)
end

-- The NOTIFYs the library sent in the old call, as "sipfrag status line
-- (Subscription-State)" joined by " / ".
local function notifies(call)
  local seen = {}
  for _, e in ipairs(t.select(call_events(call), function(e, msg)
    return e.dir == "out" and msg.method == "NOTIFY"
  end)) do
    local frag = e.msg.body:match("^([^\r\n]*)") or ""
    local state = (t.header(e.msg, "Subscription-State") or ""):match("^%a+") or "?"
    local line = ("%s (%s)"):format(frag, state)
    if seen[#seen] ~= line then seen[#seen + 1] = line end  -- a UDP retransmission
  end
  return table.concat(seen, " / ")
end

local function transferred(call)
  call:answer()
  local why, new = t.within(sip, CALL_LIMIT, call.wait, call)
  t.check("call:wait() returns \"transferred\" and the new call, call.replaced_by is it",
    why == "transferred" and new ~= nil and call.replaced_by == new
      and call.end_reason == "transferred" and call.state == "ended",
    "call:wait() gave %s, %s; end_reason %s", tostring(why), tostring(new),
    tostring(call.end_reason))
  t.check("the new call is up, to the Refer-To target",
    new and new.state == "confirmed" and new.direction == "outgoing"
      and tostring(new.remote_uri):find(target, 1, true) ~= nil,
    "state %s, remote_uri %s", new and tostring(new.state) or "-",
    new and tostring(new.remote_uri) or "-")

  local refer = t.request(call_events(call), "in", "REFER")
  local invite = new and t.request(call_events(new), "out", "INVITE")
  t.check("the INVITE to the target carries the REFER's Referred-By",
    refer and invite and t.header(invite.msg, "Referred-By") ~= nil
      and t.uri_of(t.header(invite.msg, "Referred-By"))
        == t.uri_of(t.header(refer.msg, "Referred-By")),
    "REFER's %s, INVITE's %s", refer and tostring(t.header(refer.msg, "Referred-By")) or "-",
    invite and tostring(t.header(invite.msg, "Referred-By")) or "no INVITE")
  local want = "SIP/2.0 100 Trying (active) / SIP/2.0 180 Ringing (active) / "
    .. "SIP/2.0 200 OK (terminated)"
  local said = notifies(call)
  t.check("the NOTIFYs say 100 Trying, 180 Ringing (active), then 200 OK (terminated)",
    said == want, "they said %s", said == "" and "nothing" or said)
  t.check("the transferor's BYE ends the old call: we send none",
    t.request(call_events(call), "in", "BYE") ~= nil
      and t.request(call_events(call), "out", "BYE") == nil,
    "%s", t.describe(call_events(call)))
  if new then
    sip.sleep(0.3)
    t.check_local_hangup(sip, new, CALL_LIMIT)
  end
end

t.main(sip, function(track)
  local ua = track(sip.ua{
    uri = "sip:bob@127.0.0.1",
    listen = { ("udp:127.0.0.1:%d"):format(port) },
  })
  local handled = t.serve_one_call(sip, ua, transferred, { wait = wait,
    limit = CALL_LIMIT * 2 + 4, what = "the INVITE reaches the handler" })
  if not handled then return end
  t.check_transport(call_events(handled), "udp")
  sip.sleep(0.2)
end)
