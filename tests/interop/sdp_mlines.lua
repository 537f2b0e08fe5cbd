-- RFC 3264 m-lines against SIPp: an answer has one m= line per offered
-- line, in order, a declined one at port 0 (§6); every later offer of the
-- session has at least the lines before it, in the same order, a declined
-- stream still at port 0 (§8).  The library handles audio only, so a
-- stream of video the far end offers is declined, and stays declined in
-- every SDP of the session that follows.  The SIPp scenarios check the
-- same on their side with regular expressions; the harness
-- (calls_conformance.sh) checks the message flow and SIPp's exit status.
--
-- Environment:
--   TRANSPORT   udp | tcp
--   MODE        what is done, hence checked:
--     video_offer   SIPp calls offering audio and video (UA_PORT, WAIT);
--                   the script answers, holds by re-INVITE, resumes by
--                   UPDATE and hangs up      (call_uac_video_modify.xml)
--     video_added   the script calls SIPp (SIPP_PORT) with audio alone;
--                   SIPp re-INVITEs adding video; the script holds by
--                   re-INVITE and hangs up   (call_uas_video_added.xml)
--   UA_PORT     video_offer: the port to listen on (UDP and TCP, 127.0.0.1)
--   WAIT        video_offer: seconds to wait for the INVITE (default 10)
--   SIPP_PORT   video_added: SIPp's port
--   SIP_TRACE_FILE, SIP_FLOW_FILE   optional: where the messages are written

package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local t = require "support"

local transport = t.env("TRANSPORT")
local mode = t.env("MODE")
assert(transport == "udp" or transport == "tcp", "TRANSPORT must be udp or tcp")

local sip = t.require_sip()
local events = t.record(sip)

-- How long a call may stay up waiting for SIPp's next step.
local CALL_LIMIT = 8

