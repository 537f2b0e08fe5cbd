-- Hold with music (RFC 3264 §8.4, RFC 6337 §5) and what call waiting builds on, between
-- two endpoints of one process on loopback: the directions our offers and answers say
-- (call.local_sdp, call.media.dir), call.held on both sides, the hold and unhold events,
-- and the audio by content: the held side records, and the music's frequency is what it
-- hears. A peer that holds us gets nothing, our music included. A refused hold (SIPp
-- answering 488) leaves the call as it was; that one spec is pending without SIPp, except
-- under make test (LUASIP_REQUIRE_PEERS=1), where a missing SIPp is a failure.
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
local h = dofile(here .. "helper.lua")
local audio = dofile(here .. "audio.lua")
local sip = require "sip"

local MUSIC_HZ, PLAY_HZ = 700, 1100  -- whole cycles in a 20 ms frame: clean Goertzel bins

after_each(h.remove_tmpfiles)

-- alice calls bob, who answers and counts his hold and unhold events (got.holds,
-- got.unholds); alice's are counted in mine. Returns alice's call, bob's, got, mine, and
-- the two endpoints.
local function connect(t)
  local alice = assert(t.ua{uri = "sip:alice@example.com", listen = {"udp:127.0.0.1:0"}})
  local bob = assert(t.ua{uri = "sip:bob@example.org", listen = {"udp:127.0.0.1:0"}})
  local got = {holds = 0, unholds = 0}
  bob:on("INVITE", function(c)
    c:on("hold", function() got.holds = got.holds + 1 end)
    c:on("unhold", function() got.unholds = got.unholds + 1 end)
    got.call = c
    got.answered = c:answer()
    c:wait()
  end)
  local call, code, reason = alice:call(h.uri_of(bob, "udp"))
  assert(call, ("call failed: %s %s"):format(tostring(code), tostring(reason)))
  assert.is_true(h.wait_until(function() return got.answered ~= nil end, 2))
  local mine = {holds = 0, unholds = 0}
  call:on("hold", function() mine.holds = mine.holds + 1 end)
  call:on("unhold", function() mine.unholds = mine.unholds + 1 end)
  return call, got.call, got, mine, alice, bob
end

-- The direction attribute of an SDP (ours have one, on the audio line).
local function dir_of(sdp)
  for _, d in ipairs { "sendrecv", "sendonly", "recvonly", "inactive" } do
    if sdp:find("\na=" .. d .. "\r\n", 1, true) then return d end
  end
end

-- Whether `call` sends nothing more over a few ticks of the media clock.
local function sends_nothing(call)
  local n = call:stats().packets_sent
  sip.sleep(0.3)
  return call:stats().packets_sent == n
end

-- Records what `call` hears until the returned function is called, which returns the
-- samples.
local function listen(call)
  local path = h.tmpfile("wav")
  local r = h.task(call.record, call, path)
  return function()
    call:stop()
    assert.is_true(h.wait_until(function() return r.res ~= nil end, 2), "the recording did not end")
    return audio.samples(path)
  end
end

