-- SIPp calls the library and sends requests in the call that the script has
-- no handler for (tests/sipp/call_uac_unhandled.xml): a MESSAGE, which the
-- call takes only with a call:on("message") handler, and a SUBSCRIBE, which
-- no call takes; both get 405 with the Allow header of RFC 3261 §21.4.6,
-- listing what the call takes (the one list of csrc/sip/sess.c) and the
-- call's own handlers. An INFO without a handler gets 200. SIPp hangs up.
--
-- Environment:
--   UA_PORT     port to listen on (UDP and TCP, 127.0.0.1)
--   TRANSPORT   udp | tcp: the transport SIPp uses
--   WAIT        seconds to wait for the INVITE (default 10)
--   SIP_TRACE_FILE, SIP_FLOW_FILE   optional: where the messages are written

package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local t = require "support"

local port = t.env_number("UA_PORT")
local transport = t.env("TRANSPORT")
local wait = t.env_number("WAIT", 10)
assert(transport == "udp" or transport == "tcp", "TRANSPORT must be udp or tcp")

local sip = t.require_sip()
local events = t.record(sip)
local CALL_LIMIT = 8

-- The methods of an Allow value, as a set.
local function methods_of(allow)
  local set = {}
  for m in (allow or ""):gmatch("[^,%s]+") do set[m] = true end
  return set
end

local function check_405(entries, method, handled_here)
  local res = t.response(entries, "out", 405, method)
  local allow = res and t.header(res.msg, "Allow")
  local set = methods_of(allow)
  local missing = {}
  for m, by in pairs(require("sip.core").call_methods) do
    if (by ~= "handler or 405" or handled_here[m]) and not set[m] then missing[#missing + 1] = m end
  end
  t.check(("the %s in the call gets 405 with an Allow of what the call takes"):format(method),
    res and allow and #missing == 0 and not set[method],
    "%s; Allow: %s; missing: %s", res and res.msg.start or "no 405 sent", tostring(allow),
    table.concat(missing, " "))
end

t.main(sip, function(track)
  local ua = track(sip.ua{
    uri = "sip:bob@127.0.0.1",
    listen = { ("udp:127.0.0.1:%d"):format(port), ("tcp:127.0.0.1:%d"):format(port) },
  })
  local handled = t.serve_one_call(sip, ua, function(call)
    call:on("refer", function() return 603 end)
    call:ring()
    local ok, why = call:answer()
    t.check("call:answer() returns true once the ACK came", ok == true, "answer: %s",
      tostring(why))
    t.check_remote_bye(sip, call, CALL_LIMIT)
  end, { wait = wait, limit = CALL_LIMIT * 2 + 4,
         what = "the INVITE reaches the handler as an incoming call" })
  if not handled then return end
  local entries = t.of_call(events, handled.id)
  check_405(entries, "MESSAGE", { REFER = true })
  check_405(entries, "SUBSCRIBE", { REFER = true })
  t.check("the INFO without a handler gets 200", t.response(entries, "out", 200, "INFO") ~= nil,
    "no 200 to the INFO")
  t.check_transport(entries, transport)
  sip.sleep(0.2)
end)
