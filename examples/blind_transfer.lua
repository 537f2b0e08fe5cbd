-- Blind transfer (RFC 5589 §6.1), the transferor's side: bob answers alice, greets her,
-- and transfers her to carol with call:transfer(uri). alice's phone calls carol (REFER,
-- then NOTIFYs of how that call goes); once carol answered, bob's call with alice ends.
--
--   lua5.4 examples/blind_transfer.lua
--       no argument: alice (a phone that follows the REFER: what the library does by
--       itself), bob (the transferor) and carol (the target, who plays a tone) are three
--       endpoints of this process on loopback. Checks that the transfer succeeded, that
--       alice's old call ended "transferred" and her new call is with carol and carries
--       carol's sound; exits 1 if not
--   lua5.4 examples/blind_transfer.lua --answer udp:127.0.0.1:5070 TARGET_URI
--       be bob on that address: answer every call, and after 2 s transfer it to
--       TARGET_URI (a phone, or this script's target); runs until interrupted (tcp:HOST:PORT
--       for TCP; with port 0 it takes a free port and prints the URI to call)
-- From the source tree: make build && . tests/env.sh first.
local sip = require "sip"

-- bob's side: answer, greet, transfer. True when the transfer succeeded.
local function answer_and_transfer(call, target)
  print(("bob: call from %s"):format(call.remote_uri))
  if not call:answer() then return false end
  sip.spawn(call.play, call, sip.tone{freqs = {440}}, {loop = true})
  sip.sleep(2)
  print("bob: transferring the caller to " .. target)
  local ok, code, reason = call:transfer(target, {
    on_progress = function(status, why) print(("bob: the transfer: %d %s"):format(status, why)) end,
  })
  if ok then
    print("bob: transferred; our call with the caller is over")
    return true
  end
  -- RFC 5589 §6: a failed transfer leaves the call as it was; bob takes it back
  print(("bob: the transfer failed (%s %s): the caller is still ours"):format(tostring(code),
    tostring(reason)))
  call:hangup()
  return false
end

local function uri_of(ua, user)
  local host, port = ua:address("udp")
  return ("sip:%s@%s:%d"):format(user, host, port)
end

local ok = false
if arg[1] == "--answer" then
  local listen, target = arg[2] or "udp:127.0.0.1:5070", arg[3]
  assert(target, "usage: blind_transfer.lua --answer udp:HOST:PORT TARGET_URI")
  local ua = assert(sip.ua{uri = "sip:bob@127.0.0.1", listen = {listen}})
  ua:on("INVITE", function(call) answer_and_transfer(call, target) end)
  io.stdout:setvbuf("line")
  local proto = listen:match("^(%a+):"):lower()
  local host, port = ua:address(proto)
  print(("bob: answering calls at sip:bob@%s:%d%s"):format(host, port,
    proto == "tcp" and ";transport=tcp" or ""))
  sip.run()
else
  sip.run(function()
    local function endpoint(user)
      return assert(sip.ua{uri = ("sip:%s@127.0.0.1"):format(user), listen = {"udp:127.0.0.1:0"}})
    end
    local alice, bob, carol = endpoint("alice"), endpoint("bob"), endpoint("carol")
    carol:on("INVITE", function(call)
      print(("carol: call from %s, referred by %s"):format(call.remote_uri,
        tostring(call.request:header("Referred-By"))))
      call:answer()
      call:play(sip.tone{freqs = {600}}, {loop = true})  -- until the call ends
    end)
    local transferred
    bob:on("INVITE", function(call) transferred = answer_and_transfer(call, uri_of(carol, "carol")) end)

    local call = assert(alice:call(uri_of(bob, "bob")))
    print("alice: talking to bob")
    local why, new = call:wait()
    print(("alice: the call with bob ended: %s"):format(why))
    if why == "transferred" and new and new.state == "confirmed" then
      sip.sleep(0.5)
      local heard = new:stats().packets_received
      print(("alice: now talking to %s (%d packets heard)"):format(new.remote_uri, heard))
      ok = transferred and new.remote_uri == uri_of(carol, "carol") and heard > 10
      new:hangup()
    end
    for _, ua in ipairs{alice, bob, carol} do ua:close() end
  end)
  print(ok and "blind transfer: ok" or "blind transfer: FAILED")
end
os.exit(ok and 0 or 1)
