-- Basic call: set-up and normal release. The caller sends INVITE, the callee rings (180),
-- answers (200, ACK), the two talk for a moment, and the caller hangs up (BYE, 200).
--
--   lua5.4 examples/basic_call.lua
--       no argument: alice and bob are two endpoints of this process on loopback
--   lua5.4 examples/basic_call.lua sip:bob@127.0.0.1:5070[;transport=tcp]
--       call that URI (a SIP phone, `sipp -sn uas -i 127.0.0.1 -p 5070`, or this script
--       in --answer mode) and hang up after 2 s
--   lua5.4 examples/basic_call.lua --answer udp:127.0.0.1:5070
--       be the callee on that address: ring, answer each call, wait for the caller's BYE;
--       runs until interrupted
--       (tcp:HOST:PORT for TCP; with port 0 it takes a free port and prints the URI to call)
-- From the source tree: make build && . tests/env.sh first.
local sip = require "sip"

-- Calls the callee still holds: the self-contained run closes bob only when his side is over.
local held = 0

-- The callee: each incoming call runs this in its own task.
local function answer(call)
  held = held + 1
  print(("bob: call from %s"):format(call.remote_uri))
  call:ring()
  sip.sleep(0.5)
  local ok, why = call:answer()
  if not ok then
    print("bob: the call went away before it was answered: " .. tostring(why))
    held = held - 1
    return
  end
  local m = call.media
  print(("bob: answered; %s audio to %s:%d"):format(m.codec, m.addr, m.port))
  print("bob: call ended: " .. call:wait())
  held = held - 1
end

-- The caller: returns true when the call was set up and released as planned.
local function place(ua, uri, talk)
  print("alice: calling " .. uri)
  local call, code, reason = ua:call(uri, {
    timeout = 30,
    on_progress = function(_, status, why) print(("alice: %d %s"):format(status, why)) end,
  })
  if not call then
    print(("alice: call failed: %s %s"):format(tostring(code), tostring(reason)))
    return false
  end
  local m = call.media
  print(("alice: connected (Call-ID %s); %s audio to %s:%d"):format(call.id, m.codec, m.addr,
    m.port))
  sip.sleep(talk)
  call:hangup()
  print("alice: call ended: " .. call:wait())
  return call.end_reason == "local"
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
    ok = place(alice, arg[1], 2)
    alice:close()
  end)
else
  sip.run(function()
    local bob = assert(sip.ua{uri = "sip:bob@127.0.0.1", listen = {"udp:127.0.0.1:0"}})
    bob:on("INVITE", answer)
    local alice = assert(sip.ua{uri = "sip:alice@127.0.0.1", listen = {"udp:127.0.0.1:0"}})
    local host, port = bob:address("udp")
    ok = place(alice, ("sip:bob@%s:%d"):format(host, port), 1)
    -- alice's hangup does not wait for the BYE's answer; let bob see the BYE first
    local deadline = sip.now() + 2
    while held > 0 and sip.now() < deadline do sip.sleep(0.05) end
    ok = ok and held == 0
    alice:close()
    bob:close()
  end)
end
os.exit(ok and 0 or 1)