describe("call:hold", function()
  it("offers sendonly, the far end answers recvonly and hears the music; unhold offers "
     .. "sendrecv and the music stops", function()
    h.run(function(t)
      local call, bob, got = connect(t)
      local heard = listen(bob)
      assert.is_nil(call.held)
      local before = bob:stats().packets_received
      assert.is_true(call:hold{music = sip.tone{freqs = {MUSIC_HZ}}})
      assert.equal("sendonly", dir_of(call.local_sdp))
      assert.equal("recvonly", dir_of(bob.local_sdp))
      assert.equal("sendonly", call.media.dir)
      assert.equal("recvonly", bob.media.dir)
      assert.equal("local", call.held)
      assert.is_true(h.wait_until(function() return got.holds == 1 end, 1), "bob was not told")
      assert.equal("remote", bob.held)
      assert.is_true(h.wait_until(function()
        return bob:stats().packets_received - before >= 50 end, 5), "the music did not come")

      assert.is_true(call:unhold())
      assert.equal("sendrecv", dir_of(call.local_sdp))
      assert.equal("sendrecv", dir_of(bob.local_sdp))
      assert.is_nil(call.held)
      assert.is_true(h.wait_until(function() return got.unholds == 1 end, 1))
      assert.is_nil(bob.held)
      -- the music stopped: after the short tail of silence alice sends nothing
      sip.sleep(0.3)
      assert.is_true(sends_nothing(call), "alice still sends after unhold")
      assert.is_true(audio.frames_of(heard(), MUSIC_HZ) >= 40, "bob's recording has no music")
      call:hangup()
    end)
  end)

  it("by UPDATE, without music: silence, and call.held on both sides", function()
    h.run(function(t)
      local call, bob, got = connect(t)
      local events = t.trace()
      sip.sleep(1.1)  -- past the first second's silence that lets the far end latch
      assert.is_true(call:hold{method = "UPDATE"})
      assert.equal(1, #h.events(events, "UPDATE ", "out"))
      assert.equal(0, #h.events(events, "INVITE ", "out"))
      assert.equal("sendonly", dir_of(call.local_sdp))
      assert.equal("local", call.held)
      assert.is_true(h.wait_until(function() return got.holds == 1 end, 1))
      assert.equal("remote", bob.held)
      assert.is_true(sends_nothing(call), "alice sends without music")
      assert.is_true(call:unhold{method = "UPDATE"})
      assert.equal(2, #h.events(events, "UPDATE ", "out"))
      assert.is_nil(call.held)
      call:hangup()
    end)
  end)

  it("of a peer that holds us offers inactive and sends nothing of the music; unhold "
     .. "offers recvonly while the peer still holds us", function()
    h.run(function(t)
      local call, bob, got, mine = connect(t)
      assert.is_true(bob:hold())
      assert.equal("sendonly", dir_of(bob.local_sdp))
      assert.is_true(h.wait_until(function() return mine.holds == 1 end, 1), "alice was not told")
      assert.equal("remote", call.held)
      assert.equal("recvonly", call.media.dir)
      -- (one offer at a time, RFC 3264 §4: alice may offer once bob's ACK came)
      sip.sleep(0.1)

      assert.is_true(call:hold{music = sip.tone{freqs = {MUSIC_HZ}}})
      assert.equal("inactive", dir_of(call.local_sdp))
      assert.equal("inactive", call.media.dir)
      assert.equal("both", call.held)
      assert.equal("both", bob.held)
      assert.is_true(sends_nothing(call), "our music reached a peer that holds us")

      assert.is_true(call:unhold())
      assert.equal("recvonly", dir_of(call.local_sdp))
      assert.equal("remote", call.held)
      assert.equal("local", bob.held)
      assert.is_true(sends_nothing(call))

      -- held again; then bob takes his hold back, and the music reaches him
      assert.is_true(call:hold{music = sip.tone{freqs = {MUSIC_HZ}}})
      assert.is_true(sends_nothing(call))
      local heard = listen(bob)
      local before = bob:stats().packets_received
      assert.is_true(bob:unhold())
      assert.equal("recvonly", dir_of(bob.local_sdp))  -- alice holds him
      assert.equal("sendonly", dir_of(call.local_sdp))
      assert.equal("local", call.held)
      assert.equal("remote", bob.held)
      assert.is_true(h.wait_until(function() return mine.unholds >= 1 end, 1))
      assert.is_true(h.wait_until(function()
        return bob:stats().packets_received - before >= 50 end, 5), "the music did not come")
      assert.is_true(audio.frames_of(heard(), MUSIC_HZ) >= 40, "bob's recording has no music")
      assert.equal(1, got.unholds)  -- alice's hold ended, then came again
      call:hangup()
    end)
  end)

  it("is told by an inactive offer: nothing is sent to that peer, a playing sound included",
     function()
    h.run(function(t)
      local call, bob, _, mine = connect(t)
      local play = h.task(call.play, call, sip.tone{freqs = {PLAY_HZ}}, {loop = true})
      assert.is_true(h.wait_until(function() return call:stats().packets_sent >= 10 end, 2))
      assert.is_true(bob:modify{direction = "inactive"})
      assert.equal("inactive", dir_of(call.local_sdp))
      assert.is_true(h.wait_until(function() return mine.holds == 1 end, 1))
      assert.equal("remote", call.held)
      assert.is_true(sends_nothing(call), "alice sends to a peer that holds her inactive")
      assert.is_nil(play.res)  -- the sound plays on, unheard, until the hold ends
      assert.is_true(bob:modify{direction = "sendrecv"})
      assert.is_true(h.wait_until(function() return mine.unholds == 1 end, 1))
      assert.is_nil(call.held)
      local n = call:stats().packets_sent
      assert.is_true(h.wait_until(function() return call:stats().packets_sent - n >= 10 end, 2))
      call:hangup()
    end)
  end)

  it("music is replaced by the script's own play, which unhold leaves playing", function()
    h.run(function(t)
      local call, bob = connect(t)
      assert.is_true(call:hold{music = sip.tone{freqs = {MUSIC_HZ}}})
      local play = h.task(call.play, call, sip.tone{freqs = {PLAY_HZ}}, {loop = true})
      sip.sleep(0.2)
      assert.is_true(call:unhold())
      local heard = listen(bob)
      local n = call:stats().packets_sent
      assert.is_true(h.wait_until(function() return call:stats().packets_sent - n >= 40 end, 3))
      assert.is_nil(play.res)
      local x = heard()
      assert.is_true(audio.frames_of(x, PLAY_HZ) >= 25, "the play stopped with unhold")
      assert.equal(0, audio.frames_of(x, MUSIC_HZ))
      call:stop()
      assert.is_true(h.wait_until(function() return play.res ~= nil end, 1))
      assert.same({nil, "stopped", n = 2}, play.res)
      call:hangup()
    end)
  end)

  it("stops a sound that plays, whose task is told, and raises on misuse", function()
    h.run(function(t)
      local call = connect(t)
      local play = h.task(call.play, call, sip.tone{freqs = {PLAY_HZ}}, {loop = true})
      sip.sleep(0.1)
      assert.has_error(function() call:hold{music = 5} end,
        "call:hold: expected a file name or a sip.tone")
      assert.has_error(function() call:hold{method = "BYE"} end,
        "call:hold: method must be INVITE or UPDATE")
      assert.has_error(function() call:unhold{music = "x.wav"} end)
      local ok, err = pcall(call.hold, call, {music = "/nonexistent/moh.wav"})
      assert.is_false(ok)
      assert.truthy(tostring(err):find("call:hold: ", 1, true), tostring(err))
      -- nothing was offered
      assert.is_nil(call.held)
      assert.equal("sendrecv", call.media.dir)
      assert.is_nil(play.res)
      assert.is_true(call:hold{music = sip.tone{freqs = {MUSIC_HZ}}})
      assert.is_true(h.wait_until(function() return play.res ~= nil end, 1))
      assert.same({nil, "stopped", n = 2}, play.res)
      call:hangup()
    end)
  end)
end)

---------------------------------------------------------------------------
-- A far end that refuses the hold: SIPp answers, then 488 to the re-INVITE.
---------------------------------------------------------------------------

local function have_sipp()
  local p = io.popen("command -v sipp 2>/dev/null")
  local path = p:read("l")
  p:close()
  return path ~= nil and path ~= ""
end

local function free_udp_port()
  local probe = sip.ua{listen = {"udp:127.0.0.1:0"}}
  local _, port = probe:address("udp")
  probe:close()
  return port
end

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

describe("a refused hold", function()
  local with_sipp = it
  if not have_sipp() and not os.getenv("LUASIP_REQUIRE_PEERS") then with_sipp = pending end
  with_sipp("returns nil, 488 and leaves the call as it was, with no music", function()
    h.run(function(t)
      local alice = assert(t.ua{uri = "sip:alice@example.com", listen = {"udp:127.0.0.1:0"}})
      local port, log, rcfile = free_udp_port(), h.tmpfile("log"), h.tmpfile("rc")
      local scen = here .. "../sipp/call_uas_hold_refused.xml"
      os.execute(("(env -u LD_PRELOAD sipp -sf %s -i 127.0.0.1 -p %d -mi 127.0.0.1 -mp %d "
        .. "-t u1 -m 1 -nostdin -timeout 10s -timeout_error >%s 2>&1; echo $? >%s) &")
        :format(scen, port, free_udp_port(), log, rcfile))
      local call
      assert.is_true(h.wait_until(function()
        call = alice:call(("sip:sipp@127.0.0.1:%d"):format(port), {timeout = 2})
        return call ~= nil
      end, 5), "SIPp did not answer: " .. slurp(log))
      sip.sleep(1.1)  -- past the first second's silence
      local res = table.pack(call:hold{music = sip.tone{freqs = {MUSIC_HZ}}})
      assert.equal(nil, res[1])
      assert.equal(488, res[2])
      assert.is_string(res[3])
      assert.is_nil(call.held)
      assert.equal("sendrecv", call.media.dir)
      assert.is_true(sends_nothing(call), "music plays after a refused hold")
      call:hangup()
      assert.is_true(h.wait_until(function() return slurp(rcfile) ~= "" end, 5))
      assert.equal("0", slurp(rcfile):match("%d+"), "SIPp failed: " .. slurp(log))
    end, 15)
  end)
end)

describe("ua:calls()", function()
  it("lists the calls that are not over, incoming and outgoing, in the order made", function()
    h.run(function(t)
      local alice = assert(t.ua{uri = "sip:alice@example.com", listen = {"udp:127.0.0.1:0"}})
      local bob = assert(t.ua{uri = "sip:bob@example.org", listen = {"udp:127.0.0.1:0"}})
      local incoming = {}
      bob:on("INVITE", function(c)
        incoming[#incoming + 1] = c
        c:answer()
        c:wait()
      end)
      alice:on("INVITE", function(c)
        c:answer()
        c:wait()
      end)
      assert.same({}, bob:calls())
      local a1 = assert(alice:call(h.uri_of(bob, "udp")))
      local a2 = assert(alice:call(h.uri_of(bob, "udp")))
      local b3 = assert(bob:call(h.uri_of(alice, "udp")))
      assert.is_true(h.wait_until(function() return #incoming == 2 end, 1))
      local list = bob:calls()
      assert.equal(3, #list)
      assert.equal(incoming[1], list[1])
      assert.equal(incoming[2], list[2])
      assert.equal(b3, list[3])
      assert.equal(3, #alice:calls())  -- a1, a2, and b3 coming in
      assert.equal(a1, alice:calls()[1])
      a1:hangup()
      assert.is_true(h.wait_until(function() return #bob:calls() == 2 end, 1))
      assert.equal(incoming[2], bob:calls()[1])
      assert.equal(2, #alice:calls())
      assert.equal(a2, alice:calls()[1])
      a2:hangup()
      b3:hangup()
      assert.is_true(h.wait_until(function() return #bob:calls() == 0 and #alice:calls() == 0 end, 1))
    end)
  end)
end)

describe("sip.tone(\"waiting\")", function()
  it("is a short beep and a long silence per country, looped as one cycle", function()
    for country, seconds in pairs { us = 10, uk = 3, eu = 8.45, de = 5.6, fr = 10.3, cn = 4.4,
                                    jp = 9.5 } do
      assert.near(seconds, sip.tone("waiting", {country = country}).seconds, 1e-9, country)
    end
    assert.equal(sip.tone("waiting"), sip.tone("waiting", {country = "us"}))
    assert.has_error(function() sip.tone("wating") end,
      "sip.tone: unknown tone 'wating' (dial, ringback, busy, congestion, waiting)")
  end)
end)
