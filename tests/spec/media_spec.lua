-- Media in calls between two endpoints of one process on loopback, checked by content: what
-- one side plays (tones, WAV and FLAC files at other rates and channel counts, loops) the
-- other side records, and the WAV it wrote is read back here and measured (duration by 20 ms
-- frames, level in dBm0, frequency by Goertzel). Then digits (send_dtmf, collect with max,
-- terminators, timeout and prompt, interrupting a prompt, call:on("dtmf")), recording with
-- max and silence, the far end hanging up during play, record and collect, hold, early
-- media, the RTP counters of call:stats() and what RTCP reports add, and the errors of
-- misuse. PCMA needs a far end whose offer prefers it, which our endpoints never make: that
-- one spec uses SIPp on loopback (echoing our audio back) and is pending without it, except
-- under make test (LUASIP_REQUIRE_PEERS=1, set by tests/run.sh), where every peer is installed
-- and a missing one is a failure.
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
local h = dofile(here .. "helper.lua")
local audio = dofile(here .. "audio.lua")
local sip = require "sip"

local RATE, FRAME = 8000, 160  -- G.711: 8 kHz, 160 samples per 20 ms packet

---------------------------------------------------------------------------
-- Sound files, written and read here so that nothing outside the spec decides the content
---------------------------------------------------------------------------

