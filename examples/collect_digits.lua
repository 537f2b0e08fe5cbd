-- An IVR menu: answer, play a menu prompt, collect a key with a timeout and act on it: 1
-- plays a short message, 2 asks for an account number ended by # and reads it back as
-- DTMF, 0 or * hangs up; no key replays the menu, twice at most, then the call ends.
-- Keys arrive as RFC 4733 telephone-events (or as in-band tones from a peer without them).
--
--   lua5.4 examples/collect_digits.lua
--       no argument: bob is the IVR, alice calls him from this process on loopback, lets
--       the first menu time out, presses 2, keys in 4711#, collects the number bob reads
--       back and presses 0; the script checks each step; exits 1 if one went wrong
--   lua5.4 examples/collect_digits.lua --answer udp:127.0.0.1:5070
--       be the IVR on that address for a phone or baresip (`/dial sip:ivr@127.0.0.1:5070`,
--       then press keys or `/sndcode 24711#`); runs until interrupted (port 0 takes a free
--       port and prints the URI to call)
-- From the source tree: make build && . tests/env.sh first.
local sip = require "sip"

local MENU = sip.tone{freqs = {440, 660}, on = 0.6, off = 0}   -- "press 1, 2 or 0"
local ASK = sip.tone{freqs = {550}, on = 0.3, off = 0}         -- "your number, then #"
local INFO = sip.tone{freqs = {880}, on = 0.4, off = 0.1}      -- the opening hours
local MENU_TIMEOUT, MAX_MENUS = 2, 3

-- The IVR; returns what happened, step by step, for the self-contained check.
local function ivr(call)
  local log = {}
  local function say(s)
    print("ivr: " .. s)
    log[#log + 1] = s
  end
  say("call from " .. call.remote_uri)
  if not call:answer() then return log end
  for _ = 1, MAX_MENUS do
    -- a key during the prompt stops it and counts
    local key, why = call:collect{prompt = MENU, max = 1, timeout = MENU_TIMEOUT}
    if not key then
      if why == "hangup" then say("caller hung up") return log end
      say("no choice")
    elseif key == "1" then
      say("choice 1")
      call:play(INFO)
    elseif key == "2" then
      say("choice 2")
      local number, w = call:collect{prompt = ASK, max = 10, timeout = 5, terminators = "#"}
      if number then
        say("account " .. number)
        call:send_dtmf(number)  -- read back
        sip.sleep(0.2 * #number + 0.2)
      else
        say("no account: " .. tostring(w))
        if w == "hangup" then return log end
      end
    elseif key == "0" or key == "*" then
      say("goodbye")
      call:hangup()
      return log
    else
      say("no such choice " .. key)
    end
  end
  say("giving up")
  call:hangup()
  return log
end

local ok = true
if arg[1] == "--answer" then
  local listen = arg[2] or "udp:127.0.0.1:5070"
  local ua = assert(sip.ua{uri = "sip:ivr@127.0.0.1", listen = {listen}})
  ua:on("INVITE", ivr)
  io.stdout:setvbuf("line")
  local proto = listen:match("^(%a+):"):lower()
  local host, port = ua:address(proto)
  if host:find(":", 1, true) then host = "[" .. host .. "]" end
  print(("ivr: menu at sip:ivr@%s:%d%s"):format(host, port,
    proto == "tcp" and ";transport=tcp" or ""))
  sip.run()
else
  sip.run(function()
    local bob = assert(sip.ua{uri = "sip:ivr@127.0.0.1", listen = {"udp:127.0.0.1:0"}})
    local log
    bob:on("INVITE", function(call) log = ivr(call) end)
    local alice = assert(sip.ua{uri = "sip:alice@127.0.0.1", listen = {"udp:127.0.0.1:0"}})
    local host, port = bob:address("udp")
    local call, code, reason = alice:call(("sip:ivr@%s:%d"):format(host, port), {timeout = 10})
    local readback
    if not call then
      print(("alice: call failed: %s %s"):format(tostring(code), tostring(reason)))
      ok = false
    else
      -- the first menu goes by without a key, the second gets 2 halfway through
      sip.sleep(MENU.seconds + MENU_TIMEOUT + 0.3)
      print("alice: pressing 2, then 4711#")
      call:send_dtmf("2")
      sip.sleep(0.5)
      call:send_dtmf("4711#")
      readback = call:collect{max = 4, timeout = 4}
      print("alice: bob read back " .. tostring(readback))
      -- a key pressed before the menu comes back is not kept (collect starts afresh), so
      -- alice waits for the menu as a person would, then presses 0
      sip.sleep(1.0)
      call:send_dtmf("0")
      local deadline = sip.now() + 5
      while call.state ~= "ended" and sip.now() < deadline do sip.sleep(0.05) end
      print("alice: call ended: " .. tostring(call.end_reason))
      ok = call.end_reason == "hangup" and readback == "4711"
    end
    local deadline = sip.now() + 2
    while not log and sip.now() < deadline do sip.sleep(0.05) end
    local want = {"call from sip:alice@127.0.0.1", "no choice", "choice 2", "account 4711",
                  "goodbye"}
    local got = table.concat(log or {}, "; ")
    if got ~= table.concat(want, "; ") then
      print("ivr steps were: " .. got)
      print("expected:       " .. table.concat(want, "; "))
      ok = false
    end
    alice:close()
    bob:close()
  end)
  print(ok and "collect digits: as expected" or "collect digits: NOT as expected")
end
os.exit(ok and 0 or 1)
