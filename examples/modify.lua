-- Changing a call in progress: the caller puts the callee on hold with a re-INVITE whose
-- offer says a=sendonly, takes it off hold (a=sendrecv), then does the same with UPDATE
-- (RFC 3311), and hangs up. The callee prints what it hears: modified, hold, unhold.
--
--   lua5.4 examples/modify.lua
--       no argument: alice and bob are two endpoints of this process on loopback
--   lua5.4 examples/modify.lua sip:bob@127.0.0.1:5070[;transport=tcp]
--       call that URI (a SIP phone, baresip, or this script in --answer mode) and change
--       the call as above; the far end must allow UPDATE for the second half
--   lua5.4 examples/modify.lua --answer udp:127.0.0.1:5070
--       be the callee on that address: answer each call and print its changes; runs until
--       interrupted
--       (tcp:HOST:PORT for TCP; with port 0 it takes a free port and prints the URI to call)
-- From the source tree: make build && . tests/env.sh first.
local sip = require "sip"

-- Calls the callee still holds: the self-contained run closes bob only when his side is over.
local held = 0

local function answer(call)
  held = held + 1
  print(("bob: call from %s"):format(call.remote_uri))
  call:on("modified", function(c) print("bob: the session changed; we now " .. c.media.dir) end)
  call:on("hold", function() print("bob: alice put us on hold") end)
  call:on("unhold", function() print("bob: alice took us off hold") end)
  local ok, why = call:answer()
  if not ok then
    print("bob: the call went away before it was answered: " .. tostring(why))
    held = held - 1
    return
  end
  print("bob: call ended: " .. call:wait())
  held = held - 1
end

-- Puts the call on hold and back with one method; true when both changes were answered.
local function hold_and_resume(call, method)
  for _, dir in ipairs{"sendonly", "sendrecv"} do
    local ok, code, reason = call:modify{direction = dir, method = method}
    if not ok then
      print(("alice: %s to %s failed: %s %s"):format(method, dir, tostring(code), tostring(reason)))
      return false
    end
    print(("alice: %s answered; we now %s, the offer had o= version %s"):format(method,
      call.media.dir, call.local_sdp:match("\no=%S+ %d+ (%d+)")))
    sip.sleep(0.3)
  end
  return true
end

local function place(ua, uri)
  print("alice: calling " .. uri)
  local call, code, reason = ua:call(uri, {timeout = 30})
  if not call then
    print(("alice: call failed: %s %s"):format(tostring(code), tostring(reason)))
    return false
  end
  print("alice: connected; media " .. call.media.dir)
  local ok = hold_and_resume(call, "INVITE") and hold_and_resume(call, "UPDATE")
  call:hangup()
  print("alice: call ended: " .. call:wait())
  return ok
end

local ok = true
if arg[1] == "--answer" then
  local listen = arg[2] or "udp:127.0.0.1:5070"
  local ua = assert(sip.ua{uri = "sip:bob@127.0.0.1", listen = {listen}})
  ua:on("INVITE", answer)
  -- say where we are (port 0 picks one), at once even when the output is a pipe
  io.stdout:setvbuf("line")
  local proto = listen:match("^(%a+):"):lower()
  local host, port = ua:address(proto)
  if host:find(":", 1, true) then host = "[" .. host .. "]" end
  print(("bob: answering calls at sip:bob@%s:%d%s"):format(host, port,
    proto == "tcp" and ";transport=tcp" or ""))
  sip.run()
elseif arg[1] then
  sip.run(function()
    local alice = assert(sip.ua{uri = "sip:alice@127.0.0.1",
      listen = {"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}})
    ok = place(alice, arg[1])
    alice:close()
  end)
else
  -- over TCP here (basic_call.lua shows UDP): every request of the call follows it
  sip.run(function()
    local bob = assert(sip.ua{uri = "sip:bob@127.0.0.1", listen = {"tcp:127.0.0.1:0"}})
    bob:on("INVITE", answer)
    local alice = assert(sip.ua{uri = "sip:alice@127.0.0.1", listen = {"tcp:127.0.0.1:0"}})
    local host, port = bob:address("tcp")
    ok = place(alice, ("sip:bob@%s:%d;transport=tcp"):format(host, port))
    -- alice's hangup does not wait for the BYE's answer; let bob see the BYE first
    local deadline = sip.now() + 2
    while held > 0 and sip.now() < deadline do sip.sleep(0.05) end
    ok = ok and held == 0
    alice:close()
    bob:close()
  end)
end
os.exit(ok and 0 or 1)
