-- The library calls baresip (auto answer) and plays into the call: a tone,
-- then a sound file, while it records what baresip sends
-- (tests/interop/calls_media.sh analyses both recordings by content).
--
-- Environment:
--   TARGET     the URI to call
--   UA_PORT    UDP port of the endpoint on 127.0.0.1
--   RTP_PORTS  FIRST-LAST, the endpoint's RTP port range
--   PLAY_FILE  the sound file to play after the tone (the harness writes a
--              440 Hz WAV at 44.1 kHz stereo, so that it must be converted)
--   FILE_SECONDS  how long that file lasts
--   REC_FILE   where to record what baresip sends (3 s)

package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local t = require "support"
local b = require "bs_support"

local target = t.env("TARGET")
local ua_port = t.env_number("UA_PORT")
local rtp = b.rtp_ports()
local play_file = t.env("PLAY_FILE")
local file_seconds = t.env_number("FILE_SECONDS")
local rec_file = t.env("REC_FILE")

-- The tone: 2 s of 1000 Hz, then 0.2 s of quiet, played once.
local TONE_ON, TONE_OFF = 2, 0.2
local REC_MAX = 3
-- Then a pause longer than the one second of silence, and a short tone.
local IDLE, SHORT = 1.5, 0.5

local sip = t.require_sip()
local events = t.record(sip)

local function show_stats(s)
  if type(s) ~= "table" then return tostring(s) end
  local keys = {}
  for k in pairs(s) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = ("%s=%s"):format(k, tostring(s[k])) end
  return table.concat(parts, " ")
end

t.main(sip, function(track)
  local ua, code, reason = sip.ua{
    uri = "sip:alice@127.0.0.1",
    listen = { "udp:127.0.0.1:" .. ua_port },
    rtp_ports = rtp,
  }
  if not ua then
    t.check("endpoint", false, "sip.ua failed: %s", b.show(code, reason))
    return
  end
  track(ua)

  local call, ccode, creason = ua:call(target, { timeout = 5 })
  local media = call and call.media
  t.check("ua:call returns a confirmed call, PCMU with telephone-event negotiated",
    call and call.state == "confirmed" and media and media.codec == "PCMU"
      and media.dtmf_pt == 101,
    "call %s (%s); media codec %s, dtmf_pt %s", tostring(call), b.show(ccode, creason),
    media and tostring(media.codec), media and tostring(media.dtmf_pt))
  if not call then return end
  local answered_at = sip.now()

  -- What baresip sends (its microphone is the 440 Hz ausine) is recorded
  -- meanwhile, in a task of its own.
  local rec = nil
  sip.spawn(function()
    rec = table.pack(call:record(rec_file, { max = REC_MAX }))
  end)

  local t0 = sip.now()
  local tone = sip.tone{ freqs = { 1000 }, on = TONE_ON, off = TONE_OFF }
  local played = table.pack(call:play(tone))
  local tone_took = sip.now() - t0
  t.check("call:play(sip.tone{1000 Hz, on=2, off=0.2}) returns true after 2.2 s",
    played[1] == true and math.abs(tone_took - (TONE_ON + TONE_OFF)) <= 0.1,
    "returned %s after %.3f s", b.show(table.unpack(played, 1, played.n)), tone_took)

  t0 = sip.now()
  played = table.pack(call:play(play_file))
  local file_took = sip.now() - t0
  t.check("call:play(file) returns true once the file has played",
    played[1] == true and math.abs(file_took - file_seconds) <= 0.1,
    "returned %s after %.3f s (the file lasts %g s)",
    b.show(table.unpack(played, 1, played.n)), file_took, file_seconds)

  t.wait_for(sip, REC_MAX + 1, function() return rec ~= nil end)
  t.check("call:record(path, {max=3}) returns 3 (seconds) while baresip talks",
    rec and rec[1] and math.abs(rec[1] - REC_MAX) < 0.001,
    "returned %s", rec and b.show(table.unpack(rec, 1, rec.n)) or "nothing yet")

  -- The call idles (the library sends one second of silence, then
  -- nothing), then a short tone: it must reach baresip whole as well.
  sip.sleep(IDLE)
  t0 = sip.now()
  played = table.pack(call:play(sip.tone{ freqs = { 600 }, on = SHORT, off = 0 }))
  local short_took = sip.now() - t0
  t.check("after a pause, call:play(sip.tone{600 Hz, on=0.5}) returns true after 0.5 s",
    played[1] == true and math.abs(short_took - SHORT) <= 0.1,
    "returned %s after %.3f s", b.show(table.unpack(played, 1, played.n)), short_took)
  sip.sleep(1)
  local stats = call:stats()
  local elapsed = sip.now() - answered_at
  t.diag("stats: %s", show_stats(stats))
  -- the sounds at 50 packets a second, and 200 ms of silence after the
  -- file and after the short tone, where the call falls quiet (the tail
  -- that lets the far end's jitter buffer give out their end; the tone
  -- runs straight into the file)
  local sent_min = math.floor((TONE_ON + TONE_OFF + file_seconds + SHORT + 2 * 0.2) * 50) - 2
  t.check("call:stats() counts the packets sent and received",
    type(stats) == "table" and (stats.packets_sent or 0) >= sent_min
      and (stats.packets_received or 0) >= elapsed * 50 * 0.9
      and stats.bytes_sent == stats.packets_sent * 160 and (stats.lost or 0) == 0,
    "%s (at least %d sent, 160 bytes each, %d received in %.1f s, no loss expected)",
    show_stats(stats), sent_min, math.floor(elapsed * 50 * 0.9), elapsed)

  call:hangup()
  b.wait_label(sip, events, call.id, "in 200 BYE", 2)
  t.check("call:hangup() ends the call, end_reason \"local\"",
    call.state == "ended" and call.end_reason == "local",
    "state %s, end_reason %s", tostring(call.state), tostring(call.end_reason))
  b.check_flow("SIP flow", events, call.id, { "out INVITE", "in 180 INVITE", "in 200 INVITE",
    "out ACK", "out BYE", "in 200 BYE" })
end)