-- A 16-bit PCM WAV file; sample(i, ch) gives frame i's sample (0-based) of channel ch.
local function wav_write(path, rate, channels, frames, sample)
  local parts = {}
  for i = 0, frames - 1 do
    for ch = 1, channels do
      local v = math.floor(sample(i, ch) + 0.5)
      parts[#parts + 1] = string.pack("<i2", math.max(-32768, math.min(32767, v)))
    end
  end
  local data = table.concat(parts)
  local f = assert(io.open(path, "wb"))
  f:write(string.pack("<c4I4c4", "RIFF", 36 + #data, "WAVE"),
    string.pack("<c4I4I2I2I4I4I2I2", "fmt ", 16, 1, channels, rate, rate * channels * 2,
      channels * 2, 16),
    string.pack("<c4I4", "data", #data), data)
  f:close()
end

-- FLAC (mono, 16-bit) with verbatim subframes: the simplest stream libFLAC must accept,
-- enough to show that a FLAC file plays. CRC-8 and CRC-16 as the format defines them.
local function crc8(s)
  local c = 0
  for i = 1, #s do
    c = c ~ s:byte(i)
    for _ = 1, 8 do c = (c & 0x80 ~= 0) and (((c << 1) ~ 0x07) & 0xff) or ((c << 1) & 0xff) end
  end
  return c
end
local function crc16(s)
  local c = 0
  for i = 1, #s do
    c = c ~ (s:byte(i) << 8)
    for _ = 1, 8 do
      c = (c & 0x8000 ~= 0) and (((c << 1) ~ 0x8005) & 0xffff) or ((c << 1) & 0xffff)
    end
  end
  return c
end

local FLAC_RATE_CODE = {[8000] = 4, [16000] = 5, [22050] = 6, [24000] = 7, [32000] = 8,
                        [44100] = 9, [48000] = 10}

local function flac_write(path, rate, frames, sample)
  local block = 4096
  local out = {"fLaC"}
  -- STREAMINFO, the last metadata block: block sizes, frame sizes unknown, rate, mono,
  -- 16 bits, the total, and no MD5 (all zero: "not computed")
  local info = string.pack(">I2I2", block, block) .. string.pack(">I3I3", 0, 0)
    .. string.pack(">I8", (rate << 44) | (0 << 41) | (15 << 36) | frames):sub(1, 8)
    .. ("\0"):rep(16)
  out[#out + 1] = string.pack(">B", 0x80) .. string.pack(">I3", #info) .. info
  local n, index = 0, 0
  while n < frames do
    local len = math.min(block, frames - n)
    assert(index < 128, "flac_write: the frame number needs more than one UTF-8 byte")
    -- fixed blocking; block size from the 16 bits after the number (code 7); the rate's
    -- code; mono (0), 16 bits (4)
    local hdr = string.pack(">BBBBBI2", 0xff, 0xf8, (7 << 4) | FLAC_RATE_CODE[rate], 4 << 1,
      index, len - 1)
    hdr = hdr .. string.pack(">B", crc8(hdr))
    local samples = {}
    for i = 0, len - 1 do
      local v = math.floor(sample(n + i) + 0.5)
      samples[#samples + 1] = string.pack(">i2", math.max(-32768, math.min(32767, v)))
    end
    local frame = hdr .. string.pack(">B", 1 << 1) .. table.concat(samples)  -- verbatim
    out[#out + 1] = frame .. string.pack(">I2", crc16(frame))
    n, index = n + len, index + 1
  end
  local f = assert(io.open(path, "wb"))
  f:write(table.concat(out))
  f:close()
end

local wav_read = audio.read_wav

---------------------------------------------------------------------------
-- Measuring audio
---------------------------------------------------------------------------

local rms = audio.rms

-- dBm0 of one sine of that rms (0 dBm0: peak 22786 in 16-bit G.711 terms, ITU-T G.711)
local function dbm0(r) return 20 * math.log(r * math.sqrt(2) / 22786, 10) end

local share = audio.share

-- Runs of 20 ms frames louder than `thresh` rms: {{first = frame index, frames = n}, ...}.
-- Packets are whole frames, so a recording is too and tone edges fall on frame edges.
local function segments(x, thresh)
  thresh = thresh or 300
  local segs, cur = {}, nil
  for fr = 0, #x // FRAME - 1 do
    if rms(x, fr * FRAME + 1, (fr + 1) * FRAME) > thresh then
      if cur then cur.frames = cur.frames + 1
      else cur = {first = fr, frames = 1}; segs[#segs + 1] = cur end
    else
      cur = nil
    end
  end
  return segs
end

local function loud_seconds(x)
  local n = 0
  for _, s in ipairs(segments(x)) do n = n + s.frames end
  return n * FRAME / RATE
end

-- The samples of a segment without its edge frames (which a resampler may soften).
local function inner(seg)
  return (seg.first + 1) * FRAME + 1, (seg.first + seg.frames - 1) * FRAME
end

local function describe_segs(x)
  local t = {}
  for _, s in ipairs(segments(x)) do t[#t + 1] = ("%d+%d"):format(s.first, s.frames) end
  return "loud frames (first+count): " .. (#t > 0 and table.concat(t, " ") or "none")
end

-- Reads a recording and checks it is what the recorder promises: 8 kHz mono 16-bit.
local function recording(path)
  local w = wav_read(path)
  assert.equal(RATE, w.rate)
  assert.equal(1, w.channels)
  return w.samples
end

-- The one tone segment of a recording, checked for duration (seconds, within `tol`),
-- frequencies ({hz, ...}, each with an equal share) and level (dBm0 of each frequency).
local function check_tone(x, seconds, freqs, level, tol)
  local segs = segments(x)
  assert.equal(1, #segs, describe_segs(x))
  local seg = segs[1]
  local got = seg.frames * FRAME / RATE
  assert.is_true(math.abs(got - seconds) <= (tol or 0.021),
    ("tone lasted %.3f s, expected %.3f s"):format(got, seconds))
  local i, j = inner(seg)
  local total = 0
  for _, f in ipairs(freqs) do
    local sh = share(x, i, j, f)
    total = total + sh
    assert.is_true(sh > 0.8 / #freqs, ("share of %d Hz is %.3f"):format(f, sh))
  end
  assert.is_true(total > 0.9, ("the named frequencies hold %.3f of the energy"):format(total))
  -- a neighbour a third of an octave away holds nothing
  local offf = freqs[1] * 1.26
  local off = share(x, i, j, offf)
  assert.is_true(off < 0.05, ("share of %.0f Hz is %.3f"):format(offf, off))
  if level then
    local per = dbm0(rms(x, i, j) / math.sqrt(#freqs))
    assert.is_true(math.abs(per - level) <= 1.0,
      ("level %.2f dBm0 per frequency, expected %.1f"):format(per, level))
  end
end

---------------------------------------------------------------------------
-- Calls
---------------------------------------------------------------------------

local function failed(code, reason)
  return ("call failed: %s %s"):format(tostring(code), tostring(reason))
end

local function pair(t)
  local function make(uri)
    local ua, code, reason = t.ua{uri = uri, listen = {"udp:127.0.0.1:0"}}
    assert(ua, ("sip.ua failed: %s %s"):format(tostring(code), tostring(reason)))
    return ua
  end
  return make("sip:alice@example.com"), make("sip:bob@example.org")
end

-- alice calls bob; bob answers and runs callee(call, got) in his handler's task (got.call is
-- his call, got.done is set when callee returned). Returns alice's call, got, alice, bob.
local function connect(t, callee, opts)
  local alice, bob = pair(t)
  local got = {}
  bob:on("INVITE", function(call)
    got.call = call
    local ok, why = call:answer()
    got.answered = ok or why or false
    if ok and callee then callee(call, got) end
    got.done = true
  end)
  local call, code, reason = alice:call(h.uri_of(bob, "udp"), opts)
  assert(call, failed(code, reason))
  assert(h.wait_until(function() return got.answered ~= nil end, 2), "bob's answer did not return")
  assert.is_true(got.answered)
  return call, got, alice, bob
end

-- Frames one late tick of the media clock sends at once to catch up (MCLOCK_MAX_CATCHUP in
-- csrc/media/mclock.h): a task woken by the last frame of a sound may resume after as many
-- more frames went out, however fast or slow the machine is.
local CATCHUP = 10

-- In a task: waits until what `sender` has sent so far has gone through `receiver`'s jitter
-- buffer (2 frames of delay, JB_DEPTH in csrc/media/stream.c) into what it records: until
-- it has all arrived (the limit is a guard that it did), and then for five ticks of the
-- media clock. Those are 100 ms of real time whatever the machine's speed: the clock
-- runs on real time, and catches up the ticks a busy loop was late for.
local function arrived(sender, receiver)
  local sent = sender:stats().packets_sent
  if not h.wait_until(function() return receiver:stats().packets_received >= sent end, 5) then
    return false
  end
  sip.sleep(5 * 0.02)
  return true
end

local function done(r, limit) return h.wait_until(function() return r.res ~= nil end, limit) end

local function fmt(p)
  local t = {}
  for i = 1, p.n do t[i] = tostring(p[i]) end
  return "(" .. table.concat(t, ", ") .. ")"
end

-- Records what `call` hears into a new WAV file until stop() ; returns r (see task) and the
-- path.
local function recorder(call, opts)
  local path = h.tmpfile("wav")
  return h.task(call.record, call, path, opts), path
end

after_each(h.remove_tmpfiles)

---------------------------------------------------------------------------

describe("a tone", function()
  it("played by one side is what the other side records: 1 s of 1000 Hz at -13 dBm0", function()
    h.run(function(t)
      local path = h.tmpfile("wav")
      local call, got = connect(t, function(c, g)
        g.rec = table.pack(c:record(path, {max = 5}))
      end)
      sip.sleep(0.1)
      local sent0 = call:stats().packets_sent
      local ok, why = call:play(sip.tone{freqs = {1000}})
      local sent = call:stats().packets_sent - sent0
      assert.is_true(ok, tostring(why))
      -- play yields for as long as the sound lasts, one 20 ms packet at a time: 50 packets
      -- for the second, and at most one catch-up burst more before the task resumed
      assert.is_true(sent >= 50 and sent <= 50 + CATCHUP, ("%d packets sent during play"):format(sent))
      assert.is_true(arrived(call, got.call), "what alice sent did not reach bob")
      got.call:stop()
      assert.is_true(h.wait_until(function() return got.rec ~= nil end, 1), "record did not return")
      assert.is_number(got.rec[1], fmt(got.rec))
      local x = recording(path)
      assert.near(#x / RATE, got.rec[1], 0.001)  -- record returns what it wrote
      check_tone(x, 1.0, {1000}, -13)
    end)
  end)

  it("named by country keeps its frequencies and cadence: us busy, 480+620 Hz, 0.5 s on", function()
    h.run(function(t)
      local path = h.tmpfile("wav")
      local call, got = connect(t, function(c, g) g.rec = table.pack(c:record(path)) end)
      sip.sleep(0.1)
      local tone = sip.tone("busy", {country = "us"})
      assert.near(1.0, tone.seconds, 1e-9)  -- one cycle: 0.5 s on, 0.5 s off
      assert.is_true(call:play(tone))
      sip.sleep(0.1)
      got.call:stop()
      assert.is_true(h.wait_until(function() return got.rec ~= nil end, 1))
      local x = recording(path)
      check_tone(x, 0.5, {480, 620}, -13)
      -- the off half was sent as quiet audio: the recording goes on after the tone
      local seg = segments(x)[1]
      assert.is_true(#x // FRAME - (seg.first + seg.frames) >= 24,
        "no quiet half after the tone: " .. describe_segs(x) .. " of " .. #x // FRAME)
    end)
  end)

  it("has one cycle of the cadence each country uses", function()
    -- us ringback 2 s on 4 s off; uk 0.4 on 0.2 off 0.4 on 2 off; eu 1 on 4 off;
    -- a continuous tone renders one second that loops
    assert.near(6.0, sip.tone("ringback", {country = "us"}).seconds, 1e-9)
    assert.near(3.0, sip.tone("ringback", {country = "uk"}).seconds, 1e-9)
    assert.near(5.0, sip.tone("ringback", {country = "eu"}).seconds, 1e-9)
    assert.near(1.0, sip.tone("dial", {country = "jp"}).seconds, 1e-9)
    assert.near(0.5, sip.tone("congestion", {country = "us"}).seconds, 1e-9)
    assert.near(0.3, sip.tone{freqs = {800}, on = 0.2, off = 0.1}.seconds, 1e-9)
    -- the same tone is rendered once and shared
    assert.equal(sip.tone("busy", {country = "cn"}), sip.tone("busy", {country = "cn"}))
    assert.equal(sip.tone("dial"), sip.tone("dial", {country = "us"}))
  end)
end)

describe("a sound file", function()
  -- Plays the file from alice; bob records. Returns the recording and how long play took.
  local function play_file(t, path)
    local rpath = h.tmpfile("wav")
    local call, got = connect(t, function(c, g) g.rec = table.pack(c:record(rpath)) end)
    sip.sleep(0.1)
    local sent0 = call:stats().packets_sent
    local ok, why = call:play(path)
    local sent = call:stats().packets_sent - sent0
    assert.is_true(ok, tostring(why))
    assert.is_true(arrived(call, got.call), "what alice sent did not reach bob")
    got.call:stop()
    assert.is_true(h.wait_until(function() return got.rec ~= nil end, 1))
    return recording(rpath), sent
  end

  it("in WAV, 8 kHz mono 16-bit, plays as written: 0.6 s of 440 Hz", function()
    h.run(function(t)
      local path = h.tmpfile("wav")
      wav_write(path, 8000, 1, 4800, function(i) return 8000 * math.sin(2 * math.pi * 440 * i / 8000) end)
      local x, sent = play_file(t, path)
      -- 30 packets of 20 ms, and at most one catch-up burst more before play returned
      assert.is_true(sent >= 30 and sent <= 30 + CATCHUP, ("%d packets sent during play"):format(sent))
      check_tone(x, 0.6, {440}, dbm0(8000 / math.sqrt(2)))
    end)
  end)

  it("in WAV, 44.1 kHz stereo, is mixed down and resampled: 600 Hz left, 900 Hz right", function()
    h.run(function(t)
      local path = h.tmpfile("wav")
      wav_write(path, 44100, 2, 26460, function(i, ch)
        return 8000 * math.sin(2 * math.pi * (ch == 1 and 600 or 900) * i / 44100)
      end)
      local x = play_file(t, path)
      -- each channel at half its level in the mono mix; the resampler may soften an edge
      check_tone(x, 0.6, {600, 900}, dbm0(4000 / math.sqrt(2)), 0.041)
    end)
  end)

  it("in FLAC, 16 kHz mono, plays: 0.6 s of 700 Hz", function()
    h.run(function(t)
      local path = h.tmpfile("flac")
      flac_write(path, 16000, 9600, function(i) return 8000 * math.sin(2 * math.pi * 700 * i / 16000) end)
      local x = play_file(t, path)
      check_tone(x, 0.6, {700}, dbm0(8000 / math.sqrt(2)), 0.041)
    end)
  end)

  -- Ogg/Vorbis is not written here (a Vorbis encoder in Lua is out of reach):
  -- tests/c/test_sound.c writes one through libsndfile and checks what the
  -- player makes of it (test_ogg_vorbis_16k); past the file's decoding the
  -- path is the one of the formats above.

  it("not decoded yet plays in every call that starts it together (one decoding, off the loop)", function()
    h.run(function(t)
      local path = h.tmpfile("wav")
      wav_write(path, 44100, 2, 22050, function(i) return 8000 * math.sin(2 * math.pi * 500 * i / 44100) end)
      local call1, got1 = connect(t)
      local call2, got2 = connect(t)
      local r1, rpath1 = recorder(call1)
      local r2, rpath2 = recorder(call2)
      -- both wait for the one decoding the first started
      local p1 = h.task(got1.call.play, got1.call, path)
      local p2 = h.task(got2.call.play, got2.call, path)
      assert.is_nil(p1.res)
      assert.is_nil(p2.res)
      assert.is_true(done(p1, 3) and done(p2, 3), "the plays did not end")
      assert.same({true, n = 1}, p1.res)
      assert.same({true, n = 1}, p2.res)
      call1:stop()
      call2:stop()
      assert.is_true(done(r1, 1) and done(r2, 1))
      for _, rpath in ipairs { rpath1, rpath2 } do
        check_tone(recording(rpath), 0.5, {500}, dbm0(8000 / math.sqrt(2)), 0.041)
      end
      call1:hangup()
      call2:hangup()
    end)
  end)

  it("that does not exist raises a Lua error naming the file", function()
    h.run(function(t)
      local call = connect(t)
      local missing = "/nonexistent/dir/prompt-" .. os.time() .. ".wav"
      local ok, err = pcall(call.play, call, missing)
      assert.is_false(ok)
      assert.is_truthy(tostring(err):find(missing, 1, true), tostring(err))
      -- a file that is no sound is refused the same way
      local junk = h.tmpfile("wav")
      local f = assert(io.open(junk, "wb"))
      f:write("this is not a sound file\n")
      f:close()
      ok, err = pcall(call.play, call, junk)
      assert.is_false(ok)
      assert.is_truthy(tostring(err):find(junk, 1, true), tostring(err))
      call:hangup()
    end)
  end)
end)

describe("playing", function()
  it("with loop goes on past the sound's end until call:stop(): nil, 'stopped'", function()
    h.run(function(t)
      local call, got = connect(t, function(c, g)
        local sent0 = c:stats().packets_sent
        g.play = h.task(function()
          local res = table.pack(c:play(sip.tone{freqs = {800}, on = 0.2, off = 0.1}, {loop = true}))
          g.sent_at_return = c:stats().packets_sent
          return table.unpack(res, 1, res.n)
        end)
        -- a second of the loop, counted in the packets that carried it
        h.wait_until(function() return c:stats().packets_sent - sent0 >= 50 end, 5)
        g.sent_at_stop = c:stats().packets_sent
        c:stop()
      end)
      local r, path = recorder(call)
      assert.is_true(h.wait_until(function() return got.sent_at_stop ~= nil end, 6))
      assert.is_true(done(got.play, 0.5), "play did not return after call:stop()")
      assert.same({nil, "stopped", n = 2}, {got.play.res[1], got.play.res[2], n = 2})
      -- at once: no more packets went out before it returned than one late tick of the
      -- media clock sends to catch up
      assert.is_true(got.sent_at_return - got.sent_at_stop <= CATCHUP,
        ("%d packets after the stop"):format(got.sent_at_return - got.sent_at_stop))
      assert.is_true(arrived(got.call, call), "what bob sent did not reach alice")
      call:stop()
      assert.is_true(done(r, 1))
      local x = recording(path)
      -- 1 s of a 0.3 s cycle: at least three whole 0.2 s bursts, none after the stop
      local segs = segments(x)
      assert.is_true(#segs >= 3 and #segs <= 5, describe_segs(x))
      for k = 1, #segs - 1 do assert.equal(10, segs[k].frames, describe_segs(x)) end
      assert.near(1.0, loud_seconds(x) / (2 / 3), 0.12)
    end)
  end)

  it("with interrupt='dtmf' returns nil, 'dtmf', digit at a key press and stops the sound", function()
    h.run(function(t)
      local call, got = connect(t, function(c, g)
        g.sent0 = c:stats().packets_sent
        g.play = h.task(function()
          local res = table.pack(c:play(sip.tone{freqs = {1000}}, {loop = true, interrupt = "dtmf"}))
          g.sent_at_return = c:stats().packets_sent
          return table.unpack(res, 1, res.n)
        end)
      end)
      local r, path = recorder(call)
      -- half a second of tone, counted in the packets that carried it
      assert.is_true(h.wait_until(function()
        return got.call and got.sent0 and got.call:stats().packets_sent - got.sent0 >= 25 end, 5))
      local sent_at_digit = got.call:stats().packets_sent
      assert.is_true(call:send_dtmf("5"))
      assert.is_true(done(got.play, 1), "play went on after the digit")
      assert.same({nil, "dtmf", "5", n = 3}, got.play.res)
      -- at once: the digit goes out on alice's next tick and is read before bob's next
      -- one; a late wake of the media clock may add one catch-up burst
      local after = got.sent_at_return - sent_at_digit
      assert.is_true(after <= 2 + CATCHUP, ("%d packets after the digit"):format(after))
      assert.is_true(arrived(got.call, call), "what bob sent did not reach alice")
      call:stop()
      assert.is_true(done(r, 1))
      local x = recording(path)
      -- the tone stopped with the digit: what bob sent until then (at least the half
      -- second waited for), not a frame more, counted in 20 ms frames of the recording
      local frames = loud_seconds(x) * RATE / FRAME
      local played = got.sent_at_return - got.sent0
      assert.is_true(frames >= 25 and frames <= played,
        ("%d frames of tone of %d sent; %s"):format(frames, played, describe_segs(x)))
    end)
  end)

  it("with interrupt='dtmf' leaves the digit for a following collect (docs/api.md)", function()
    h.run(function(t)
      local call, got = connect(t, function(c, g)
        g.play = table.pack(c:play(sip.tone{freqs = {1000}}, {loop = true, interrupt = "dtmf"}))
        g.collect = table.pack(c:collect{max = 1, timeout = 0.5})
      end)
      sip.sleep(0.3)
      assert.is_true(call:send_dtmf("5"))
      assert.is_true(h.wait_until(function() return got.done end, 2), "play or collect did not return")
      assert.same({nil, "dtmf", "5", n = 3}, got.play)
      assert.same({"5", n = 1}, got.collect)
    end)
  end)

  it("that the far end hangs up on returns nil, 'hangup'", function()
    h.run(function(t)
      local call, got = connect(t, function(c, g)
        g.play = h.task(c.play, c, sip.tone{freqs = {1000}}, {loop = true})
      end)
      sip.sleep(0.3)
      call:hangup()
      assert.is_true(done(got.play, 1), "play went on after the BYE")
      assert.same({nil, "hangup", n = 2}, got.play.res)
      -- and a play on a call that is over says so at once
      assert.same({nil, "hangup", n = 2}, table.pack(got.call:play(sip.tone{freqs = {1000}})))
    end)
  end)
end)

describe("digits", function()
  it("sent with send_dtmf are collected: max, then a terminator (not returned), then one more", function()
    h.run(function(t)
      local call, got = connect(t, function(c, g)
        g.a = table.pack(c:collect{max = 3, timeout = 3})
        g.b = table.pack(c:collect{max = 5, timeout = 3, terminators = "#*"})
        g.c = table.pack(c:collect{max = 1, timeout = 3})
      end)
      assert.is_true(call:send_dtmf("1234#9"))
      assert.is_true(h.wait_until(function() return got.done end, 4), "collect did not return")
      assert.same({"123", n = 1}, got.a)
      assert.same({"4", n = 1}, got.b)
      assert.same({"9", n = 1}, got.c)
    end)
  end)

  it("collect times out: nil, 'timeout' with no key, what came so far after some", function()
    h.run(function(t)
      local call, got = connect(t, function(c, g)
        local t0 = sip.now()
        g.none = table.pack(c:collect{max = 4, timeout = 0.4})
        g.none_took = sip.now() - t0
        g.go = true
        g.some = table.pack(c:collect{max = 4, timeout = 0.5})
        g.some_at = sip.now()
      end)
      assert.is_true(h.wait_until(function() return got.go end, 2))
      assert.same({nil, "timeout", n = 2}, got.none)
      -- not before its timeout (less timer rounding); the upper bound is only a guard that
      -- the timeout ended it, not a speed check
      assert.is_true(got.none_took >= 0.39 and got.none_took < 4, ("%.3f s"):format(got.none_took))
      local sent = sip.now()
      assert.is_true(call:send_dtmf("12"))
      assert.is_true(h.wait_until(function() return got.some_at ~= nil end, 2))
      assert.same({"12", n = 1}, got.some)
      -- two digits (about 0.3 s), then the timeout counted from the last key: not before
      -- that; the upper bound is only a guard that the timeout ended it, not a speed check
      local took = got.some_at - sent
      assert.is_true(took > 0.6 and took < 5, ("%.3f s"):format(took))
    end)
  end)

  it("collect with a prompt: the first key stops the prompt and counts", function()
    h.run(function(t)
      local call, got = connect(t, function(c, g)
        local prompt = sip.tone{freqs = {600}, on = 3, off = 0}
        g.sent0 = c:stats().packets_sent
        g.res = table.pack(c:collect{max = 2, timeout = 2, prompt = prompt})
        g.at = sip.now()
      end)
      local r, path = recorder(call)
      -- 0.4 s of the prompt, counted in the packets that carried it
      assert.is_true(h.wait_until(function()
        return got.call and got.sent0 and got.call:stats().packets_sent - got.sent0 >= 20 end, 5))
      local sent_at_digit = got.call:stats().packets_sent
      assert.is_true(call:send_dtmf("78"))
      assert.is_true(h.wait_until(function() return got.at ~= nil end, 3), "collect did not return")
      assert.same({"78", n = 1}, got.res)
      assert.is_true(arrived(got.call, call), "what bob sent did not reach alice")
      call:stop()
      assert.is_true(done(r, 1))
      local x = recording(path)
      -- the prompt played until the first key and stopped there: no more of it than bob
      -- sent before the key went out, and the key's way (alice's next tick, read before
      -- bob's next one, and a catch-up burst of a late clock), in 20 ms frames
      local frames = loud_seconds(x) * RATE / FRAME
      local before = sent_at_digit - got.sent0
      assert.is_true(frames >= 20 and frames <= before + 2 + CATCHUP,
        ("%d frames of prompt, %d sent before the key; %s"):format(frames, before, describe_segs(x)))
    end)
  end)

  it("collect with a prompt and no key plays the whole prompt, then times out", function()
    h.run(function(t)
      local _, got = connect(t, function(c, g)
        local t0 = sip.now()
        g.res = table.pack(c:collect{timeout = 0.3, prompt = sip.tone{freqs = {600}, on = 0.5, off = 0}})
        g.took = sip.now() - t0
      end)
      assert.is_true(h.wait_until(function() return got.took ~= nil end, 3))
      assert.same({nil, "timeout", n = 2}, got.res)
      -- the whole 0.5 s prompt, then the 0.3 s timeout: not before that (less timer
      -- rounding); the upper bound is only a guard that it ended, not a speed check
      assert.is_true(got.took > 0.78 and got.took < 5, ("%.3f s"):format(got.took))
    end)
  end)

  it("reach call:on('dtmf') once each, in order, all sixteen keys", function()
    h.run(function(t)
      local seen = {}
      local call = connect(t, function(c)
        c:on("dtmf", function(cc, d)
          assert(cc == c)
          seen[#seen + 1] = d
        end)
      end)
      sip.sleep(0.05)
      assert.is_true(call:send_dtmf("1234567890*#abcd"))
      h.wait_until(function() return #seen >= 16 end, 4)
      sip.sleep(0.3)  -- nothing more comes: each event's repeated end packets count once
      assert.equal("1234567890*#ABCD", table.concat(seen))
    end)
  end)

  it("collect that the far end hangs up on returns nil, 'hangup'", function()
    h.run(function(t)
      local call, got = connect(t, function(c, g)
        g.res = table.pack(c:collect{timeout = 5})
        g.at = sip.now()
      end)
      sip.sleep(0.3)
      local t0 = sip.now()
      call:hangup()
      assert.is_true(h.wait_until(function() return got.at ~= nil end, 1))
      assert.same({nil, "hangup", n = 2}, got.res)
      -- ended by the hangup, not by its 5 s timeout
      assert.is_true(got.at - t0 < 5, ("%.3f s"):format(got.at - t0))
    end)
  end)
end)

describe("recording", function()
  it("with max stops there and returns it: 0.5 s", function()
    h.run(function(t)
      local path = h.tmpfile("wav")
      local call, got = connect(t, function(c, g)
        local t0 = sip.now()
        g.res = table.pack(c:record(path, {max = 0.5}))
        g.took = sip.now() - t0
      end)
      h.task(call.play, call, sip.tone{freqs = {1000}}, {loop = true})
      assert.is_true(h.wait_until(function() return got.took ~= nil end, 2))
      assert.same({0.5, n = 1}, got.res)
      -- not before max (less timer rounding: the samples are counted above); the upper
      -- bound is only a guard that max ended it, not a speed check
      assert.is_true(got.took > 0.45 and got.took < 5, ("%.3f s"):format(got.took))
      local x = recording(path)
      assert.equal(4000, #x)
      assert.near(1.0, share(x, 161, 4000, 1000), 0.05)
      call:stop()
    end)
  end)

  it("with silence stops after that much quiet that follows sound (quiet sent as audio)", function()
    h.run(function(t)
      local path = h.tmpfile("wav")
      local call, got = connect(t, function(c, g)
        g.res = table.pack(c:record(path, {silence = 0.4, max = 5}))
        g.at = sip.now()
      end)
      -- 0.5 s of tone, then 0.5 s of digital silence in the same sound
      local t0 = sip.now()
      h.task(call.play, call, sip.tone{freqs = {1000}, on = 0.5, off = 0.5})
      assert.is_true(h.wait_until(function() return got.at ~= nil end, 3), "record did not stop")
      assert.is_number(got.res[1], fmt(got.res))
      local x = recording(path)
      check_tone(x, 0.5, {1000})
      -- it ended 0.4 s into the quiet, not at max: counted in what it recorded (0.5 s of
      -- tone and 0.4 s of quiet, and the little before the tone began), and not returned
      -- before that much real time passed
      local took = got.at - t0
      assert.is_true(took > 0.85, ("record returned after %.3f s"):format(took))
      assert.is_true(got.res[1] >= 0.9 and got.res[1] < 1.5, ("%.3f s recorded"):format(got.res[1]))
      assert.near(got.res[1], #x / RATE, 0.001)
      call:stop()
    end)
  end)

  it("with silence stops after that much quiet when the far end stops sending (silence suppression)", function()
    h.run(function(t)
      local path = h.tmpfile("wav")
      local call, got = connect(t, function(c, g)
        g.rec = h.task(c.record, c, path, {silence = 0.5, max = 5})
      end)
      -- after the first second of silence the caller sends nothing while nothing plays
      sip.sleep(1.3)
      assert.is_true(call:play(sip.tone{freqs = {1000}, on = 0.4, off = 0}))
      local ended = sip.now()
      local stopped = done(got.rec, 2.5)
      local why = stopped and "" or
        ("record still running %.1f s after the sound ended (stats of the recording side: "
         .. "%d packets received)"):format(sip.now() - ended, got.call:stats().packets_received)
      if not stopped then got.call:stop() end
      assert.is_true(stopped, why)
      local after = got.rec.at - ended
      -- after its 0.5 s of silence with no packets (less timer rounding); the upper bound
      -- is only a guard that the silence ended it, not a speed check (max is 5 s)
      assert.is_true(after >= 0.49 and after < 2.5, ("returned %.3f s after the sound"):format(after))
    end)
  end)

  it("that the far end hangs up on returns nil, 'hangup' and the seconds recorded", function()
    h.run(function(t)
      local path = h.tmpfile("wav")
      local call, got = connect(t, function(c, g) g.rec = h.task(c.record, c, path, {max = 5}) end)
      h.task(call.play, call, sip.tone{freqs = {1000}}, {loop = true})
      -- 0.6 s of tone reached bob, counted in packets
      assert.is_true(h.wait_until(function()
        return got.call and got.call:stats().packets_received >= 30 end, 5))
      call:hangup()
      assert.is_true(done(got.rec, 1), "record went on after the BYE")
      local res = got.rec.res
      assert.equal(nil, res[1], fmt(res))
      assert.equal("hangup", res[2])
      assert.is_number(res[3])
      -- what came, less at most the jitter buffer's delay and the frame in flight, and
      -- not more than came
      local came = got.call:stats().packets_received
      assert.is_true(res[3] >= (30 - 3) * 0.02 and res[3] <= came * 0.02,
        fmt(res) .. (" of %d packets"):format(came))
      local x = recording(path)
      assert.near(res[3], #x / RATE, 0.001)
    end)
  end)

  -- In a child whose files may not pass 12 KB (`ulimit -f 24` blocks of 512 bytes in sh;
  -- SIGXFSZ ignored, so the write fails instead of the signal ending it): the recording
  -- is written half a second at a time, and the second half-second does not fit.
  it("that cannot be written returns nil, the error's name and a message naming the file", function()
    local path = h.tmpfile("wav")
    local code, out, err = h.script(([[
      local sip = require "sip"
      sip.run(function()
        local bob = sip.ua{listen = {"udp:127.0.0.1:0"}}
        local alice = sip.ua{listen = {"udp:127.0.0.1:0"}}
        local done = false
        bob:on("INVITE", function(call)
          assert(call:answer())
          local t0 = sip.now()
          print("record", call:record(%q, {max = 4}))
          print(("took %%.2f"):format(sip.now() - t0))
          call:hangup()
          done = true
        end)
        local _, port = bob:address("udp")
        local call = assert(alice:call(("sip:bob@127.0.0.1:%%d"):format(port)))
        sip.spawn(call.play, call, sip.tone{freqs = {1000}}, {loop = true})
        for _ = 1, 100 do if done then break end sip.sleep(0.1) end
        alice:close()
        bob:close()
      end)
    ]]):format(path), 20, "trap '' XFSZ; ulimit -f 24;")
    assert.equal(0, code, err)
    local name, msg = out:match("record\tnil\t(%S+)\t([^\n]*)")
    assert.equal("EFBIG", name, out)
    assert.truthy(msg:find(path, 1, true), msg)
    assert.truthy(msg:find("File too large", 1, true), msg)
    -- it ended when the write failed, a second in, not at max (4 s)
    local took = tonumber(out:match("took ([%d.]+)"))
    assert.is_true(took and took < 4, out)
  end)
end)

describe("hold", function()
  it("(modify sendonly) stops what the held side sends; sendrecv resumes it", function()
    h.run(function(t)
      local call, got = connect(t, function(c, g)
        c:on("hold", function() g.hold = true end)
        c:on("unhold", function() g.unhold = true end)
        g.play = h.task(c.play, c, sip.tone{freqs = {1000}}, {loop = true})
      end)
      h.task(call.play, call, sip.tone{freqs = {500}}, {loop = true})
      assert.is_true(h.wait_until(function()
        return got.call and got.call:stats().packets_sent >= 15 and call:stats().packets_sent >= 15
      end, 5), "the tones did not start")
      local bob = got.call
      local ok, code = call:modify{direction = "sendonly"}
      assert.is_true(ok, tostring(code))
      assert.is_true(h.wait_until(function() return got.hold end, 1), "no hold event")
      assert.equal("recvonly", bob.media.dir)
      -- what bob sent before the hold has reached alice
      assert.is_true(h.wait_until(function()
        return call:stats().packets_received == bob:stats().packets_sent end, 5))
      local b1, a1 = bob:stats(), call:stats()
      -- alice sends on: twenty of her packets reach bob, counted, not timed
      local flowed = h.wait_until(function()
        return call:stats().packets_sent - a1.packets_sent >= 20
          and bob:stats().packets_received - b1.packets_received >= 20
      end, 5)
      local b2, a2 = bob:stats(), call:stats()
      assert.is_true(flowed, ("alice sent %d, bob got %d"):format(
        a2.packets_sent - a1.packets_sent, b2.packets_received - b1.packets_received))
      -- bob is held: meanwhile he sent nothing and alice heard nothing
      assert.equal(b1.packets_sent, b2.packets_sent)
      assert.equal(a1.packets_received, a2.packets_received)
      ok, code = call:modify{direction = "sendrecv"}
      assert.is_true(ok, tostring(code))
      assert.is_true(h.wait_until(function() return got.unhold end, 1), "no unhold event")
      local resumed = h.wait_until(function()
        return bob:stats().packets_sent - b2.packets_sent >= 20 end, 5)
      local b3 = bob:stats()
      assert.is_true(resumed,
        ("bob sent %d packets after unhold"):format(b3.packets_sent - b2.packets_sent))
      call:hangup()
    end)
  end)
end)

-- A SIPp scenario: an INVITE whose offer prefers PCMA, then ACK, a pause while SIPp echoes
-- the RTP it gets (-rtp_echo), and BYE.
local SIPP_PCMA = [=[<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="offer preferring PCMA, echo the audio">
  <send retrans="500"><![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      Max-Forwards: 70
      From: "SIPp" <sip:sipp@[local_ip]:[local_port]>;tag=pcma[pid]-[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=sipp 6001 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8 0 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
    ]]></send>
  <recv response="100" optional="true" />
  <recv response="180" optional="true" />
  <recv response="200" rrs="true" />
  <send><![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      Max-Forwards: 70
      From: "SIPp" <sip:sipp@[local_ip]:[local_port]>;tag=pcma[pid]-[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Content-Length: 0
    ]]></send>
  <pause milliseconds="2000" />
  <send retrans="500"><![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      Max-Forwards: 70
      From: "SIPp" <sip:sipp@[local_ip]:[local_port]>;tag=pcma[pid]-[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Content-Length: 0
    ]]></send>
  <recv response="200" />
</scenario>
]=]

local function have_sipp()
  local p = io.popen("command -v sipp 2>/dev/null")
  local path = p:read("l")
  p:close()
  return path ~= nil and path ~= ""
end

-- A UDP port that was free a moment ago.
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

describe("codecs", function()
  -- Our own offers list PCMU first and the API cannot reorder them, so the far end that
  -- prefers PCMA is SIPp (run in the background, loopback), echoing our audio back.
  local pcma = it
  if not have_sipp() and not os.getenv("LUASIP_REQUIRE_PEERS") then pcma = pending end
  pcma("are PCMA when the far end's offer prefers it: our A-law tone comes back intact", function()
    h.run(function(t)
      local bob = t.ua{uri = "sip:bob@example.org", listen = {"udp:127.0.0.1:0"}}
      local path = h.tmpfile("wav")
      local got = {}
      bob:on("INVITE", function(c)
        got.call = c
        got.answer = c:answer()
        got.media = c.media
        got.local_sdp = c.local_sdp
        got.rec = h.task(c.record, c, path)
        sip.sleep(0.1)
        got.play = table.pack(c:play(sip.tone{freqs = {1000}}))
        sip.sleep(0.3)
        c:stop()
        got.ended = c:wait()
      end)
      local scen, log, rcfile = h.tmpfile("xml"), h.tmpfile("log"), h.tmpfile("rc")
      local f = assert(io.open(scen, "w"))
      f:write(SIPP_PCMA)
      f:close()
      local _, bport = bob:address("udp")
      -- (the sanitizer preload of an ASan run is for the module, not for SIPp)
      local cmd = ("(env -u LD_PRELOAD sipp 127.0.0.1:%d -sf %s -s bob -i 127.0.0.1 -p %d "
        .. "-mi 127.0.0.1 -mp %d -rtp_echo -t u1 -m 1 -nostdin -timeout 10s -timeout_error "
        .. ">%s 2>&1; echo $? >%s) &")
        :format(bport, scen, free_udp_port(), free_udp_port(), log, rcfile)
      os.execute(cmd)
      assert.is_true(h.wait_until(function() return got.ended ~= nil end, 6),
        "the call did not end; SIPp said: " .. slurp(log))
      assert.is_true(h.wait_until(function() return slurp(rcfile) ~= "" end, 2))
      assert.equal("0", slurp(rcfile):match("%d+"), "SIPp failed: " .. slurp(log))
      assert.is_true(got.answer)
      assert.equal("PCMA", got.media.codec)
      assert.equal(8, got.media.pt)
      assert.is_truthy(got.local_sdp:find("m=audio %d+ RTP/AVP 8[ \r]"), got.local_sdp)
      assert.same({true, n = 1}, got.play)
      assert.is_true(done(got.rec, 1))
      check_tone(recording(path), 1.0, {1000}, -13)
    end, 12)
  end)

  it("is PCMU with telephone-events between two of our endpoints", function()
    h.run(function(t)
      local call, got = connect(t)
      assert.equal("PCMU", call.media.codec)
      assert.equal(0, call.media.pt)
      assert.is_number(call.media.dtmf_pt)
      assert.equal("PCMU", got.call.media.codec)
      call:hangup()
    end)
  end)
end)

describe("call:stats()", function()
  it("counts what went each way: packets, bytes, no loss, no drops, small jitter", function()
    h.run(function(t)
      local call, got = connect(t)
      local bob = got.call
      local started = sip.now()
      assert.is_true(call:play(sip.tone{freqs = {1000}, on = 0.4, off = 0}))
      -- past the first second nothing more is sent while nothing plays
      sip.sleep(1.1)
      local a, b = call:stats(), bob:stats()
      for _, k in ipairs{"packets_sent", "bytes_sent", "packets_received", "bytes_received",
                         "lost", "dropped", "jitter"} do
        assert.is_number(a[k], k)
      end
      -- 0.4 s of tone is 20 packets; the first second of silence up to 50 more
      assert.is_true(a.packets_sent >= 20 and a.packets_sent <= 75, ("%d sent"):format(a.packets_sent))
      assert.equal(160 * a.packets_sent, a.bytes_sent)  -- 20 ms of G.711 each
      assert.equal(a.packets_sent, b.packets_received)  -- loopback loses nothing
      assert.equal(a.bytes_sent, b.bytes_received)
      assert.equal(b.packets_sent, a.packets_received)
      assert.equal(0, b.lost)
      assert.equal(0, b.dropped)
      -- how large the jitter is depends on how busy the machine is: test_stream.c checks its
      -- value on virtual time; here it is reported, in ms, less than the time the call ran
      assert.is_true(b.jitter >= 0 and b.jitter < 1000 * (sip.now() - started),
        ("jitter %.2f ms"):format(b.jitter))
      sip.sleep(0.4)
      local a2 = call:stats()
      assert.equal(a.packets_sent, a2.packets_sent, "packets went out while nothing played")
      -- a digit is a few 4-byte telephone-event packets (start ... end three times) and a
      -- short tail of silence frames after it, counted alike on both sides
      assert.is_true(call:send_dtmf("1"))
      sip.sleep(0.6)
      local a3, b3 = call:stats(), bob:stats()
      local n, bytes = a3.packets_sent - a2.packets_sent, a3.bytes_sent - a2.bytes_sent
      local frames = (bytes - 4 * n) / 156  -- bytes = 4 * events + 160 * frames
      assert.is_true(math.type(frames) == "float" and frames == math.floor(frames),
        ("%d packets, %d bytes: not 4-byte events and 160-byte frames"):format(n, bytes))
      assert.is_true(n - frames >= 4, ("%d event packets for one digit"):format(n - frames))
      assert.is_true(frames <= 15, ("%d frames of tail after a digit"):format(frames))
      assert.equal(a3.packets_sent, b3.packets_received)
      assert.equal(a3.bytes_sent, b3.bytes_received)
      sip.sleep(0.3)
      assert.equal(a3.packets_sent, call:stats().packets_sent, "the tail did not end")
      call:hangup()
    end)
  end)
end)

describe("RTCP", function()
  it("reports reach both sides: the far end's view (no loss) and a loopback round trip", function()
    h.run(function(t)
      local call, got = connect(t)
      local bob = got.call
      local started = sip.now()
      h.task(call.play, call, sip.tone{freqs = {1000}}, {loop = true})
      -- Each stream's first report goes half an interval (2.5 s) after it starts, so two
      -- streams that start together report at once, before either has the other's sender
      -- report to answer with LSR/DLSR; a round trip would take the second report (7.5 s).
      -- Restarting alice's stream (inactive, then sendrecv) a second in puts her first
      -- report after bob's: it carries his LSR, and bob has a round trip about 3.5 s in.
      sip.sleep(1.0)
      assert.is_true(call:modify{direction = "inactive"})
      assert.is_true(call:modify{direction = "sendrecv"})
      local seen = h.wait_until(function()
        local a, b = call:stats(), bob:stats()
        return a.remote_lost ~= nil and b.remote_lost ~= nil and (a.rtt ~= nil or b.rtt ~= nil)
      end, 4)
      local a, b = call:stats(), bob:stats()
      assert.is_true(seen, ("after 5 s: alice remote_lost=%s rtt=%s, bob remote_lost=%s rtt=%s"):format(
        tostring(a.remote_lost), tostring(a.rtt), tostring(b.remote_lost), tostring(b.rtt)))
      assert.equal(0, a.remote_lost)
      assert.equal(0, b.remote_lost)
      -- jitter and round trip are as large as the machine is busy (test_stream.c checks them
      -- on virtual time): here they are reported, in ms, and less than the time the call ran
      local ran_ms = 1000 * (sip.now() - started)
      assert.is_true(a.remote_jitter >= 0 and a.remote_jitter < ran_ms, tostring(a.remote_jitter))
      local rtt = a.rtt or b.rtt
      assert.is_true(rtt >= 0 and rtt < ran_ms, ("round trip %.3f ms of %.0f"):format(rtt, ran_ms))
      call:hangup()
    end)
  end)
end)

describe("early media", function()
  it("played after call:progress() reaches a caller that records it in on_early", function()
    h.run(function(t)
      local alice, bob = pair(t)
      local rec, path, answered_at
      bob:on("INVITE", function(c)
        assert(c:progress())
        h.task(c.play, c, sip.tone("ringback", {country = "uk"}), {loop = true})
        sip.sleep(1.2)
        c:stop()
        answered_at = sip.now()
        c:answer()
      end)
      local early_state
      local call, code, reason = alice:call(h.uri_of(bob, "udp"), {
        on_early = function(c)
          early_state = c.state
          rec, path = recorder(c)
        end,
      })
      assert(call, failed(code, reason))
      assert.equal("early", early_state)
      assert.is_truthy(rec, "on_early did not run")
      call:stop()
      assert.is_true(done(rec, 1))
      assert.is_true(rec.res[1] > 0.8, fmt(rec.res))
      local x = recording(path)
      -- uk ringback: 400+450 Hz, 0.4 s on, 0.2 s off, 0.4 s on
      local segs = segments(x)
      assert.is_true(#segs >= 2, describe_segs(x))
      assert.equal(20, segs[1].frames, describe_segs(x))
      assert.equal(10, segs[2].first - (segs[1].first + segs[1].frames), describe_segs(x))
      local i, j = inner(segs[1])
      assert.is_true(share(x, i, j, 400) > 0.4 and share(x, i, j, 450) > 0.4)
      assert.is_truthy(answered_at)
      call:hangup()
    end)
  end)
end)

describe("misuse", function()
  it("of tones raises: an unknown name or country, bad frequencies or cadence", function()
    local function raises(pattern, f, ...)
      local ok, err = pcall(f, ...)
      assert.is_false(ok, "no error")
      assert.is_truthy(tostring(err):find(pattern), tostring(err))
    end
    raises("unknown tone 'bogus'", sip.tone, "bogus")
    raises("country 'xx'", sip.tone, "busy", {country = "xx"})
    raises("country must be a string", sip.tone, "busy", {country = 44})
    raises("sip.tone", sip.tone, "busy", {colour = "red"})
    raises("freqs", sip.tone, {})
    raises("out of range", sip.tone, {freqs = {5000}})
    raises("whole numbers", sip.tone, {freqs = {440.5}})
    raises("on and off go together", sip.tone, {freqs = {440}, on = 1})
    raises("on > 0", sip.tone, {freqs = {440}, on = 0, off = 1})
    raises("level", sip.tone, {freqs = {440}, level = 10})
    raises("expected a tone name", sip.tone, 42)
  end)

  it("of the call's media calls raises with a clear message", function()
    h.run(function(t)
      local call = connect(t)
      local tone = sip.tone{freqs = {440}}
      local function raises(pattern, f, ...)
        local ok, err = pcall(f, call, ...)
        assert.is_false(ok, "no error for " .. pattern)
        assert.is_truthy(tostring(err):find(pattern, 1, true), tostring(err))
      end
      raises("call:play: expected a file name or a sip.tone", call.play, 42)
      raises("call:play", call.play, tone, {lop = true})
      raises('interrupt must be "dtmf"', call.play, tone, {interrupt = "key"})
      raises("call:record: expected a file name", call.record, 42)
      raises("max must be a positive number", call.record, "/tmp/x.wav", {max = -1})
      raises("silence must be a positive number", call.record, "/tmp/x.wav", {silence = "a"})
      raises("call:record", call.record, "/tmp/x.wav", {maximum = 3})
      raises("max must be a positive integer", call.collect, {max = 0})
      raises("timeout must be seconds", call.collect, {timeout = 0})
      raises("terminators must be a string", call.collect, {terminators = 5})
      raises("call:collect", call.collect, {digits = 3})
      raises("expected digits 0-9 * # A-D", call.send_dtmf, "12x")
      raises("expected digits 0-9 * # A-D", call.send_dtmf, "")
      raises("expected digits 0-9 * # A-D", call.send_dtmf, 12)
      raises("unknown event 'tone'", call.on, "tone", function() end)
      -- a file that cannot be written is a run-time failure: nil, code, a message naming it
      local bad = "/nonexistent/dir/rec.wav"
      local res = table.pack(call:record(bad))
      assert.equal(nil, res[1])
      assert.is_string(res[2])
      assert.is_truthy(tostring(res[3]):find(bad, 1, true), fmt(res))
      call:hangup()
    end)
  end)
end)
