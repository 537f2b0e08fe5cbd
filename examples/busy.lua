-- A busy callee: the caller's INVITE gets 486 Busy Here (with Retry-After), and ua:call
-- returns nil, 486, "Busy Here" and the response. The callee shows both ways to refuse:
-- call:reject(486, ...) in the handler, or simply returning the status.
--
--   lua5.4 examples/busy.lua
--       no argument: alice and bob are two endpoints of this process on loopback
--   lua5.4 examples/busy.lua sip:bob@127.0.0.1:5070[;transport=tcp]
--       call that URI (a phone set to do-not-disturb, or this script in --answer mode)
--       and print the failure
--   lua5.4 examples/busy.lua --answer udp:127.0.0.1:5070
--       be the busy callee on that address: refuse every call; runs until interrupted
--       (tcp:HOST:PORT for TCP; with port 0 it takes a free port and prints the URI to call)
-- From the source tree: make build && . tests/env.sh first.
local sip = require "sip"

local function refuse(call)
  print(("bob: call from %s, but we are busy"):format(call.remote_uri))
  if call.request:header("Subject") == "short" then
    return 486 -- a returned status rejects the call with it
  end
  call:reject(486, "Busy Here", {["Retry-After"] = "60"})
end

-- Calls uri and expects a refusal; true when the far end said busy.
local function place(ua, uri, subject)
  print("alice: calling " .. uri)
  local call, code, reason, res = ua:call(uri, {timeout = 30, headers = {Subject = subject}})
  if call then
    print("alice: the call was answered after all; hanging up")
    call:hangup()
    return false
  end
  print(("alice: call failed: %s %s%s"):format(tostring(code), tostring(reason),
    res and res:header("Retry-After") and (", retry after " .. res:header("Retry-After") .. " s")
    or ""))
  return code == 486
end

local ok = true
if arg[1] == "--answer" then
  local listen = arg[2] or "udp:127.0.0.1:5070"
  local ua = assert(sip.ua{uri = "sip:bob@127.0.0.1", listen = {listen}})
  ua:on("INVITE", refuse)
  -- say where we are (port 0 picks one), at once even when the output is a pipe
  io.stdout:setvbuf("line")
  local proto = listen:match("^(%a+):"):lower()
  local host, port = ua:address(proto)
  if host:find(":", 1, true) then host = "[" .. host .. "]" end
  print(("bob: refusing calls at sip:bob@%s:%d%s"):format(host, port,
    proto == "tcp" and ";transport=tcp" or ""))
  sip.run()
elseif arg[1] then
  sip.run(function()
    local alice = assert(sip.ua{uri = "sip:alice@127.0.0.1",
      listen = {"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}})
    ok = place(alice, arg[1], "call")
    alice:close()
  end)
else
  sip.run(function()
    local bob = assert(sip.ua{uri = "sip:bob@127.0.0.1", listen = {"udp:127.0.0.1:0"}})
    bob:on("INVITE", refuse)
    local alice = assert(sip.ua{uri = "sip:alice@127.0.0.1", listen = {"udp:127.0.0.1:0"}})
    local host, port = bob:address("udp")
    local uri = ("sip:bob@%s:%d"):format(host, port)
    ok = place(alice, uri, "call") and place(alice, uri, "short")
    alice:close()
    bob:close()
  end)
end
os.exit(ok and 0 or 1)
