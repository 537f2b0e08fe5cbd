-- Bridges (call:bridge, call:unbridge): bob is a B2BUA between alice and carol, three
-- endpoints in one process. What each party hears is checked by content: the far party
-- plays a tone, this one records, and the recording's energy at that frequency (Goertzel)
-- is measured. Also: early media through the bridge before the callee answers, the end of
-- one call ending the other (or not, with keep), unbridge, music while a leg holds us,
-- digits passed on, and a recording of both directions.
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
local h = dofile(here .. "helper.lua")
local audio = dofile(here .. "audio.lua")
local sip = require "sip"

after_each(h.remove_tmpfiles)

local function endpoint(t, name)
  local ua, code, reason = t.ua { uri = "sip:" .. name .. "@example.com", listen = { "udp:127.0.0.1:0" } }
  assert(ua, ("sip.ua failed: %s %s"):format(tostring(code), tostring(reason)))
  return ua, h.uri_of(ua, "udp", name)
end

-- The share of f Hz in a recording, over its loud part (frames above a quiet floor).
local function share_in(path, f)
  local x = audio.samples(path)
  local loud = {}
  for fr = 0, #x // 160 - 1 do
    local e = 0
    for k = fr * 160 + 1, (fr + 1) * 160 do e = e + x[k] * x[k] end
    if math.sqrt(e / 160) > 300 then
      for k = fr * 160 + 1, (fr + 1) * 160 do loud[#loud + 1] = x[k] end
    end
  end
  if #loud < 800 then return 0, #loud / 8000 end
  return audio.share(loud, 1, #loud, f), #loud / 8000
end

-- Records what `call` hears for `secs` seconds into a new file (call:stop() would stop
-- what it plays too); returns the path.
local function record_for(call, secs, opts)
  local path = h.tmpfile("wav")
  opts = opts or {}
  opts.max = secs
  local got = call:record(path, opts)
  assert(got, "record failed")
  return path
end

-- alice calls bob; bob calls carol and bridges the two: in carol's early media already
-- (keep, so that a callee failing after early media would leave alice for the next), and
-- again once carol answered and bob answered alice. carol_fn(call) runs in carol's INVITE
-- handler before she answers; alice_opts go to alice's ua:call.
local function b2bua(t, bob_opts, carol_fn, alice_opts)
  local got = {}
  local alice = endpoint(t, "alice")
  local carol, carol_uri = endpoint(t, "carol")
  local bob, bob_uri = endpoint(t, "bob")
  carol:on("INVITE", function(call)
    got.carol = call
    if carol_fn then carol_fn(call, got) end
    if call.state ~= "ended" then call:answer() end
    call:wait()
  end)
  bob:on("INVITE", function(a)
    got.a = a
    a:ring()
    local b, code = bob:call(carol_uri, { on_early = function(b)
      got.early_bridge = h.task(a.bridge, a, b, { keep = true })
    end })
    if not b then got.failed = code; return 480 end
    got.b = b
    a:answer()
    got.bridge = h.task(a.bridge, a, b, bob_opts)
  end)
  local call, code, reason = alice:call(bob_uri, alice_opts)
  assert(call, ("call failed: %s %s"):format(tostring(code), tostring(reason)))
  assert(h.wait_until(function() return got.bridge ~= nil end, 3), "not bridged")
  return call, got
end

describe("call:bridge", function()
  it("relays each party's audio to the other, and the caller's BYE ends both", function()
    h.run(function(t)
      local call, got = b2bua(t)
      local carol = got.carol
      sip.spawn(call.play, call, sip.tone { freqs = { 1000 } }, { loop = true })
      sip.spawn(carol.play, carol, sip.tone { freqs = { 600 } }, { loop = true })
      sip.sleep(0.3)
      local at_carol = record_for(carol, 1.0)
      local at_alice = record_for(call, 1.0)
      local s1000, secs = share_in(at_carol, 1000)
      assert.is_true(secs > 0.8, ("carol heard %.2f s"):format(secs))
      assert.is_true(s1000 > 0.8, ("carol's recording: %.2f at 1000 Hz"):format(s1000))
      local s600
      s600, secs = share_in(at_alice, 600)
      assert.is_true(secs > 0.8, ("alice heard %.2f s"):format(secs))
      assert.is_true(s600 > 0.8, ("alice's recording: %.2f at 600 Hz"):format(s600))
      -- the legs' stats: bob relayed, and decoded nothing to do it
      assert.is_true(got.a:stats().packets_sent > 40 and got.b:stats().packets_sent > 40)
      call:hangup()
      assert(h.wait_until(function() return got.bridge.res ~= nil end, 2), "bridge did not return")
      assert.equal(got.a, got.bridge.res[1])
      assert.equal("hangup", got.bridge.res[2])
      assert.is_true(h.wait_until(function() return carol.state == "ended" end, 2), "carol's call stays up")
    end)
  end)

  it("relays the callee's early media to a caller not answered yet (183 with our SDP)", function()
    h.run(function(t)
      local early_path, early = h.tmpfile("wav"), nil
      local call, got = b2bua(t, nil, function(c)
        c:progress()
        sip.spawn(c.play, c, sip.tone { freqs = { 425 } }, { loop = true })
        sip.sleep(1.5)
        c:stop()
      end, { on_early = function(c) early = h.task(c.record, c, early_path, { max = 1.0 }) end })
      assert.is_not_nil(early, "alice had no early media")
      assert(h.wait_until(function() return early.res ~= nil end, 2), "early record did not return")
      local s425, secs = share_in(early_path, 425)
      assert.is_true(secs > 0.5, ("alice heard %.2f s of early media"):format(secs))
      assert.is_true(s425 > 0.8, ("alice's early media: %.2f at 425 Hz"):format(s425))
      -- the bridge made in carol's early media is the one bob joined after the answer
      assert.is_not_nil(got.early_bridge)
      assert.is_nil(got.early_bridge.res)
      call:hangup()
      assert(h.wait_until(function() return got.bridge.res ~= nil end, 2))
      assert(h.wait_until(function() return got.early_bridge.res ~= nil end, 2))
      assert.equal("hangup", got.early_bridge.res[2])
    end)
  end)

  it("unbridge parts the calls and both stay up; keep leaves the other call up", function()
    h.run(function(t)
      local call, got = b2bua(t, { keep = true })
      local carol = got.carol
      assert.is_true(got.a:unbridge())
      assert(h.wait_until(function() return got.bridge.res ~= nil end, 1), "bridge did not return")
      assert.same({ n = 2, nil, "unbridged" }, got.bridge.res)
      assert.is_false(got.a:unbridge())
      sip.spawn(carol.play, carol, sip.tone { freqs = { 600 } }, { loop = true })
      sip.sleep(0.1)
      local before = call:stats().packets_received
      sip.sleep(0.5)
      assert.equal(before, call:stats().packets_received, "alice still hears carol")
      assert.equal("confirmed", call.state)
      assert.equal("confirmed", carol.state)
      -- bridged again, with keep: carol's BYE leaves alice's call up
      local r = h.task(got.a.bridge, got.a, got.b, { keep = true })
      sip.sleep(0.1)
      carol:hangup()
      assert(h.wait_until(function() return r.res ~= nil end, 2), "bridge did not return")
      assert.equal(got.b, r.res[1])
      sip.sleep(0.2)
      assert.equal("confirmed", call.state)
      call:hangup()
    end)
  end)

  it("gives a party music while the other holds us, and relays again after", function()
    h.run(function(t)
      local call, got = b2bua(t, { music = sip.tone { freqs = { 800 } } })
      local carol = got.carol
      sip.spawn(carol.play, carol, sip.tone { freqs = { 600 } }, { loop = true })
      assert.is_true(carol:modify { direction = "sendonly" })
      local held = record_for(call, 0.8)
      local s800, secs = share_in(held, 800)
      assert.is_true(secs > 0.5 and s800 > 0.8, ("alice on hold: %.2f s, %.2f at 800 Hz"):format(secs, s800))
      assert.is_true(carol:modify { direction = "sendrecv" })
      sip.sleep(0.1)
      local back = record_for(call, 0.8)
      local s600
      s600, secs = share_in(back, 600)
      assert.is_true(secs > 0.5 and s600 > 0.8, ("alice after: %.2f s, %.2f at 600 Hz"):format(secs, s600))
      call:hangup()
    end)
  end)

  it("passes digits on and still tells them on the leg that sent them", function()
    h.run(function(t)
      local call, got = b2bua(t)
      local seen = {}
      got.a:on("dtmf", function(_, d) seen[#seen + 1] = d end)
      local r = h.task(got.carol.collect, got.carol, { max = 3, timeout = 3 })
      sip.sleep(0.2)
      call:send_dtmf("5#7")
      assert(h.wait_until(function() return r.res ~= nil end, 3), "collect did not return")
      assert.equal("5#7", r.res[1])
      assert.same({ "5", "#", "7" }, seen)
      call:hangup()
    end)
  end)

  it("plays into a bridged call over what it relays, and records both directions", function()
    h.run(function(t)
      local call, got = b2bua(t)
      local carol = got.carol
      sip.spawn(call.play, call, sip.tone { freqs = { 1000 } }, { loop = true })
      sip.spawn(carol.play, carol, sip.tone { freqs = { 600 } }, { loop = true })
      sip.spawn(got.b.play, got.b, sip.tone { freqs = { 425 } }, { loop = true })
      sip.sleep(0.2)
      local at_carol = record_for(carol, 0.8)
      assert.is_true(share_in(at_carol, 1000) > 0.3, "carol does not hear alice over the play")
      assert.is_true(share_in(at_carol, 425) > 0.3, "carol does not hear the play")
      local both = record_for(got.a, 0.8, { both = true })
      assert.is_true(share_in(both, 1000) > 0.2, "both: alice's side missing")
      assert.is_true(share_in(both, 600) > 0.2, "both: carol's side missing")
      call:hangup()
    end)
  end)

  it("refuses what is not a call, and the call itself", function()
    h.run(function(t)
      local call, got = b2bua(t)
      assert.has_error(function() got.a:bridge("x") end, "call:bridge: expected a call")
      assert.has_error(function() got.a:bridge(got.a) end, "call:bridge: a call cannot be bridged to itself")
      assert.has_error(function() got.a:bridge(got.b, { loud = true }) end)
      call:hangup()
    end)
  end)
end)
