-- Call forwarding on no answer, as a B2BUA: the forwarder rings the caller and calls the
-- first target; one that has not answered after RING_SECONDS is cancelled (CANCEL, 487)
-- and makes way for the next, as does one that is unavailable (480, 408). The target's
-- 180 rings the caller and its early media reaches the caller through a bridge (183 with
-- our SDP).
-- When a target answers, the forwarder answers the caller and bridges the two calls until
-- either hangs up, which hangs up the other.
--
--   lua5.4 examples/forward_no_answer.lua
--       no argument: alice calls the forwarder, whose first target bob rings with early
--       media of his own and never answers, and whose second, carol, answers; all four in
--       this process on loopback. Checks that alice hears bob's early media, bob's call
--       ends with 487, alice is answered, each hears the other's tone, and alice's BYE
--       ends both calls; exits 1 if not
--   lua5.4 examples/forward_no_answer.lua --forward udp:127.0.0.1:5070 FIRST_URI SECOND_URI...
--       be the forwarder on that address for every call that comes, trying the URIs in
--       order; runs until interrupted (tcp:HOST:PORT for TCP; with port 0 it takes a free
--       port and prints the URI to call)
-- From the source tree: make build && . tests/env.sh first.
local sip = require "sip"

-- How long a target may ring (a phone would rather wait 15 to 20 s).
local RING_SECONDS = 3

-- The statuses that send the call on to the next target: our CANCEL's 487, and a target
-- that nobody answers for (480) or that does not answer at all (408).
local NO_ANSWER = {[487] = true, [480] = true, [408] = true}

-- Forwards the incoming call `a` to the first of `targets` that answers. Returns the
-- status each target gave (200 for the one that answered), once the call is over.
local function forward(ua, a, targets)
  local statuses, trying = {}, nil
  a:on("ended", function() if trying then trying:hangup() end end)  -- the caller gave up
  a:ring()
  for _, uri in ipairs(targets) do
    print("forwarder: calling " .. uri)
    local b, status, reason = ua:call(uri, {
      timeout = RING_SECONDS,  -- then CANCEL: nil, 487
      on_progress = function(leg, st)
        trying = leg
        if st == 180 then a:ring() end
      end,
      -- the target's ringback or announcement; keep: a target that fails after it
      -- leaves the caller up for the next one
      on_early = function(leg) a:bridge(leg, {keep = true}) end,
    })
    trying = nil
    statuses[#statuses + 1] = b and 200 or status
    if b then
      print("forwarder: " .. uri .. " answered")
      if a:answer() then a:bridge(b) else b:hangup() end
      return statuses
    end
    print(("forwarder: %s: %d %s"):format(uri, status, reason))
    if a.state == "ended" then return statuses end
    if not NO_ANSWER[status] then
      a:hangup(status)
      return statuses
    end
  end
  a:hangup(480)
  return statuses
end

local ok
if arg[1] == "--forward" then
  local listen = arg[2] or "udp:127.0.0.1:5070"
  local targets = table.move(arg, 3, #arg, 1, {})
  assert(#targets > 0, "usage: forward_no_answer.lua --forward udp:HOST:PORT FIRST_URI SECOND_URI...")
  local ua = assert(sip.ua{uri = "sip:forward@127.0.0.1", listen = {listen}})
  ua:on("INVITE", function(a) forward(ua, a, targets) end)
  io.stdout:setvbuf("line")  -- say where we are at once, even when the output is a pipe
  local proto = listen:match("^(%a+):"):lower()
  local host, port = ua:address(proto)
  print(("forwarder: forwarding calls at sip:forward@%s:%d%s"):format(host, port,
    proto == "tcp" and ";transport=tcp" or ""))
  sip.run()
else
  local selftest = dofile((arg[0]:match("^(.*)/") or ".") .. "/support/forward_selftest.lua")
  ok = selftest(forward, "no_answer")
end
os.exit(ok and 0 or 1)
