-- A script phone that is transferred (RFC 5589, the transferee's side). A REFER in a call
-- is accepted by the library: it calls the Refer-To target (with its Replaces, for an
-- attended transfer), tells the transferor how that goes (NOTIFY), and once the new call
-- is up ends the old one "transferred": call:wait() returns "transferred" and the new
-- call. A handler of call:on("refer") sees the REFER first and may refuse it.
--
--   lua5.4 examples/transferee.lua
--       no argument: the phone (alice) calls bob, who transfers her to carol; three
--       endpoints of this process on loopback. Checks that alice's call with bob ended
--       "transferred" and that her new call is with carol and carries carol's sound;
--       exits 1 if not
--   lua5.4 examples/transferee.lua sip:bob@127.0.0.1:5070[;transport=tcp]
--       call that URI (a phone that transfers us, or blind_transfer.lua --answer) and
--       follow its transfer; stays 5 s on the new call
--   lua5.4 examples/transferee.lua --answer udp:127.0.0.1:5070
--       answer every call and follow its transfers; runs until interrupted (tcp:HOST:PORT
--       for TCP; with port 0 it takes a free port and prints the URI to call)
-- From the source tree: make build && . tests/env.sh first.
local sip = require "sip"

-- Refuses transfers to where we will not go; any other is followed.
local function on_refer(call, req)
  print(("phone: %s transfers us to %s"):format(tostring(req.referred_by), req.refer_to))
  if req.refer_to:find("^sip:900") then return 603 end  -- premium numbers: declined
end

-- Follows a call through its transfers until one ends otherwise; returns the last call and
-- how many transfers it went through.
local function follow(call)
  local transfers = 0
  while true do
    call:on("refer", on_refer)
    local why, new = call:wait()
    print(("phone: the call with %s ended: %s"):format(call.remote_uri, why))
    if why ~= "transferred" then return call, transfers end
    transfers = transfers + 1
    print(("phone: now talking to %s"):format(new.remote_uri))
    call = new
  end
end

local ok = false
if arg[1] == "--answer" then
  local listen = arg[2] or "udp:127.0.0.1:5070"
  local ua = assert(sip.ua{uri = "sip:phone@127.0.0.1", listen = {listen}})
  ua:on("INVITE", function(call)
    print("phone: call from " .. call.remote_uri)
    if call:answer() then follow(call) end
  end)
  io.stdout:setvbuf("line")
  local proto = listen:match("^(%a+):"):lower()
  local host, port = ua:address(proto)
  print(("phone: answering calls at sip:phone@%s:%d%s"):format(host, port,
    proto == "tcp" and ";transport=tcp" or ""))
  sip.run()
elseif arg[1] then
  sip.run(function()
    local ua = assert(sip.ua{uri = "sip:phone@127.0.0.1",
      listen = {"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}})
    local call, code, reason = ua:call(arg[1])
    if not call then
      print(("phone: call failed: %s %s"):format(tostring(code), tostring(reason)))
    else
      call:on("refer", on_refer)
      local why, new = call:wait()
      print(("phone: the call ended: %s"):format(why))
      ok = why == "transferred"
      if ok then
        print(("phone: now talking to %s"):format(new.remote_uri))
        sip.sleep(5)
        new:hangup()
      end
    end
    ua:close()
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
    carol:on("INVITE", function(call)
      call:answer()
      call:play(sip.tone{freqs = {600}}, {loop = true})  -- until the call ends
    end)
    bob:on("INVITE", function(call)
      call:answer()
      sip.sleep(0.5)
      print("bob: transferring alice to carol")
      print("bob: transfer: " .. tostring(call:transfer(uri_of(carol, "carol"))))
    end)

    local call = assert(alice:call(uri_of(bob, "bob")))
    call:on("refer", on_refer)
    local why, new = call:wait()
    print(("phone: the call with bob ended: %s"):format(why))
    if why == "transferred" and new.state == "confirmed" then
      sip.sleep(0.5)
      local heard = new:stats().packets_received
      print(("phone: now talking to %s (%d packets heard)"):format(new.remote_uri, heard))
      ok = new.remote_uri == uri_of(carol, "carol") and heard > 10 and call.replaced_by == new
      new:hangup()
    end
    for _, ua in ipairs{alice, bob, carol} do ua:close() end
  end)
end
print(ok and "transferee: ok" or "transferee: FAILED")
os.exit(ok and 0 or 1)
