-- The library sends OPTIONS and MESSAGE to SIPp running tests/sipp/uas.xml,
-- which checks each request and answers 200 (with an Allow header on OPTIONS).
--
-- Environment:
--   SIPP_PORT    SIPp's port on 127.0.0.1
--   TRANSPORT    udp | tcp
--   SIP_TRACE_FILE  optional: every SIP message is written there

package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local t = require "support"

local port = t.env_number("SIPP_PORT")
local transport = t.env("TRANSPORT")
assert(transport == "udp" or transport == "tcp", "TRANSPORT must be udp or tcp")

-- tests/sipp/uas.xml looks for this text at the start of the body.
local BODY = "Hello from luasip"

local sip = t.require_sip()
local events = t.record(sip)

local target = ("sip:sipp@127.0.0.1:%d"):format(port)
if transport == "tcp" then target = target .. ";transport=tcp" end

local function explain(res, code, reason)
  if res then
    return ("got %s %s"):format(tostring(res.status), tostring(res.reason))
  end
  return ("returned nil, %s, %s"):format(tostring(code), tostring(reason))
end

t.main(sip, function(track)
  local ua = track(sip.ua{
    uri = "sip:alice@test.local",
    listen = { "udp:127.0.0.1:0", "tcp:127.0.0.1:0" },
  })

  local res, code, reason = ua:request{ method = "OPTIONS", uri = target }
  t.check("OPTIONS answered 200", res and res.status == 200 and res.reason == "OK",
    explain(res, code, reason))
  local allow = res and res:header("Allow")
  t.check("response header readable (Allow)",
    type(allow) == "string" and allow:find("MESSAGE", 1, true) ~= nil,
    "res:header(\"Allow\") = %s", tostring(allow))

  res, code, reason = ua:request{
    method = "MESSAGE", uri = target,
    headers = { ["Content-Type"] = "text/plain" }, body = BODY,
  }
  t.check("MESSAGE answered 200", res and res.status == 200, explain(res, code, reason))

  -- What left the library: both requests, to SIPp, over the transport asked for,
  -- and the MESSAGE with its exact body and a matching Content-Length.
  local sent = t.select(events, function(e, m)
    return e.dir == "out" and (m.method == "OPTIONS" or m.method == "MESSAGE")
  end)
  local wrong = t.select(sent, function(e)
    return e.transport ~= transport or tonumber(e.port) ~= port
  end)
  t.check("requests sent over " .. transport, #sent >= 2 and #wrong == 0,
    "%d sent, %d elsewhere: %s", #sent, #wrong, t.describe(sent))

  local message = t.select(sent, function(_, m) return m.method == "MESSAGE" end)[1]
  local length = message and tonumber(t.header(message.msg, "Content-Length") or "")
  t.check("MESSAGE carries the body with its Content-Length",
    message and message.msg.body == BODY and length == #BODY,
    message and ("body %q, Content-Length %s"):format(message.msg.body, tostring(length))
      or "no MESSAGE in the trace")
end)
