-- An endpoint that SIPp sends OPTIONS and MESSAGE to
-- (tests/sipp/options_uac.xml and tests/sipp/message_uac.xml).
--
-- It listens on UDP and TCP at 127.0.0.1:UA_PORT, prints "ready", answers
-- both requests with 200 from its handlers, and checks what the handlers saw.
-- It ends once one OPTIONS and one MESSAGE came, or after WAIT seconds.
--
-- Environment:
--   UA_PORT      port to listen on (UDP and TCP)
--   TRANSPORT    udp | tcp: the transport SIPp uses
--   WAIT         seconds to wait for both requests (default 15)
--   SIP_TRACE_FILE  optional: every SIP message is written there

package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local t = require "support"

local port = t.env_number("UA_PORT")
local transport = t.env("TRANSPORT")
local wait = t.env_number("WAIT", 15)
assert(transport == "udp" or transport == "tcp", "TRANSPORT must be udp or tcp")

-- What SIPp's message_uac.xml sends: SIPp ends the last body line with CRLF.
local EXPECTED_BODY = "Hello from SIPp\r\n"

local sip = t.require_sip()
local events = t.record(sip)

t.main(sip, function(track)
  local seen = {}
  local ua = track(sip.ua{
    uri = "sip:alice@127.0.0.1",
    listen = { ("udp:127.0.0.1:%d"):format(port), ("tcp:127.0.0.1:%d"):format(port) },
  })
  for _, method in ipairs{ "OPTIONS", "MESSAGE" } do
    ua:on(method, function(req)
      seen[method] = seen[method] or {
        method = req.method, uri = req.uri, from = req.from, body = req.body,
        content_type = req:header("Content-Type"),
      }
      return 200
    end)
  end

  local host, bound = ua:address(transport)
  t.check("ua:address reports the listening port",
    host == "127.0.0.1" and tonumber(bound) == port,
    "ua:address(%q) = %s, %s; listening on 127.0.0.1:%d", transport, tostring(host),
    tostring(bound), port)
  io.stdout:write("ready\n")

  t.wait_for(sip, wait, function() return seen.OPTIONS and seen.MESSAGE end)
  -- Let the last 200 leave before the endpoint closes.
  sip.sleep(0.3)

  local o = seen.OPTIONS
  t.check("OPTIONS reaches the handler",
    o and o.method == "OPTIONS" and tostring(o.uri):find("alice@127.0.0.1", 1, true),
    o and ("method %q, uri %q"):format(tostring(o.method), tostring(o.uri))
      or "no OPTIONS handled")

  local m = seen.MESSAGE
  local from_ok = m and tostring(m.from):find("sip:sipp@127.0.0.1", 1, true)
  local type_ok = m and m.content_type == "text/plain"
  t.check("MESSAGE reaches the handler with From, Content-Type and body",
    m and m.method == "MESSAGE" and from_ok and type_ok and m.body == EXPECTED_BODY,
    m and ("from %q, Content-Type %q, body %q (expected %q)"):format(tostring(m.from),
      tostring(m.content_type), tostring(m.body), EXPECTED_BODY) or "no MESSAGE handled")

  -- RFC 3261 11.2: a 200 to OPTIONS SHOULD list the methods the endpoint
  -- accepts; asking is what OPTIONS is for.  This endpoint has handlers for
  -- OPTIONS and MESSAGE, so both must be there.
  local options_ok = t.select(events, function(e, msg)
    local _, cseq_method = t.cseq(msg)
    return e.dir == "out" and msg.status == 200 and cseq_method == "OPTIONS"
  end)[1]
  local allow = options_ok and t.header(options_ok.msg, "Allow")
  local listed = {}
  for method in (allow or ""):upper():gmatch("[^,%s]+") do listed[method] = true end
  t.check("200 to OPTIONS lists OPTIONS and MESSAGE in Allow",
    listed.OPTIONS and listed.MESSAGE,
    options_ok and ("Allow: %s"):format(tostring(allow)) or "no 200 to OPTIONS sent")

  -- The 200s went back over the transport the request came in on.
  for _, method in ipairs{ "OPTIONS", "MESSAGE" } do
    local answers = t.select(events, function(e, msg)
      local _, cseq_method = t.cseq(msg)
      return e.dir == "out" and msg.status == 200 and cseq_method == method
    end)
    local wrong = t.select(answers, function(e) return e.transport ~= transport end)
    t.check(("200 to %s sent over %s"):format(method, transport),
      #answers > 0 and #wrong == 0,
      "%d answers, %d on another transport: %s", #answers, #wrong, t.describe(answers))
  end
end)