-- The m= lines of an SDP body, in order: {media=, port=, proto=, fmts=}.
local function mlines(sdp)
  local found = {}
  for line in ((sdp or "") .. "\n"):gmatch("(.-)\r?\n") do
    local media, port, proto, fmts = line:match("^m=(%S+) (%d+) (%S+) ?(.*)$")
    if media then
      found[#found + 1] = { media = media, port = tonumber(port), proto = proto, fmts = fmts }
    end
  end
  return found
end

local function mlines_text(sdp)
  local parts = {}
  for _, m in ipairs(mlines(sdp)) do
    parts[#parts + 1] = ("m=%s %d %s %s"):format(m.media, m.port, m.proto, m.fmts)
  end
  return #parts > 0 and table.concat(parts, " / ") or "no m= line"
end

-- SIPp's streams as the session keeps them: its audio taken, its video
-- (RTP/AVP 100) declined with port 0 and its format.
local function audio_and_declined_video(sdp)
  local m = mlines(sdp)
  return #m == 2 and m[1].media == "audio" and m[1].port > 0 and m[1].proto == "RTP/AVP"
    and m[2].media == "video" and m[2].port == 0 and m[2].proto == "RTP/AVP"
    and m[2].fmts == "100"
end

local function call_events(call)
  return t.of_call(events, call and call.id)
end

-- call:modify with opts; the offer it sent (the n-th request of method)
-- must keep SIPp's video declined, and the call go on with audio in dir.
local function check_modify(call, name, opts, method, n, dir)
  local ok, status, reason = t.within(sip, CALL_LIMIT, call.modify, call, opts)
  local offer = t.request(call_events(call), "out", method, n)
  local body = offer and offer.msg.body
  t.check(name,
    ok == true and audio_and_declined_video(body) and t.sdp_direction(body) == dir
      and audio_and_declined_video(call.remote_sdp) and call.local_sdp == body
      and call.media and call.media.dir == dir and call.media.codec == "PCMU",
    "returned %s, %s, %s; offer %s; answer %s; media dir %s", tostring(ok), tostring(status),
    tostring(reason), offer and mlines_text(body) or "not sent", mlines_text(call.remote_sdp),
    call.media and tostring(call.media.dir) or "none")
end

local modes = {}

-- SIPp offers audio and video; the answer and every offer after it carry
-- both lines.
function modes.video_offer(call)
  call:ring()
  local ok, why = call:answer()
  local entries = call_events(call)
  local res = t.response(entries, "out", 200, "INVITE")
  local body = res and res.msg.body
  t.check("call:answer() takes the audio and declines the video: m=audio, then m=video 0",
    ok == true and call.state == "confirmed" and audio_and_declined_video(body)
      and call.local_sdp == body and call.media and call.media.codec == "PCMU",
    "answer returned %s, %s; state %s; 200 %s", tostring(ok), tostring(why),
    tostring(call.state), res and mlines_text(body) or "not sent")
  sip.sleep(0.2)
  check_modify(call,
    "call:modify{direction=\"sendonly\"} re-INVITEs with both m-lines, video at port 0",
    { direction = "sendonly" }, "INVITE", 1, "sendonly")
  check_modify(call,
    "call:modify{direction=\"sendrecv\", method=\"UPDATE\"} offers both m-lines again",
    { direction = "sendrecv", method = "UPDATE" }, "UPDATE", 1, "sendrecv")
  sip.sleep(0.2)
  t.check_local_hangup(sip, call, CALL_LIMIT)
end

-- The script offers audio alone; SIPp adds video later, which is declined
-- and then kept in the script's own offer.
function modes.video_added(ua)
  local target = ("sip:sipp@127.0.0.1:%d"):format(t.env_number("SIPP_PORT"))
  if transport == "tcp" then target = target .. ";transport=tcp" end
  local modified = 0
  local call, code, reason = ua:call(target, { timeout = 10 })
  local entries = call_events(call)
  local invite = t.request(entries, "out", "INVITE")
  local offer = invite and invite.msg.body
  local lines = mlines(offer)
  t.check("ua:call offers audio alone and returns a confirmed call",
    call and call.state == "confirmed" and #lines == 1 and lines[1].media == "audio"
      and lines[1].port > 0,
    "%s; INVITE %s", t.explain_call(call, code, reason),
    invite and mlines_text(offer) or "not sent")
  if not call then return end
  call:on("modified", function() modified = modified + 1 end)

  -- SIPp's re-INVITE, answered and acknowledged
  t.wait_for(sip, CALL_LIMIT, function()
    return modified > 0 and t.request(call_events(call), "in", "ACK") ~= nil
  end)
  entries = call_events(call)
  local theirs = t.request(entries, "in", "INVITE")
  local res = t.response(entries, "out", 200, "INVITE")
  t.check("SIPp's re-INVITE adding video is answered 200: m=audio, then m=video 0 RTP/AVP 100",
    theirs and res and #mlines(theirs.msg.body) == 2 and audio_and_declined_video(res.msg.body)
      and modified == 1 and call.remote_sdp == theirs.msg.body and call.media
      and call.media.dir == "sendrecv",
    "re-INVITE %s; 200 %s; modified fired %d times", theirs and mlines_text(theirs.msg.body)
      or "not received", res and mlines_text(res.msg.body) or "not sent", modified)
  sip.sleep(0.2)
  check_modify(call,
    "call:modify{direction=\"sendonly\"} re-INVITEs with both m-lines, video at port 0",
    { direction = "sendonly" }, "INVITE", 2, "sendonly")
  sip.sleep(0.2)
  t.check_local_hangup(sip, call, CALL_LIMIT)
  return call
end

assert(modes[mode], "unknown MODE " .. mode)

-- SIPp calls: the INVITE handler runs the mode.
local function answer_side(ua)
  return t.serve_one_call(sip, ua, modes[mode],
    { wait = t.env_number("WAIT", 10), limit = CALL_LIMIT * 4 })
end

t.main(sip, function(track)
  local listen = { "udp:127.0.0.1:0", "tcp:127.0.0.1:0" }
  if mode == "video_offer" then
    local port = t.env_number("UA_PORT")
    listen = { ("udp:127.0.0.1:%d"):format(port), ("tcp:127.0.0.1:%d"):format(port) }
  end
  local ua = track(sip.ua{ uri = "sip:alice@127.0.0.1", listen = listen })
  local call
  if mode == "video_offer" then
    call = answer_side(ua)
  else
    call = modes[mode](ua)
  end
  if call then t.check_transport(call_events(call), transport) end
  -- Let SIPp's last retransmissions and the ACK go before the endpoint closes.
  sip.sleep(0.2)
end)
