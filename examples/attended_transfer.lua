-- Attended transfer (RFC 5589 §7.3), the transferor's side: alice talks to bob, puts him
-- on hold, calls carol and talks to her, then transfers bob to carol with
-- call:transfer(other_call). bob's phone calls carol with a Replaces naming alice's call
-- with carol (RFC 3891); carol's phone takes the new call in that call's place, and both
-- of alice's calls end.
--
--   lua5.4 examples/attended_transfer.lua
--       no argument: alice (the script), bob and carol (phones that answer, and follow a
--       REFER or take an INVITE with Replaces as the library does by itself) are three
--       endpoints of this process on loopback. Checks that the transfer succeeded, that
--       alice's two calls ended, carol's call with alice ended "replaced" by bob's, and
--       bob's new call carries carol's sound; exits 1 if not
--   lua5.4 examples/attended_transfer.lua BOB_URI CAROL_URI
--       be alice towards two phones (each answers; bob's must accept REFER, carol's
--       Replaces); prints how it went
-- From the source tree: make build && . tests/env.sh first.
local sip = require "sip"

-- alice's side. True when bob was transferred to carol.
local function consult_and_transfer(ua, bob_uri, carol_uri)
  print("alice: calling bob at " .. bob_uri)
  local bob, code, reason = ua:call(bob_uri)
  if not bob then
    print(("alice: bob did not answer: %s %s"):format(tostring(code), tostring(reason)))
    return false
  end
  sip.sleep(1)
  print("alice: holding bob")
  bob:hold{music = sip.tone{freqs = {350, 440}}}
  print("alice: calling carol at " .. carol_uri)
  local carol
  carol, code, reason = ua:call(carol_uri)
  if not carol then
    print(("alice: carol did not answer: %s %s; back to bob"):format(tostring(code), tostring(reason)))
    bob:unhold()
    bob:hangup()
    return false
  end
  sip.sleep(1)
  print("alice: transferring bob to carol")
  local ok
  ok, code, reason = bob:transfer(carol)
  if not ok then
    print(("alice: the transfer failed: %s %s"):format(tostring(code), tostring(reason)))
    carol:hangup()
    bob:unhold()
    bob:hangup()
    return false
  end
  print(("alice: done; our calls ended (%s, %s)"):format(bob.state, carol.state))
  return bob.state == "ended" and carol.state == "ended"
end

local ok = false
if arg[1] then
  assert(arg[2], "usage: attended_transfer.lua BOB_URI CAROL_URI")
  sip.run(function()
    local alice = assert(sip.ua{uri = "sip:alice@127.0.0.1",
      listen = {"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}})
    ok = consult_and_transfer(alice, arg[1], arg[2])
    alice:close()
  end)
else
  sip.run(function()
    local function endpoint(user)
      return assert(sip.ua{uri = ("sip:%s@127.0.0.1"):format(user), listen = {"udp:127.0.0.1:0"}})
    end
    local function uri_of(ua, user)
      local host, port = ua:address("udp")
      return ("sip:%s@%s:%d"):format(user, host, port)
    end
    local alice, bob, carol = endpoint("alice"), endpoint("bob"), endpoint("carol")
    local bob_ended, carol_ended = {}, {}
    bob:on("INVITE", function(call)
      call:answer()
      bob_ended.why, bob_ended.new = call:wait()
    end)
    carol:on("INVITE", function(call)
      if call.replaces then print("carol: a call from bob takes the place of the one with alice") end
      call:answer()
      sip.spawn(call.play, call, sip.tone{freqs = {600}}, {loop = true})
      local why, by = call:wait()
      if not call.replaces then carol_ended.why, carol_ended.by = why, by end
    end)

    local transferred = consult_and_transfer(alice, uri_of(bob, "bob"), uri_of(carol, "carol"))
    -- bob's phone hears of its old call's end when alice's BYE comes
    for _ = 1, 50 do
      if bob_ended.why and carol_ended.why then break end
      sip.sleep(0.1)
    end
    local new = bob_ended.new
    if transferred and new and new.state == "confirmed" then
      sip.sleep(0.5)
      local heard = new:stats().packets_received
      print(("bob: the call with alice ended %s; now with %s (%d packets heard)"):format(
        bob_ended.why, new.remote_uri, heard))
      print(("carol: the call with alice ended %s"):format(tostring(carol_ended.why)))
      ok = bob_ended.why == "transferred" and carol_ended.why == "replaced" and heard > 10
      new:hangup()
    end
    for _, ua in ipairs{alice, bob, carol} do ua:close() end
  end)
end
print(ok and "attended transfer: ok" or "attended transfer: FAILED")
os.exit(ok and 0 or 1)
