-- Calls to the library, with media (tests/interop/calls_media.sh).
--
-- Environment:
--   MODE       pcap: SIPp's uac_pcap (about 7 s of PCMA, then RFC 2833 digit
--              1): record until SIPp's BYE, collect the digit
--              sndcode: baresip sends "1234#" as telephone-events: collect
--              them, then send "9*" back and hang up
--              inband: SIPp offers PCMU only (no telephone-event) and plays
--              the keypad tones of "159#": collect them in-band, record
--              ringback: baresip calls; call:progress(), a tone as early
--              media, call:answer(), another tone, hang up
--   UA_PORT    UDP port of the endpoint on 127.0.0.1
--   RTP_PORTS  FIRST-LAST, the endpoint's RTP port range
--   REC_FILE   (pcap, inband) where to record
--   REC_SECONDS  (inband) MIN:MAX, how long the recording lasts (SIPp's BYE
--              ends it)
--   WAIT       seconds to wait for the INVITE (default 10)
--
-- Prints "ready" once it listens, and "# step: collecting" once
-- call:collect waits (sndcode: then the harness has baresip send digits).

package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local t = require "support"
local b = require "bs_support"

local mode = t.env("MODE")
local ua_port = t.env_number("UA_PORT")
local rtp = b.rtp_ports()
local wait = t.env_number("WAIT", 10)
local rec_file = os.getenv("REC_FILE")

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

local function packed(p)
  return p and b.show(table.unpack(p, 1, p.n)) or "nothing"
end

