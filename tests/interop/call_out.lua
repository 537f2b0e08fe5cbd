-- The library calls SIPp: ua:call() against SIPp's built-in uas scenario or
-- one of tests/sipp/call_uas_*.xml, and checks what the call API returned and
-- what went over the wire.  The harness (calls_sipp.sh) checks the message
-- flow from $SIP_FLOW_FILE and SIPp's exit status.
--
-- Environment:
--   SIPP_PORT   SIPp's port on 127.0.0.1
--   TRANSPORT   udp | tcp
--   MODE        what SIPp does, hence what is checked:
--     basic     answers (sipp -sn uas); the script hangs up
--     fail      answers STATUS REASON (after a 180 when RINGS=1)
--     noanswer  rings forever; the script's timeout (TIMEOUT s) cancels
--     reinvite  answers, holds the call by re-INVITE, hangs up
--     update    answers, holds and resumes by UPDATE, hangs up
--     modify    answers; the script holds by re-INVITE, resumes by UPDATE
--               and hangs up
--     silent    never responds; Timer B (64*T1, T1 from $T1) ends the call
--     early     answers in a 183 with SDP (early media), then in the 200;
--               the script hangs up
--     prack     sends a reliable 180 (100rel), wants the PRACK, answers;
--               the script hangs up
--     glare     answers; the script's re-INVITE crosses SIPp's (491 both
--               ways), both try again, the script hangs up
--     retry_422 answers the INVITE (Session-Expires: 90) with 422 and
--               Min-SE: 1800, then the retry; the script hangs up
--     early_update  answers in a reliable 183; the script offers by UPDATE
--               from on_early, SIPp by UPDATE too, then answers; the
--               script hangs up

--     tagless   answers 200 without a To tag (RFC 2543), sends an INFO
--               without a From tag; the script hangs up
--     strict    answers through two record-routing proxies (SIPp itself),
--               the first of the route set a strict router; the script
--               hangs up
--   STATUS, REASON, RINGS   MODE=fail only
--   TIMEOUT     MODE=noanswer: the timeout option of ua:call (default 1)
--   SIP_TRACE_FILE, SIP_FLOW_FILE   optional: where the messages are written

package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local t = require "support"

local port = t.env_number("SIPP_PORT")
local transport = t.env("TRANSPORT")
local mode = t.env("MODE")
assert(transport == "udp" or transport == "tcp", "TRANSPORT must be udp or tcp")

local sip = t.require_sip()
local events = t.record(sip)

local target = ("sip:sipp@127.0.0.1:%d"):format(port)
if transport == "tcp" then target = target .. ";transport=tcp" end

-- How long a call may stay up waiting for SIPp's next step.
local CALL_LIMIT = 8

