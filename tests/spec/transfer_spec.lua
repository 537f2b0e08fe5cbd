-- Call transfer (RFC 3515, RFC 5589, RFC 3891, RFC 4488) among three endpoints of one
-- process on loopback: alice calls bob, bob transfers alice to carol. Blind (a URI) and
-- attended (bob's call with carol, which alice's INVITE replaces); refused by alice's
-- handler; failed at carol (486 in the sipfrag); keep; Refer-Sub: false. What alice hears
-- on her new call is checked by content: carol's tone.
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
local h = dofile(here .. "helper.lua")
local audio = dofile(here .. "audio.lua")
local sip = require "sip"

local function endpoint(t, name)
  local ua, code, reason = t.ua { uri = "sip:" .. name .. "@example.com", listen = { "udp:127.0.0.1:0" } }
  assert(ua, ("sip.ua failed: %s %s"):format(tostring(code), tostring(reason)))
  return ua, h.uri_of(ua, "udp", name)
end

-- Every incoming call of ua goes to answer(call) (default: answered), and is kept in the
-- list returned.
local function answering(ua, answer)
  local calls = {}
  ua:on("INVITE", function(call)
    calls[#calls + 1] = call
    if answer then return answer(call) end
    call:answer()
    call:wait()
  end)
  return calls
end

-- alice calls bob: alice's call and bob's, both up.
local function a_calls_b(alice, bob_uri, bob_calls)
  local n = #bob_calls
  local ab, code, reason = alice:call(bob_uri)
  assert(ab, ("call failed: %s %s"):format(tostring(code), tostring(reason)))
  assert(h.wait_until(function() return bob_calls[n + 1] and bob_calls[n + 1].state == "confirmed" end))
  return ab, bob_calls[n + 1]
end

-- The share of f Hz in what call hears for secs seconds.
local function heard(call, f, secs)
  local path = h.tmpfile("wav")
  assert(call:record(path, { max = secs }))
  local x = audio.samples(path)
  return audio.frames_of(x, f) / math.max(1, #x // audio.FRAME)
end

local function ended(call)
  return h.wait_until(function() return call.state == "ended" end)
end

describe("call:transfer", function()
  after_each(h.remove_tmpfiles)

  it("blind: alice's new call to carol is up, she hears carol, bob's call with her ends", function()
    h.run(function(t)
      local alice = endpoint(t, "alice")
      local bob, bob_uri = endpoint(t, "bob")
      local carol, carol_uri = endpoint(t, "carol")
      local bob_calls = answering(bob)
      local carol_calls = answering(carol, function(call)
        call:answer()
        call:play(sip.tone { freqs = { 600 } }, { loop = true })
      end)
      local events = t.trace()
      local ab, ba = a_calls_b(alice, bob_uri, bob_calls)
      local waited = h.task(ab.wait, ab)

      local progress = {}
      local ok, code, reason = ba:transfer(carol_uri, {
        on_progress = function(status) progress[#progress + 1] = status end })
      assert.is_true(ok, ("transfer failed: %s %s"):format(tostring(code), tostring(reason)))
      assert.equal(100, progress[1])
      assert.equal(200, progress[#progress])

      -- bob's call with alice ends (his BYE, or hers)
      assert.is_true(ended(ba))
      assert.is_true(h.wait_until(function() return waited.res ~= nil end))
      local why, new = waited.res[1], waited.res[2]
      assert.equal("transferred", why)
      assert.equal("transferred", ab.end_reason)
      assert.equal(new, ab.replaced_by)
      assert.equal("confirmed", new.state)
      assert.equal(carol_uri, new.remote_uri)
      assert.same({ "transferred", new }, { ab:wait() })

      -- carol's INVITE says who referred alice: bob
      local cc = carol_calls[1]
      assert.equal("<" .. ba.local_uri .. ">", cc.request:header("Referred-By"))
      -- the REFER and its NOTIFYs: 202, then sipfrags 100 and 200
      assert.equal(1, #h.events(events, "REFER ", "out"))
      local notifies = h.events(events, "NOTIFY ", "in")
      assert.truthy(notifies[1].text:find("SIP/2.0 100 Trying", 1, true))
      assert.truthy(notifies[#notifies].text:find("SIP/2.0 200", 1, true))
      assert.truthy(h.header_of(notifies[#notifies].text, "Subscription-State"):find("^terminated"))

      local share = heard(new, 600, 0.8)
      assert.is_true(share > 0.5, ("alice hears %.2f of her frames at 600 Hz"):format(share))
      new:hangup()
    end)
  end)

  it("refused by the transferee's handler (603): nil, 603 and the call stays up", function()
    h.run(function(t)
      local alice = endpoint(t, "alice")
      local bob, bob_uri = endpoint(t, "bob")
      local _, carol_uri = endpoint(t, "carol")
      local bob_calls = answering(bob)
      local ab, ba = a_calls_b(alice, bob_uri, bob_calls)
      local seen
      ab:on("refer", function(_, req)
        seen = { refer_to = req.refer_to, referred_by = req.referred_by, method = req.method }
        return 603
      end)
      local ok, code = ba:transfer(carol_uri)
      assert.is_nil(ok)
      assert.equal(603, code)
      assert.same({ refer_to = carol_uri, method = "REFER" },
        { refer_to = seen.refer_to, method = seen.method })
      assert.equal("<" .. ba.local_uri .. ">", seen.referred_by)
      sip.sleep(0.1)
      assert.equal("confirmed", ab.state)
      assert.equal("confirmed", ba.state)
      ab:hangup()
    end)
  end)

  it("to a busy target: the sipfrag's 486 is the outcome and the call stays up", function()
    h.run(function(t)
      local alice = endpoint(t, "alice")
      local bob, bob_uri = endpoint(t, "bob")
      local carol, carol_uri = endpoint(t, "carol")
      local bob_calls = answering(bob)
      answering(carol, function() return 486 end)
      local ab, ba = a_calls_b(alice, bob_uri, bob_calls)
      local ok, code, reason = ba:transfer(carol_uri)
      assert.is_nil(ok)
      assert.equal(486, code)
      assert.equal("Busy Here", reason)
      sip.sleep(0.1)
      assert.equal("confirmed", ab.state)
      assert.equal("confirmed", ba.state)
      assert.equal(0, #carol:calls())
      ab:hangup()
    end)
  end)

  it("with no final NOTIFY within the timeout: nil, 408 and the call stays up", function()
    h.run(function(t)
      local alice = endpoint(t, "alice")
      local bob, bob_uri = endpoint(t, "bob")
      local carol, carol_uri = endpoint(t, "carol")
      answering(carol, function(call)
        call:ring()  -- and never answers
        call:wait()
      end)
      local bob_calls = answering(bob)
      local ab, ba = a_calls_b(alice, bob_uri, bob_calls)
      local progress = {}
      local started = sip.now()
      local ok, code = ba:transfer(carol_uri, { timeout = 0.5,
        on_progress = function(status) progress[#progress + 1] = status end })
      assert.is_nil(ok)
      assert.equal(408, code)
      assert.is_true(sip.now() - started < 2)
      assert.same({ 100, 180 }, progress)
      assert.equal("confirmed", ba.state)
      assert.equal("confirmed", ab.state)
      ab:hangup()
    end)
  end)

  it("attended: alice's INVITE replaces bob's call with carol; bob's two calls end", function()
    h.run(function(t)
      local alice = endpoint(t, "alice")
      local bob, bob_uri = endpoint(t, "bob")
      local carol, carol_uri = endpoint(t, "carol")
      local bob_calls = answering(bob)
      local carol_calls = answering(carol, function(call)
        call:answer()
        call:play(sip.tone { freqs = { 600 } }, { loop = true })
        call:wait()
      end)
      local ab, ba = a_calls_b(alice, bob_uri, bob_calls)
      local bc = assert(bob:call(carol_uri))
      assert(h.wait_until(function() return carol_calls[1] and carol_calls[1].state == "confirmed" end))
      local cb = carol_calls[1]
      local carol_waited = h.task(cb.wait, cb)

      local ok, code, reason = ba:transfer(bc)
      assert.is_true(ok, ("transfer failed: %s %s"):format(tostring(code), tostring(reason)))
      assert.is_true(ended(ba))
      assert.is_true(ended(bc))

      -- carol: the new call from alice took her call with bob's place
      assert.is_true(h.wait_until(function() return carol_waited.res ~= nil end))
      local ca = carol_calls[2]
      assert.is_not_nil(ca)
      assert.equal(cb, ca.replaces)
      assert.same({ "replaced", ca, n = 2 }, carol_waited.res)

      -- alice: her call with bob ended "transferred", her new call is with carol
      local why, new = ab:wait()
      assert.equal("transferred", why)
      assert.equal("confirmed", new.state)
      assert.equal(ca.id, new.id)
      local share = heard(new, 600, 0.8)
      assert.is_true(share > 0.5, ("alice hears %.2f of her frames at 600 Hz"):format(share))
      new:hangup()
    end)
  end)

  it("with keep: true once transferred, and the transferor sends no BYE", function()
    h.run(function(t)
      local alice = endpoint(t, "alice")
      local bob, bob_uri = endpoint(t, "bob")
      local carol, carol_uri = endpoint(t, "carol")
      answering(carol)
      local bob_calls = answering(bob)
      local ab, ba = a_calls_b(alice, bob_uri, bob_calls)
      assert.is_true(ba:transfer(carol_uri, { keep = true }))
      assert.equal("confirmed", ba.state)
      -- the transferee hangs up the old call itself, a moment later
      assert.is_true(h.wait_until(function() return ba.state == "ended" end, 4))
      assert.equal("hangup", ba.end_reason)
      assert.equal("transferred", ab:wait())
      ab.replaced_by:hangup()
    end)
  end)

  it("with subscription = false: the REFER's 2xx is the success, no NOTIFY comes", function()
    h.run(function(t)
      local alice = endpoint(t, "alice")
      local bob, bob_uri = endpoint(t, "bob")
      local carol, carol_uri = endpoint(t, "carol")
      answering(carol)
      local bob_calls = answering(bob)
      local events = t.trace()
      local ab, ba = a_calls_b(alice, bob_uri, bob_calls)
      assert.is_true(ba:transfer(carol_uri, { subscription = false }))
      assert.equal("transferred", ab:wait())
      assert.equal("confirmed", ab.replaced_by.state)
      local refers = h.events(events, "REFER ", "out")
      assert.equal("false", h.header_of(refers[1].text, "Refer-Sub"))
      assert.equal(0, #h.events(events, "NOTIFY ", "out"))
      ab.replaced_by:hangup()
    end)
  end)

  it("REFER is in the Allow of a call's 2xx, with no handler", function()
    h.run(function(t)
      local alice = endpoint(t, "alice")
      local bob, bob_uri = endpoint(t, "bob")
      answering(bob)
      local events = t.trace()
      local ab = assert(alice:call(bob_uri))
      local ok = h.events(events, "SIP/2.0 200", "in")[1]
      local allow = {}
      for m in h.header_of(ok.text, "Allow"):gmatch("[^, ]+") do allow[m] = true end
      assert.is_true(allow.REFER, h.header_of(ok.text, "Allow"))
      ab:hangup()
    end)
  end)
end)
