-- Calls nobody answers, three ways:
--   1. the callee rings and the caller gives up after its timeout: CANCEL, and ua:call
--      returns nil, 487, "Request Terminated"; the callee's call:wait() says "cancelled";
--   2. the callee rings but nobody takes the call: the far end's endpoint answers
--      480 Temporarily Unavailable 64*T1 after its handler ended;
--   3. nothing answers at all: the INVITE is resent until Timer B (64*T1), then
--      nil, 408, "Request Timeout".
-- T1 is 50 ms here (sip.ua{timers = {t1 = 0.05}}) so that 64*T1 is 3.2 s, not 32 s.
--
--   lua5.4 examples/no_answer.lua
--       no argument: all three, with the far ends in this process on loopback
--   lua5.4 examples/no_answer.lua sip:bob@127.0.0.1:5070[;transport=tcp] [SECONDS]
--       call that URI (a phone nobody picks up, or this script in --answer mode), cancel
--       after SECONDS (default 5), and print what came back (487, 480, 408 ...)
--   lua5.4 examples/no_answer.lua --answer udp:127.0.0.1:5070
--       be a callee that rings and never answers; runs until interrupted
--       (tcp:HOST:PORT for TCP; with port 0 it takes a free port and prints the URI to call)
-- From the source tree: make build && . tests/env.sh first.
local sip = require "sip"

local T1 = 0.05

-- Rings, then waits for the call to end without answering it.
local function ring_forever(call)
  print(("bob: call from %s, ringing"):format(call.remote_uri))
  call:ring()
  print("bob: the call ended: " .. call:wait())
end

-- Rings and leaves the call: nobody holds it, so the endpoint answers 480 itself.
local function ring_and_leave(call)
  print(("carol: call from %s, ringing, and nobody is home"):format(call.remote_uri))
  call:ring()
end

-- Calls uri; true when the failure is the expected one.
local function place(ua, uri, timeout, expected)
  print(("alice: calling %s (giving up after %g s)"):format(uri, timeout))
  local t0 = sip.now()
  local call, code, reason = ua:call(uri, {
    timeout = timeout,
    on_progress = function(_, status, why) print(("alice: %d %s"):format(status, why)) end,
  })
  if call then
    print("alice: answered after all; hanging up")
    call:hangup()
    return false
  end
  print(("alice: %s %s after %.1f s"):format(tostring(code), tostring(reason), sip.now() - t0))
  return expected == nil or code == expected
end

local ok = true
if arg[1] == "--answer" then
  local listen = arg[2] or "udp:127.0.0.1:5070"
  local ua = assert(sip.ua{uri = "sip:bob@127.0.0.1", listen = {listen}})
  ua:on("INVITE", ring_forever)
  -- say where we are (port 0 picks one), at once even when the output is a pipe
  io.stdout:setvbuf("line")
  local proto = listen:match("^(%a+):"):lower()
  local host, port = ua:address(proto)
  if host:find(":", 1, true) then host = "[" .. host .. "]" end
  print(("bob: ringing for calls at sip:bob@%s:%d%s"):format(host, port,
    proto == "tcp" and ";transport=tcp" or ""))
  sip.run()
elseif arg[1] then
  sip.run(function()
    local alice = assert(sip.ua{uri = "sip:alice@127.0.0.1",
      listen = {"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}})
    ok = place(alice, arg[1], tonumber(arg[2]) or 5)
    alice:close()
  end)
else
  sip.run(function()
    local alice = assert(sip.ua{uri = "sip:alice@127.0.0.1", listen = {"udp:127.0.0.1:0"},
      timers = {t1 = T1}})
    local function uri_of(ua, user)
      local host, port = ua:address("udp")
      return ("sip:%s@%s:%d"):format(user, host, port)
    end

    local bob = assert(sip.ua{uri = "sip:bob@127.0.0.1", listen = {"udp:127.0.0.1:0"}})
    bob:on("INVITE", ring_forever)
    ok = place(alice, uri_of(bob, "bob"), 1, 487)
    bob:close()

    local carol = assert(sip.ua{uri = "sip:carol@127.0.0.1", listen = {"udp:127.0.0.1:0"},
      timers = {t1 = T1}})
    carol:on("INVITE", ring_and_leave)
    ok = place(alice, uri_of(carol, "carol"), 30, 480) and ok
    carol:close()

    -- a port that was just free: nobody listens there
    local gone = assert(sip.ua{listen = {"udp:127.0.0.1:0"}})
    local nobody = uri_of(gone, "dave")
    gone:close()
    ok = place(alice, nobody, 30, 408) and ok
    alice:close()
  end)
end
os.exit(ok and 0 or 1)