-- Calls SIPp and records every provisional response on_progress saw.
local function place_call(ua, options)
  local progress = {}
  options = options or {}
  options.timeout = options.timeout or 10
  options.on_progress = function(_, status, reason)
    progress[#progress + 1] = ("%s %s"):format(tostring(status), tostring(reason))
  end
  local started = sip.now()
  local call, code, reason, res = ua:call(target, options)
  return call, code, reason, res, progress, sip.now() - started
end

-- The events of the call: by its Call-ID, or that of the first INVITE sent.
local function call_events(call)
  local id = call and call.id
  if not id then
    local invite = t.request(events, "out", "INVITE")
    id = invite and t.header(invite.msg, "Call-ID")
  end
  return t.of_call(events, id), id
end

local function check_confirmed(call, code, reason)
  return t.check("ua:call returns a confirmed outgoing call",
    call and call.state == "confirmed" and call.direction == "outgoing"
      and type(call.id) == "string",
    call and ("state %s, direction %s, id %s"):format(tostring(call.state),
      tostring(call.direction), tostring(call.id)) or t.explain_call(call, code, reason))
end

-- What the progress callback saw, 100 Trying left out (it is hop by hop).
local function progress_text(progress)
  local seen = {}
  for _, p in ipairs(progress) do
    if not p:match("^100 ") then seen[#seen + 1] = p end
  end
  return table.concat(seen, ", ")
end

-- The dialog's tags and SIPp's Contact, from the 2xx to the INVITE.
local function dialog_of(entries)
  local invite = t.request(entries, "out", "INVITE")
  local ok = t.response(entries, "in", 200, "INVITE")
  if not (invite and ok) then return nil end
  return {
    local_tag = t.tag(t.header(invite.msg, "From")),
    remote_tag = t.tag(t.header(ok.msg, "To")),
    contact = t.uri_of(t.header(ok.msg, "Contact")),
    cseq = t.cseq(invite.msg),
  }
end

local function check_remote_bye(call) t.check_remote_bye(sip, call, CALL_LIMIT) end

local function check_local_hangup(call) t.check_local_hangup(sip, call, CALL_LIMIT) end

local answer_direction = t.answer_direction

local modes = {}

function modes.basic(ua)
  local call, code, reason = place_call(ua)
  check_confirmed(call, code, reason)
  local entries = call_events(call)

  local invite = t.request(entries, "out", "INVITE")
  local ok = t.response(entries, "in", 200, "INVITE")
  t.check("the INVITE offers SDP and SIPp's answer is call.remote_sdp",
    invite and (t.header(invite.msg, "Content-Type") or ""):match("^application/sdp")
      and invite.msg.body:find("m=audio", 1, true)
      and ok and call and call.remote_sdp == ok.msg.body,
    "INVITE Content-Type %s; call.remote_sdp %q; SIPp's 200 body %q",
    invite and tostring(t.header(invite.msg, "Content-Type")) or "(no INVITE)",
    tostring(call and call.remote_sdp), ok and ok.msg.body or "(no 200)")

  -- RFC 3261 13.2.2.4 and 12.2.1.1: the ACK of a 2xx is a request of the
  -- dialog, a transaction of its own, to the remote target.
  local dialog = dialog_of(entries)
  local ack = t.request(entries, "out", "ACK")
  t.check("the ACK of the 200 goes to SIPp's Contact with a new branch and CSeq n ACK",
    dialog and ack and ack.msg.uri == dialog.contact
      and t.branch(ack.msg) ~= t.branch(invite.msg)
      and select(1, t.cseq(ack.msg)) == dialog.cseq
      and select(2, t.cseq(ack.msg)) == "ACK"
      and t.tag(t.header(ack.msg, "To")) == dialog.remote_tag,
    "ACK %s", ack and ack.msg.text or "not sent")

  if not call then return end
  sip.sleep(0.3)
  check_local_hangup(call)
  entries = call_events(call)
  t.check_in_dialog("BYE is in the dialog: to the Contact, with both tags and a higher CSeq",
    entries, "out", dialog and dialog.contact, dialog and dialog.local_tag,
    dialog and dialog.remote_tag, dialog and dialog.cseq)
  t.check_transport(entries, transport)
end

function modes.fail(ua)
  local status = t.env_number("STATUS")
  local want_reason = t.env("REASON")
  local rings = t.env("RINGS", "0") == "1"
  local call, code, reason, res, progress = place_call(ua)
  t.check(("ua:call returns nil, %d, %q"):format(status, want_reason),
    call == nil and code == status and reason == want_reason,
    "returned %s", t.explain_call(call, code, reason))
  t.check(("the response object comes fourth (status %d)"):format(status),
    type(res) ~= "nil" and res.status == status,
    "fourth value %s", res and tostring(res.status) or "nil")
  local expected = rings and "180 Ringing" or ""
  t.check(("on_progress sees %s"):format(rings and "180 Ringing" or "no ringing"),
    progress_text(progress) == expected,
    "on_progress saw %q", progress_text(progress))
  local entries = call_events(call)
  t.check_error_ack(("the ACK of the %d is in the INVITE transaction"):format(status),
    entries, status)
  t.check_transport(entries, transport)
  if call then pcall(call.hangup, call) end
end

function modes.noanswer(ua)
  local timeout = t.env_number("TIMEOUT", 1)
  local call, code, reason, _, progress, took = place_call(ua, { timeout = timeout })
  t.check(("ua:call returns nil, 487, \"Request Terminated\" after its %g s timeout"):format(
    timeout),
    call == nil and code == 487 and reason == "Request Terminated"
      and took >= timeout and took < timeout + 2,
    "returned %s after %.2f s", t.explain_call(call, code, reason), took)
  t.check("on_progress sees 180 Ringing", progress_text(progress) == "180 Ringing",
    "on_progress saw %q", progress_text(progress))

  -- RFC 3261 9.1: the CANCEL copies the INVITE's Request-URI, Call-ID, To,
  -- From, CSeq number and top Via, and goes to where the INVITE went.
  local entries = call_events(call)
  local invite = t.request(entries, "out", "INVITE")
  local cancel = t.request(entries, "out", "CANCEL")
  local problems = {}
  if invite and cancel then
    local i, c = invite.msg, cancel.msg
    local inum = t.cseq(i)
    local cnum, cmethod = t.cseq(c)
    if c.uri ~= i.uri then problems[#problems + 1] = "Request-URI " .. tostring(c.uri) end
    if t.branch(c) ~= t.branch(i) then problems[#problems + 1] = "branch " .. tostring(t.branch(c)) end
    if t.header(c, "From") ~= t.header(i, "From") then problems[#problems + 1] = "From" end
    if t.header(c, "To") ~= t.header(i, "To") then
      problems[#problems + 1] = "To " .. tostring(t.header(c, "To"))
    end
    if cnum ~= inum or cmethod ~= "CANCEL" then
      problems[#problems + 1] = "CSeq " .. tostring(t.header(c, "CSeq"))
    end
    if cancel.port ~= invite.port or cancel.transport ~= invite.transport then
      problems[#problems + 1] = ("sent to %s:%s"):format(tostring(cancel.addr), tostring(cancel.port))
    end
  else
    problems[#problems + 1] = invite and "no CANCEL sent" or "no INVITE sent"
  end
  t.check("the CANCEL matches the INVITE (Request-URI, Via, Call-ID, From, To, CSeq number)",
    #problems == 0, "%s", table.concat(problems, "; "))
  t.check_error_ack("the ACK of the 487 is in the INVITE transaction", entries, 487)
  t.check_transport(entries, transport)
end

function modes.reinvite(ua)
  local call, code, reason = place_call(ua)
  check_confirmed(call, code, reason)
  if not call then return end
  local held = 0
  call:on("hold", function() held = held + 1 end)
  t.wait_for(sip, CALL_LIMIT, function() return held > 0 or call.state == "ended" end)
  local entries = call_events(call)
  local dir = answer_direction(entries, "INVITE")
  t.check("SIPp's re-INVITE (a=sendonly) is answered 200 with a=recvonly",
    dir == "recvonly", "answer direction %s", tostring(dir))
  t.check("call:on(\"hold\") fires and call.remote_sdp is the held offer",
    held == 1 and t.sdp_direction(call.remote_sdp) == "sendonly",
    "hold fired %d times, call.remote_sdp direction %s", held,
    tostring(t.sdp_direction(call.remote_sdp)))
  check_remote_bye(call)
  t.check_transport(call_events(call), transport)
end

function modes.update(ua)
  local call, code, reason = place_call(ua)
  check_confirmed(call, code, reason)
  if not call then return end
  local seen = {}
  call:on("hold", function() seen[#seen + 1] = "hold" end)
  call:on("unhold", function() seen[#seen + 1] = "unhold" end)
  check_remote_bye(call)
  local entries = call_events(call)
  local first = answer_direction(entries, "UPDATE", 1)
  local second = answer_direction(entries, "UPDATE", 2)
  t.check("SIPp's UPDATE with a=sendonly is answered 200 with a=recvonly",
    first == "recvonly", "answer direction %s", tostring(first))
  t.check("SIPp's UPDATE with a=sendrecv is answered 200 with sendrecv",
    second == "sendrecv", "answer direction %s", tostring(second))
  t.check("call:on(\"hold\"), then call:on(\"unhold\") fire",
    table.concat(seen, ",") == "hold,unhold", "events: %s", table.concat(seen, ","))
  t.check_transport(entries, transport)
end

function modes.modify(ua)
  local call, code, reason = place_call(ua)
  check_confirmed(call, code, reason)
  if not call then return end
  sip.sleep(0.2)

  local ok, status, why = t.within(sip, CALL_LIMIT, call.modify, call,
    { direction = "sendonly" })
  local entries = call_events(call)
  local reinvite = t.request(entries, "out", "INVITE", 2)
  t.check("call:modify{direction=\"sendonly\"} re-INVITEs with a=sendonly and returns true",
    ok == true and reinvite and t.sdp_direction(reinvite.msg.body) == "sendonly"
      and t.sdp_direction(call.remote_sdp) == "recvonly",
    "returned %s, %s, %s; re-INVITE %s; answer direction %s", tostring(ok), tostring(status),
    tostring(why), reinvite and "sent with " .. tostring(t.sdp_direction(reinvite.msg.body))
      or "not sent", tostring(t.sdp_direction(call.remote_sdp)))

  ok, status, why = t.within(sip, CALL_LIMIT, call.modify, call,
    { direction = "sendrecv", method = "UPDATE" })
  entries = call_events(call)
  local update = t.request(entries, "out", "UPDATE")
  t.check("call:modify{direction=\"sendrecv\", method=\"UPDATE\"} sends UPDATE and returns true",
    ok == true and update and t.sdp_direction(update.msg.body) == "sendrecv"
      and t.sdp_direction(call.remote_sdp) == "sendrecv",
    "returned %s, %s, %s; UPDATE %s; answer direction %s", tostring(ok), tostring(status),
    tostring(why), update and "sent with " .. tostring(t.sdp_direction(update.msg.body))
      or "not sent", tostring(t.sdp_direction(call.remote_sdp)))

  sip.sleep(0.2)
  check_local_hangup(call)
  entries = call_events(call)
  local dialog = dialog_of(entries)
  t.check_in_dialog("re-INVITE, ACK, UPDATE and BYE are in the dialog, CSeq rising",
    entries, "out", dialog and dialog.contact, dialog and dialog.local_tag,
    dialog and dialog.remote_tag, dialog and dialog.cseq)
  t.check_transport(entries, transport)
end

-- Nothing answers (SIPp stays silent): Timer B, 64*T1, ends the attempt with
-- nil, 408, "Request Timeout" and no response object.  The endpoint runs
-- with T1 = T1 seconds so that this takes 64*T1.
function modes.silent(ua)
  local t1 = t.env_number("T1")
  local call, code, reason, res, progress, took = place_call(ua)
  t.check(("ua:call returns nil, 408, \"Request Timeout\" after 64*T1 (%g s)"):format(64 * t1),
    call == nil and code == 408 and reason == "Request Timeout"
      and took >= 64 * t1 - 0.1 and took < 64 * t1 + 1.5,
    "returned %s after %.2f s", t.explain_call(call, code, reason), took)
  t.check("no response object and no progress when nothing answered",
    res == nil and #progress == 0, "fourth value %s, on_progress saw %q", tostring(res),
    progress_text(progress))
  local sent = t.select(call_events(call), function(e, msg)
    return e.dir == "out" and msg.method == "INVITE"
  end)
  -- Timer A doubles from T1: at 0, 1, 3, 7, 15, 31, 63 T1; the last one is
  -- close to Timer B, which may come first on a busy machine.
  t.check("the INVITE went out again on Timer A (6 or 7 times in 64*T1)",
    #sent == 6 or #sent == 7,
    "%d INVITEs sent", #sent)
  t.check_transport(call_events(call), transport)
end

-- Early media: SIPp's 183 carries its SDP answer; on_early fires while the
-- call is early, and the call is answered later with the same SDP.
function modes.early(ua)
  local early = {}
  local call, code, reason, _, progress = place_call(ua, {
    on_early = function(c)
      early[#early + 1] = { state = c.state, sdp = c.remote_sdp }
    end,
  })
  check_confirmed(call, code, reason)
  t.check("on_progress sees 183 Session Progress",
    progress_text(progress) == "183 Session Progress",
    "on_progress saw %q", progress_text(progress))
  local entries = call_events(call)
  local session = t.response(entries, "in", 183, "INVITE")
  t.check("on_early fires once, while the call is early, with the 183's SDP",
    #early == 1 and early[1].state == "early" and session ~= nil
      and early[1].sdp == session.msg.body,
    "on_early fired %d times%s", #early,
    early[1] and (", state %s, remote_sdp %q"):format(tostring(early[1].state),
      tostring(early[1].sdp)) or "")
  if not call then return end
  sip.sleep(0.2)
  check_local_hangup(call)
  t.check_transport(call_events(call), transport)
end

-- Reliable provisional responses (RFC 3262): SIPp's 180 requires 100rel;
-- the library acknowledges it with a PRACK in the early dialog before the
-- call is answered.
function modes.prack(ua)
  local call, code, reason, _, progress = place_call(ua)
  check_confirmed(call, code, reason)
  t.check("on_progress sees 180 Ringing", progress_text(progress) == "180 Ringing",
    "on_progress saw %q", progress_text(progress))
  local entries = call_events(call)
  local invite = t.request(entries, "out", "INVITE")
  local ringing = t.response(entries, "in", 180, "INVITE")
  local prack = t.request(entries, "out", "PRACK")
  local problems = {}
  if invite and ringing and prack then
    local i, r, p = invite.msg, ringing.msg, prack.msg
    local inum = t.cseq(i)
    local pnum, pmethod = t.cseq(p)
    local rack = t.header(p, "RAck") or ""
    local rseq, rnum, rmethod = rack:match("^(%d+)%s+(%d+)%s+(%u+)$")
    if not ((t.header(i, "Supported") or ""):find("100rel", 1, true)
        or (t.header(i, "Require") or ""):find("100rel", 1, true)) then
      problems[#problems + 1] = "the INVITE does not say Supported: 100rel"
    end
    if tonumber(rseq) ~= tonumber(t.header(r, "RSeq")) or tonumber(rnum) ~= inum
        or rmethod ~= "INVITE" then
      problems[#problems + 1] = ("RAck %q for RSeq %s"):format(rack, tostring(t.header(r, "RSeq")))
    end
    if p.uri ~= t.uri_of(t.header(r, "Contact")) then
      problems[#problems + 1] = "Request-URI " .. tostring(p.uri)
    end
    if t.tag(t.header(p, "To")) ~= t.tag(t.header(r, "To")) then
      problems[#problems + 1] = "To " .. tostring(t.header(p, "To"))
    end
    if t.tag(t.header(p, "From")) ~= t.tag(t.header(i, "From")) then
      problems[#problems + 1] = "From " .. tostring(t.header(p, "From"))
    end
    if pmethod ~= "PRACK" or not pnum or pnum <= inum then
      problems[#problems + 1] = "CSeq " .. tostring(t.header(p, "CSeq"))
    end
  else
    problems[#problems + 1] = ringing and "no PRACK sent" or "no 180 received"
  end
  t.check("the PRACK acknowledges the 180 (RAck) in its early dialog, CSeq above the INVITE's",
    #problems == 0, "%s", table.concat(problems, "; "))
  if not call then return end
  sip.sleep(0.2)
  check_local_hangup(call)
  t.check_transport(call_events(call), transport)
end

-- Glare (RFC 3261 14.1, 14.2): SIPp sends its own re-INVITE while ours is
-- pending, and answers ours 491.  The library answers SIPp's 491 as well,
-- waits 2.1-4 s (it owns the Call-ID) and tries again; SIPp's retry comes
-- within that wait and must be accepted, since nothing is pending then.
function modes.glare(ua)
  local call, code, reason = place_call(ua)
  check_confirmed(call, code, reason)
  if not call then return end
  sip.sleep(0.2)
  -- The retry comes 2.1-4 s after the 491; more means it is lost.
  local ok, status, why = t.within(sip, 6, call.modify, call, { direction = "sendonly" })
  local entries = call_events(call)
  local pending = t.response(entries, "in", 491, "INVITE")
  local retry = t.request(entries, "out", "INVITE", 3)
  local gap = pending and retry and retry.at - pending.at
  t.check("call:modify{} returns true after a 491 and a retry 2.1-4 s later",
    ok == true and gap ~= nil and gap >= 2.05 and gap <= 4.3,
    "returned %s, %s, %s; 491 %s, retry %s", tostring(ok), tostring(status), tostring(why),
    pending and "received" or "not received",
    gap and ("%.2f s later"):format(gap) or "not sent")

  local theirs = t.request(entries, "in", "INVITE", 1)
  local refused = t.response(entries, "out", 491, "INVITE")
  t.check("SIPp's re-INVITE while ours is pending is answered 491 Request Pending",
    theirs and refused and refused.msg.reason == "Request Pending"
      and t.cseq(refused.msg) == t.cseq(theirs.msg),
    "491 %s", refused and refused.msg.start or "not sent")

  local again = t.request(entries, "in", "INVITE", 2)
  local accepted = t.response(entries, "out", 200, "INVITE")
  local later = again and t.select(entries, function(e, msg)
    local _, method = t.cseq(msg)
    return e.dir == "out" and msg.status and msg.status >= 200 and method == "INVITE"
      and t.cseq(msg) == t.cseq(again.msg)
  end)[1]
  t.check("SIPp's retry during our back-off is answered 200",
    again and accepted and t.cseq(accepted.msg) == t.cseq(again.msg),
    "SIPp's retry %s, answered %s", again and "came" or "did not come",
    later and later.msg.start or "not at all")

  sip.sleep(0.2)
  check_local_hangup(call)
  t.check_transport(call_events(call), transport)
end

-- 422 Session Interval Too Small (RFC 4028 6): the library sends the INVITE
-- again with the interval the 422 asks for, and ua:call returns the call
-- once that one is answered.
function modes.retry_422(ua)
  local call, code, reason = place_call(ua, { headers = { ["Session-Expires"] = "90" } })
  check_confirmed(call, code, reason)
  local entries = call_events(call)
  local first = t.request(entries, "out", "INVITE", 1)
  local again = t.request(entries, "out", "INVITE", 2)
  local problems = {}
  if first and again then
    local a, b = first.msg, again.msg
    local se = tonumber((t.header(b, "Session-Expires") or ""):match("^%s*(%d+)"))
    if t.header(a, "Call-ID") ~= t.header(b, "Call-ID") then problems[#problems + 1] = "Call-ID" end
    if t.tag(t.header(a, "From")) ~= t.tag(t.header(b, "From")) then
      problems[#problems + 1] = "From tag"
    end
    if t.cseq(b) ~= t.cseq(a) + 1 then problems[#problems + 1] = "CSeq " .. tostring(t.header(b, "CSeq")) end
    if t.branch(b) == t.branch(a) then problems[#problems + 1] = "the same branch" end
    if not se or se < 1800 then
      problems[#problems + 1] = "Session-Expires " .. tostring(t.header(b, "Session-Expires"))
    end
    if t.header(b, "Min-SE") ~= "1800" then
      problems[#problems + 1] = "Min-SE " .. tostring(t.header(b, "Min-SE"))
    end
  else
    problems[#problems + 1] = first and "no second INVITE" or "no INVITE"
  end
  t.check("after the 422 the INVITE goes again: same Call-ID and From tag, CSeq + 1, "
    .. "a new branch, Session-Expires >= 1800, Min-SE: 1800",
    #problems == 0, "%s", table.concat(problems, "; "))
  if not call then return end
  sip.sleep(0.2)
  check_local_hangup(call)
  t.check_transport(call_events(call), transport)
end

-- UPDATE in the early dialog both ways (RFC 3311 5.1): SIPp's answer came
-- in a reliable 183, so the script may offer by UPDATE before the call is
-- answered (from on_early, a task of its own); SIPp then offers too.
function modes.early_update(ua)
  local early = {}
  local modified = 0
  local call, code, reason = place_call(ua, {
    on_early = function(c)
      c:on("modified", function() modified = modified + 1 end)
      early.state = c.state
      early.ok, early.status, early.reason = c:modify { direction = "sendonly", method = "UPDATE" }
      early.after = c.state
      early.remote = c.remote_sdp
    end,
  })
  check_confirmed(call, code, reason)
  local entries = call_events(call)
  local update = t.request(entries, "out", "UPDATE")
  local ok = t.response(entries, "in", 200, "INVITE")
  t.check("call:modify{method=\"UPDATE\"} from on_early sends UPDATE in the early dialog "
    .. "and returns true before the 200",
    early.ok == true and early.state == "early" and early.after == "early" and update
      and t.sdp_direction(update.msg.body) == "sendonly"
      and t.sdp_direction(early.remote) == "recvonly"
      and t.tag(t.header(update.msg, "To")) ~= nil and ok and update.at < ok.at,
    "returned %s, %s, %s in state %s; UPDATE %s", tostring(early.ok), tostring(early.status),
    tostring(early.reason), tostring(early.state), update and update.msg.text or "not sent")
  local theirs = t.request(entries, "in", "UPDATE")
  local dir, res = answer_direction(entries, "UPDATE")
  t.check("SIPp's UPDATE in the early dialog is answered 200 with SDP (sendonly: still "
    .. "holding), \"modified\" fires",
    theirs and res and dir == "sendonly" and modified == 1,
    "SIPp's UPDATE %s; answered %s; modified %d", theirs and "came" or "did not come",
    res and res.msg.text or "not at all", modified)
  local m = call and call.media
  t.check("the 200 to the INVITE (SDP of the 183 again) does not undo the early UPDATE: "
    .. "media sendonly",
    m and m.dir == "sendonly", "media %s", m and tostring(m.dir) or "none")
  if not call then return end
  sip.sleep(0.2)
  check_local_hangup(call)
  t.check_transport(call_events(call), transport)
end

-- An RFC 2543 peer (RFC 3261 12.1.2): SIPp's 200 has no To tag.  The call
-- is up all the same, the 200 is ACKed, SIPp's INFO without a From tag is
-- found in the call, and our BYE's To has no tag either.
function modes.tagless(ua)
  local infos = 0
  local call, code, reason = place_call(ua)
  check_confirmed(call, code, reason)
  local entries = call_events(call)
  local invite = t.request(entries, "out", "INVITE")
  local ok = t.response(entries, "in", 200, "INVITE")
  local contact = ok and t.uri_of(t.header(ok.msg, "Contact"))
  -- Our request in the dialog: to SIPp's Contact, To as SIPp sent it.
  local function tagless_problems(req, method)
    if not req then return method .. " not sent" end
    local problems = {}
    if req.msg.uri ~= contact then problems[#problems + 1] = "Request-URI " .. req.msg.uri end
    if t.tag(t.header(req.msg, "To")) then
      problems[#problems + 1] = "To " .. tostring(t.header(req.msg, "To"))
    end
    if t.tag(t.header(req.msg, "From")) ~= t.tag(t.header(invite.msg, "From")) then
      problems[#problems + 1] = "From " .. tostring(t.header(req.msg, "From"))
    end
    local num, m = t.cseq(req.msg)
    if m ~= method or (method == "ACK") ~= (num == t.cseq(invite.msg)) then
      problems[#problems + 1] = "CSeq " .. tostring(t.header(req.msg, "CSeq"))
    end
    return table.concat(problems, "; ")
  end
  local ack = t.request(entries, "out", "ACK")
  local why = tagless_problems(ack, "ACK")
  t.check("the 200 without a To tag is ACKed at SIPp's Contact, To without a tag",
    why == "", "%s", why)
  if not call then return end

  call:on("info", function() infos = infos + 1; return 200 end)
  t.wait_for(sip, CALL_LIMIT, function() return infos > 0 or call.state == "ended" end)
  entries = call_events(call)
  local info = t.request(entries, "in", "INFO")
  local answer = t.response(entries, "out", 200, "INFO")
  t.check("SIPp's INFO without a From tag is in the call: call:on(\"info\") answers 200",
    infos == 1 and info and not t.tag(t.header(info.msg, "From")) and answer ~= nil,
    "on(\"info\") ran %d times; INFO %s; 200 %s", infos,
    info and tostring(t.header(info.msg, "From")) or "not received",
    answer and "sent" or "not sent")

  check_local_hangup(call)
  entries = call_events(call)
  why = tagless_problems(t.request(entries, "out", "BYE"), "BYE")
  t.check("the BYE goes to SIPp's Contact, To without a tag", why == "", "%s", why)
  t.check_transport(entries, transport)
end

-- A strict router (RFC 3261 12.2.1.1): SIPp's Record-Route has a loose
-- router next to SIPp and a strict one (no ;lr) next to us, both SIPp's
-- address.  Our ACK and BYE have the strict router as Request-URI, and the
-- loose one, then SIPp's Contact, as Route.
function modes.strict(ua)
  local call, code, reason = place_call(ua)
  check_confirmed(call, code, reason)
  local entries = call_events(call)
  local ok = t.response(entries, "in", 200, "INVITE")
  local rr = ok and ok.msg.headers["record-route"] or {}
  local strict_uri, loose = t.uri_of(rr[2]), rr[1]
  local contact = ok and t.uri_of(t.header(ok.msg, "Contact"))
  local function strict_problems(req, method)
    if not req then return method .. " not sent" end
    local problems = {}
    if not strict_uri or req.msg.uri ~= strict_uri then
      problems[#problems + 1] = ("Request-URI %s, the strict router is %s"):format(
        req.msg.uri, tostring(strict_uri))
    end
    local route = req.msg.headers["route"] or {}
    local want = { loose, "<" .. tostring(contact) .. ">" }
    if #route ~= 2 or route[1] ~= want[1] or route[2] ~= want[2] then
      problems[#problems + 1] = ("Route %s, expected %s"):format(table.concat(route, " | "),
        table.concat(want, " | "))
    end
    return table.concat(problems, "; ")
  end
  local why = strict_problems(t.request(entries, "out", "ACK"), "ACK")
  t.check("the ACK goes to the strict router, Route the loose one and SIPp's Contact",
    why == "", "%s", why)
  if not call then return end
  sip.sleep(0.2)
  check_local_hangup(call)
  entries = call_events(call)
  why = strict_problems(t.request(entries, "out", "BYE"), "BYE")
  t.check("the BYE goes to the strict router, Route the loose one and SIPp's Contact",
    why == "", "%s", why)
  t.check_transport(entries, transport)
end

assert(modes[mode], "unknown MODE " .. mode)

t.main(sip, function(track)
  local t1 = tonumber(os.getenv("T1") or "")
  local ua = track(sip.ua{
    uri = "sip:alice@127.0.0.1",
    listen = { "udp:127.0.0.1:0", "tcp:127.0.0.1:0" },
    timers = t1 and { t1 = t1 } or nil,
  })
  modes[mode](ua)
  -- Let SIPp's last retransmissions and the ACK go before the endpoint closes.
  sip.sleep(0.2)
end)
