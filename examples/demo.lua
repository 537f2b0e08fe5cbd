-- The luasip demo: a whole call between two endpoints of one process on loopback, with
-- every SIP message printed as it goes. Alice asks Bob what he supports (OPTIONS), then
-- calls him; Bob rings and answers; Alice puts him on hold (re-INVITE with a=sendonly) and
-- takes him off hold again; Bob hangs up (BYE).
--   make demo        (or: . tests/env.sh && lua5.4 examples/demo.lua)
local sip = require "sip"

sip.trace(true)

-- What the demo says, set apart from the trace.
local function say(fmt, ...)
  print(("*** " .. fmt):format(...))
end

local ok = false
sip.run(function()
  local bob = assert(sip.ua{ uri = "sip:bob@127.0.0.1", listen = { "udp:127.0.0.1:0" } })
  local alice = assert(sip.ua{ uri = "sip:alice@127.0.0.1", listen = { "udp:127.0.0.1:0" } })
  local host, port = bob:address("udp")
  local bob_uri = ("sip:bob@%s:%d"):format(host, port)

  local bob_done = false
  bob:on("INVITE", function(call)
    say("bob: call from %s; ringing", call.remote_uri)
    local resumed = false
    call:on("hold", function() say("bob: alice put me on hold") end)
    call:on("unhold", function() say("bob: alice took me off hold") resumed = true end)
    call:ring()
    sip.sleep(1)
    assert(call:answer())
    say("bob: answered; %s audio goes to %s:%d", call.media.codec, call.media.addr,
      call.media.port)
    -- talk until alice has had him on hold and back (at most 5 s), then hang up
    local deadline = sip.now() + 5
    while not resumed and sip.now() < deadline do sip.sleep(0.1) end
    sip.sleep(0.5)
    call:hangup()
    say("bob: I hung up (%s)", call:wait())
    bob_done = true
  end)

  -- after bob:on("INVITE"), so that his Allow header lists INVITE
  local res, code, reason = alice:request{ method = "OPTIONS", uri = bob_uri }
  assert(res, reason)
  say("bob answered OPTIONS %d; he allows %s", res.status, res:header("Allow"))

  local call
  call, code, reason = alice:call(bob_uri, {
    timeout = 10,
    on_progress = function(_, status, why) say("alice: %d %s", status, why) end,
  })
  assert(call, ("call failed: %s %s"):format(tostring(code), tostring(reason)))
  say("alice: connected, Call-ID %s", call.id)
  sip.sleep(0.5)

  assert(call:modify{ direction = "sendonly" })
  say("alice: bob is on hold (I %s)", call.media.dir)
  sip.sleep(0.5)
  assert(call:modify{ direction = "sendrecv" })
  say("alice: bob is back (I %s)", call.media.dir)

  say("alice: the call ended: %s", call:wait())
  ok = call.end_reason == "hangup"
  -- bob's task goes on after his BYE: let it finish before his endpoint closes
  local deadline = sip.now() + 2
  while not bob_done and sip.now() < deadline do sip.sleep(0.05) end
  ok = ok and bob_done
  alice:close()
  bob:close()
end)
print(ok and "demo done" or "demo failed")
os.exit(ok and 0 or 1)
