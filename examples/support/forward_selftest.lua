-- The self-test of the forwarding examples (forward_on_busy.lua, forward_no_answer.lua):
-- alice calls a forwarder whose first target, bob, is busy or does not answer, and whose
-- second, carol, answers; all four are endpoints of this process on loopback. What each
-- party hears is checked by its content: the far party plays a tone, this one records, and
-- the recording's energy at that frequency is measured (Goertzel).
--
-- dofile returns selftest(forward, bob_is): forward(ua, call, targets) is the example's
-- forwarder, bob_is "busy" or "no_answer"; it returns true when every check passed.
local sip = require "sip"

local ALICE_HZ, CAROL_HZ, BOB_HZ = 1000, 600, 425

-- The samples of a 16-bit mono WAV file (as recordings are).
local function read_wav(path)
  local fh = assert(io.open(path, "rb"))
  local s = fh:read("a")
  fh:close()
  local pos, x = 13, {}
  while pos + 8 <= #s + 1 do
    local id, size = string.unpack("<c4I4", s, pos)
    pos = pos + 8
    if id == "data" then
      for i = 0, size // 2 - 1 do x[#x + 1] = string.unpack("<i2", s, pos + 2 * i) end
    end
    pos = pos + size + size % 2
  end
  return x
end

-- The share of the energy of a recording at f Hz (Goertzel): about 1 for a pure tone at
-- f, near 0 for silence or another tone; and its length in seconds.
local function share_at(path, f)
  local x = read_wav(path)
  local c = 2 * math.cos(2 * math.pi * f / 8000)
  local s1, s2, e = 0, 0, 0
  for k = 1, #x do
    s1, s2 = x[k] + c * s1 - s2, s1
    e = e + x[k] * x[k]
  end
  if e == 0 then return 0, #x / 8000 end
  return (s1 * s1 + s2 * s2 - c * s1 * s2) / (#x / 2 * e), #x / 8000
end

-- Waits until cond() is true, at most secs seconds.
local function wait_until(cond, secs)
  local deadline = sip.now() + secs
  while not cond() and sip.now() < deadline do sip.sleep(0.05) end
  return cond()
end

local function uri_of(ua, user)
  local host, port = ua:address("udp")
  return ("sip:%s@%s:%d"):format(user, host, port)
end

local function endpoint(user)
  return assert(sip.ua{uri = "sip:" .. user .. "@127.0.0.1", listen = {"udp:127.0.0.1:0"}})
end

-- bob, the first target: busy, or ringing with early media of his own (an announcement
-- at BOB_HZ) until the forwarder gives up on him.
local bob_behaviours = {
  busy = function() return 486 end,
  no_answer = function(call, seen)
    call:ring()
    call:progress()
    sip.spawn(call.play, call, sip.tone{freqs = {BOB_HZ}}, {loop = true})
    call:wait()
    seen.bob_status = call.end_status
  end,
}

return function(forward, bob_is)
  local ok, seen, files = true, {}, {}
  local function check(what, good, detail)
    print(("%s - %s%s"):format(good and "ok" or "FAIL", what, detail and (" (" .. detail .. ")") or ""))
    ok = ok and good
  end
  local function tmpwav()
    files[#files + 1] = os.tmpname()
    return files[#files]
  end
  -- records what call hears for secs seconds, in a task of its own; r.secs once done
  local function record(call, secs)
    local r = {path = tmpwav(), max = secs}
    sip.spawn(function() r.secs = call:record(r.path, {max = secs}) or 0 end)
    return r
  end
  local function heard(who, r, f)
    local share, secs = share_at(r.path, f)
    check(("%s hears %d Hz"):format(who, f), share > 0.8 and secs > 0.8 * r.max,
      ("%.2f of %.2f s at %d Hz"):format(share, secs, f))
  end

  sip.run(function()
    local alice, fwd, bob, carol = endpoint("alice"), endpoint("forward"), endpoint("bob"), endpoint("carol")
    bob:on("INVITE", function(call) return bob_behaviours[bob_is](call, seen) end)
    carol:on("INVITE", function(call)
      call:ring()
      sip.sleep(0.3)
      if not call:answer() then return end
      seen.carol = call
      sip.spawn(call.play, call, sip.tone{freqs = {CAROL_HZ}}, {loop = true})
      call:wait()
    end)
    fwd:on("INVITE", function(a)
      seen.leg = a
      seen.statuses = forward(fwd, a, {uri_of(bob, "bob"), uri_of(carol, "carol")})
    end)

    local early
    local call, code, reason = alice:call(uri_of(fwd, "forward"), {
      timeout = 15,
      on_progress = function(_, status) print("alice: " .. status) end,
      on_early = function(c) early = record(c, 0.5) end,
    })
    check("alice's call is answered", call ~= nil, call == nil and (code .. " " .. reason) or nil)
    if call then
      if bob_is == "no_answer" then
        check("alice hears bob's early media while he rings", early ~= nil)
        if early and wait_until(function() return early.secs end, 1) then
          heard("alice (early media)", early, BOB_HZ)
        end
      end
      sip.spawn(call.play, call, sip.tone{freqs = {ALICE_HZ}}, {loop = true})
      sip.sleep(0.3)
      local at_alice, at_carol = record(call, 1), record(seen.carol, 1)
      wait_until(function() return at_alice.secs and at_carol.secs end, 3)
      heard("alice", at_alice, CAROL_HZ)
      heard("carol", at_carol, ALICE_HZ)
      call:hangup()
      check("alice's hangup ends carol's call",
        wait_until(function() return seen.carol.state == "ended" end, 2), seen.carol.state)
      check("and the forwarder's call from alice",
        wait_until(function() return seen.leg.state == "ended" end, 2), seen.leg.state)
    end
    wait_until(function() return seen.statuses end, 2)
    local want = bob_is == "busy" and 486 or 487
    local got = seen.statuses and table.concat(seen.statuses, ", ") or "none"
    check(("the forwarder saw bob's %d, then carol's 200"):format(want),
      got == want .. ", 200", got)
    if bob_is == "no_answer" then
      check("bob's call ended with 487 after the forwarder's CANCEL", seen.bob_status == 487,
        tostring(seen.bob_status))
    end
    for _, ua in ipairs{alice, fwd, bob, carol} do ua:close() end
  end)
  for _, f in ipairs(files) do os.remove(f) end
  print(ok and "forwarding: as expected" or "forwarding: NOT as expected")
  return ok
end