-- Every digit call:on("dtmf") hears, with its time after the answer.
local function listen_digits(call, since)
  local heard = {}
  call:on("dtmf", function(c, digit)
    heard[#heard + 1] = { digit = digit, at = sip.now() - since[1], call = c }
  end)
  return heard
end

local function digits_of(heard)
  local s = {}
  for i, h in ipairs(heard) do s[i] = h.digit end
  return table.concat(s)
end

local function times_of(heard)
  local s = {}
  for i, h in ipairs(heard) do s[i] = ("%s@%.2f"):format(h.digit, h.at) end
  return table.concat(s, " ")
end

local function check_answer(call, answered, codec, dtmf_pt)
  local media = call.media
  t.check(("call:answer() returns true, %s negotiated%s"):format(codec,
      dtmf_pt and " with telephone-event " .. dtmf_pt or " without telephone-event"),
    answered[1] == true and call.state == "confirmed" and media and media.codec == codec
      and media.dtmf_pt == dtmf_pt,
    "answer returned %s, state %s, media codec %s, dtmf_pt %s", packed(answered),
    tostring(call.state), media and tostring(media.codec), media and tostring(media.dtmf_pt))
end

local IN_CALL = { "in INVITE", "out 100 INVITE", "out 180 INVITE", "out 200 INVITE", "in ACK" }

local modes = {}

-- SIPp's uac_pcap: PCMA and telephone-event 101; 7 s of audio from the ACK
-- on, digit 1 at 8 s, BYE at 9 s.
function modes.pcap(call)
  local since = { sip.now() }
  local heard = listen_digits(call, since)
  call:ring()
  local answered = table.pack(call:answer())
  since[1] = sip.now()
  check_answer(call, answered, "PCMA", 101)
  local collected
  sip.spawn(function()
    collected = table.pack(call:collect{ max = 1, timeout = 12 })
    collected.at = sip.now() - since[1]
  end)
  -- the recording runs as long as the call did since SIPp's first packet:
  -- its 7 s of audio, the digit, the pause before the BYE
  local rec = table.pack(call:record(rec_file, { max = 12 }))
  local rec_at = sip.now() - since[1]
  t.check("call:record(path, {max=12}) returns nil, \"hangup\", 8.5-9.3 (s) at SIPp's BYE",
    rec[1] == nil and rec[2] == "hangup" and type(rec[3]) == "number"
      and rec[3] >= 8.5 and rec[3] <= 9.3,
    "returned %s, %.2f s after the answer", packed(rec), rec_at)
  t.wait_for(sip, 1, function() return collected ~= nil end)
  t.check("call:collect{max=1} returns \"1\" (RFC 2833) 7.5-9 s after the answer",
    collected and collected[1] == "1" and collected.at >= 7.5 and collected.at <= 9,
    "returned %s after %s s", packed(collected),
    collected and ("%.2f"):format(collected.at) or "?")
  t.check("call:on(\"dtmf\") hears \"1\" once, with the call",
    digits_of(heard) == "1" and heard[1].call == call, "heard [%s]", times_of(heard))
  local stats = call:stats()
  t.diag("stats: %s", show_stats(stats))
  -- g711a.pcap: 236 packets of 30 ms; dtmf_2833_1.pcap: some more
  t.check("call:stats() counts SIPp's packets: at least 236 received, none lost",
    type(stats) == "table" and (stats.packets_received or 0) >= 236 and (stats.lost or 0) == 0,
    "%s", show_stats(stats))
  -- Right after call:record said "hangup", in the same task: the call has
  -- ended, so call:wait() must say how.
  local state, reason = call.state, call.end_reason
  local waited = table.pack(call:wait())
  t.check("call:wait() returns \"hangup\" right after call:record returned",
    waited[1] == "hangup" and call.end_reason == "hangup",
    "call:wait() returned %s; before it: state %s, end_reason %s; after: end_reason %s",
    packed(waited), tostring(state), tostring(reason), tostring(call.end_reason))
  b.check_flow("SIP flow", events, call.id, { IN_CALL[1], IN_CALL[2], IN_CALL[3], IN_CALL[4],
    IN_CALL[5], "in BYE", "out 200 BYE" })
end

-- baresip calls and sends "1234#" (sndcode) once the script collects.
function modes.sndcode(call)
  local since = { sip.now() }
  local heard = listen_digits(call, since)
  call:ring()
  local answered = table.pack(call:answer())
  since[1] = sip.now()
  check_answer(call, answered, "PCMU", 101)
  t.diag("step: collecting")
  local got = table.pack(call:collect{ max = 10, timeout = 8, terminators = "#" })
  t.check("call:collect{max=10, terminators=\"#\"} returns \"1234\"",
    got[1] == "1234" and got.n == 1, "returned %s", packed(got))
  t.check("call:on(\"dtmf\") hears 1, 2, 3, 4, # in order", digits_of(heard) == "1234#",
    "heard [%s]", times_of(heard))
  local sent = table.pack(pcall(call.send_dtmf, call, "9*"))
  t.check("call:send_dtmf(\"9*\") returns true at once", sent[1] == true and sent[2] == true,
    "returned %s", packed(sent))
  -- two digits of 100 ms, 60 ms apart, then the one second of silence
  -- that carries the end packets out of baresip's jitter buffer
  sip.sleep(1.5)
  t.diag("stats: %s", show_stats(call:stats()))
  call:hangup()
  b.wait_label(sip, events, call.id, "in 200 BYE", 2)
  t.check("call:hangup() ends the call, end_reason \"local\"",
    call.state == "ended" and call.end_reason == "local",
    "state %s, end_reason %s", tostring(call.state), tostring(call.end_reason))
  b.check_flow("SIP flow", events, call.id, { IN_CALL[1], IN_CALL[2], IN_CALL[3], IN_CALL[4],
    IN_CALL[5], "out BYE", "in 200 BYE" })
end

-- SIPp offers PCMU only and plays "159#" as keypad tones, then hangs up.
function modes.inband(call)
  local since = { sip.now() }
  local heard = listen_digits(call, since)
  call:ring()
  local answered = table.pack(call:answer())
  since[1] = sip.now()
  check_answer(call, answered, "PCMU", nil)
  local rec
  sip.spawn(function() rec = table.pack(call:record(rec_file, { max = 6 })) end)
  local got = table.pack(call:collect{ max = 10, timeout = 4, terminators = "#" })
  t.check("call:collect{max=10, terminators=\"#\"} returns \"159\" from in-band tones",
    got[1] == "159" and got.n == 1, "returned %s; heard [%s]", packed(got), times_of(heard))
  t.check("call:on(\"dtmf\") hears 1, 5, 9, # once each", digits_of(heard) == "159#",
    "heard [%s]", times_of(heard))
  t.check("call:wait() returns \"hangup\"", call:wait() == "hangup",
    "end_reason %s", tostring(call.end_reason))
  t.wait_for(sip, 1, function() return rec ~= nil end)
  local lo, hi = t.env("REC_SECONDS"):match("^([%d.]+):([%d.]+)$")
  t.check(("call:record returns nil, \"hangup\", %s-%s (s) at SIPp's BYE"):format(lo, hi),
    rec and rec[1] == nil and rec[2] == "hangup" and type(rec[3]) == "number"
      and rec[3] >= tonumber(lo) and rec[3] <= tonumber(hi),
    "returned %s", packed(rec))
  t.diag("stats: %s", show_stats(call:stats()))
  b.check_flow("SIP flow", events, call.id, { IN_CALL[1], IN_CALL[2], IN_CALL[3], IN_CALL[4],
    IN_CALL[5], "in BYE", "out 200 BYE" })
end

-- Coloured ringback: 800 Hz for 2 s before the answer, 1200 Hz for 1 s after.
function modes.ringback(call)
  local progressed = table.pack(pcall(call.progress, call))
  local t0 = sip.now()
  local played = table.pack(call:play(sip.tone{ freqs = { 800 }, on = 2, off = 0 }))
  local took = sip.now() - t0
  local state = call.state
  local early_stats = call:stats()
  t.diag("stats before the answer: %s", show_stats(early_stats))
  t.check("call:progress(), then call:play(tone) returns true after 2 s, unanswered",
    progressed[1] == true and played[1] == true and math.abs(took - 2) <= 0.1
      and state ~= "confirmed" and state ~= "ended",
    "progress %s; play returned %s after %.3f s; state %s", packed(progressed), packed(played),
    took, tostring(state))
  t.check("RTP went out before the answer: 95 packets and more in 2 s",
    type(early_stats) == "table" and (early_stats.packets_sent or 0) >= 95,
    "%s", show_stats(early_stats))
  local answered = table.pack(call:answer())
  check_answer(call, answered, "PCMU", 101)
  t0 = sip.now()
  played = table.pack(call:play(sip.tone{ freqs = { 1200 }, on = 1, off = 0 }))
  took = sip.now() - t0
  t.check("call:play(tone) after the answer returns true after 1 s",
    played[1] == true and math.abs(took - 1) <= 0.1,
    "returned %s after %.3f s", packed(played), took)
  -- the silence that follows carries the last packets out of baresip's
  -- jitter buffer
  sip.sleep(0.5)
  call:hangup()
  b.wait_label(sip, events, call.id, "in 200 BYE", 2)
  local entries = b.call_entries(events, call.id)
  local s183, s200
  for _, e in ipairs(entries) do
    local l = b.label(e)
    if l == "out 183 INVITE" then s183 = e end
    if l == "out 200 INVITE" then s200 = e end
  end
  local body = s183 and s183.msg.body or ""
  t.check("the 183 carries an SDP answer (PCMU, telephone-event), the 200 the same",
    s183 and (t.header(s183.msg, "Content-Type") or ""):match("^application/sdp")
      and body:match("m=audio %d+ RTP/AVP 0 101") and s200 and s200.msg.body == body,
    "183 %s; 200 body %s", s183 and s183.msg.text or "not sent",
    s200 and (s200.msg.body == body and "the same" or s200.msg.body) or "none")
  b.check_flow("SIP flow", events, call.id, { "in INVITE", "out 100 INVITE", "out 183 INVITE",
    "out 200 INVITE", "in ACK", "out BYE", "in 200 BYE" })
end

assert(modes[mode], "MODE: pcap, sndcode, inband or ringback")

t.main(sip, function(track)
  local ua, code, reason = sip.ua{
    uri = "sip:bob@127.0.0.1",
    listen = { "udp:127.0.0.1:" .. ua_port },
    rtp_ports = rtp,
  }
  if not ua then
    t.check("endpoint", false, "sip.ua failed: %s", b.show(code, reason))
    return
  end
  track(ua)
  if not t.serve_one_call(sip, ua, modes[mode], { wait = wait, limit = 30 }) then return end
  sip.sleep(0.2)
end)
