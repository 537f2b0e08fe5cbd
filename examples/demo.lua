-- The luasip demo: two endpoints in one process on loopback. Alice asks Bob
-- what he supports (OPTIONS) and sends him a text message (MESSAGE), with
-- every SIP message printed as it goes.
--   make demo        (or: . tests/env.sh && lua5.4 examples/demo.lua)
local sip = require "sip"

sip.trace(true)

sip.run(function()
  local bob = sip.ua{ uri = "sip:bob@127.0.0.1", listen = { "udp:127.0.0.1:0", "tcp:127.0.0.1:0" } }
  local alice = sip.ua{ uri = "sip:alice@127.0.0.1", listen = { "udp:127.0.0.1:0", "tcp:127.0.0.1:0" } }

  bob:on("MESSAGE", function(req)
    print(("bob got a message from %s: %q"):format(req.from, req.body))
    return 200
  end)

  local host, port = bob:address("udp")
  local res, code, reason = alice:request{ method = "OPTIONS", uri = ("sip:bob@%s:%d"):format(host, port) }
  assert(res, reason)
  print(("bob answered OPTIONS %d; he allows %s"):format(res.status, res:header("Allow")))

  local _, tport = bob:address("tcp")
  res, code, reason = alice:request{
    method = "MESSAGE",
    uri = ("sip:bob@%s:%d;transport=tcp"):format(host, tport),
    headers = { ["Content-Type"] = "text/plain" },
    body = "Hello Bob, this is Alice.",
  }
  assert(res, reason)
  print(("bob answered MESSAGE %d %s"):format(res.status, res.reason))

  alice:close()
  bob:close()
end)
print("demo done")
