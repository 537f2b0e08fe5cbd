-- SIPp calls the library: SIPp's built-in uac scenario or one of
-- tests/sipp/call_uac_*.xml against an endpoint whose INVITE handler rings,
-- then answers or refuses.  The script checks what the call API gave the
-- handler and what went over the wire; the harness (calls_sipp.sh) checks
-- the message flow from $SIP_FLOW_FILE and SIPp's exit status.
--
-- Environment:
--   UA_PORT     port to listen on (UDP and TCP, 127.0.0.1)
--   TRANSPORT   udp | tcp: the transport SIPp uses
--   WAIT        seconds to wait for the INVITE (default 10)
--   MODE        what the handler does, hence what is checked:
--     basic     rings, answers; SIPp hangs up (sipp -sn uac)
--     reject    rings, then call:reject(486)      (call_uac_busy.xml)
--     refuse    rings, then returns 486 from the handler (call_uac_busy.xml)
--     cancel    rings and waits; SIPp cancels    (call_uac_cancel.xml)
--     bye       answers, then hangs up           (call_uac_bye.xml)
--     reinvite  answers; SIPp holds by re-INVITE, resumes by UPDATE, hangs
--               up                               (call_uac_reinvite.xml)
--     modify    answers, holds by re-INVITE, resumes by UPDATE, hangs up
--                                                (call_uac_modify.xml)
--     early     sends 183 with SDP, answers; SIPp hangs up (call_uac_early.xml)
--     prack     rings reliably (SIPp supports 100rel), answers after the
--               PRACK; SIPp hangs up             (call_uac_100rel.xml)
--     glare     answers; the script's re-INVITE crosses SIPp's (491 both
--               ways), both try again; SIPp hangs up (call_uac_glare.xml)
--     prack_offer      sends a reliable 183 with the answer; SIPp's PRACK
--               offers a=sendonly; answers; SIPp hangs up
--                                                (call_uac_prack_offer.xml)
--     prack_bad_offer  the same, but the PRACK offers only G.729: 488
--                                                (call_uac_prack_bad_offer.xml)
--     early_update     sends a reliable 183, offers by UPDATE once SIPp's
--               PRACK came, answers SIPp's UPDATE, then the INVITE; SIPp
--               hangs up                         (call_uac_early_update.xml)
--     strict    answers, then hangs up; SIPp's INVITE record-routes through
--               a strict router, then a loose one (call_uac_strict.xml)
--     replaced  answers; SIPp's second INVITE, whose Replaces names this
--               call, is answered too: the library ends the first call
--               with a BYE; SIPp hangs up the second (call_uac_replaces.xml)
--   SIP_TRACE_FILE, SIP_FLOW_FILE   optional: where the messages are written

package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local t = require "support"

local port = t.env_number("UA_PORT")
local transport = t.env("TRANSPORT")
local wait = t.env_number("WAIT", 10)
local mode = t.env("MODE")
assert(transport == "udp" or transport == "tcp", "TRANSPORT must be udp or tcp")

local sip = t.require_sip()
local events = t.record(sip)

-- How long a call may stay up waiting for SIPp's next step.
local CALL_LIMIT = 8

local function call_events(call)
  return t.of_call(events, call and call.id)
end

-- What the handler saw when the INVITE came in.
local function check_incoming(call, first)
  local req = call.request
  t.check("the INVITE reaches the handler as an incoming call",
    first.direction == "incoming" and first.state == "incoming" and req
      and req.method == "INVITE" and tostring(call.remote_uri):find("sipp@127.0.0.1", 1, true)
      and type(call.id) == "string" and call.id == req.call_id,
    "direction %s, state %s, request %s, remote_uri %s, id %s",
    tostring(first.direction), tostring(first.state), req and tostring(req.method) or "nil",
    tostring(call.remote_uri), tostring(call.id))
end

local function check_answer(call, ok, why)
  t.check("call:answer() returns true once the ACK came",
    ok == true and call.state == "confirmed"
      and t.request(call_events(call), "in", "ACK") ~= nil,
    "returned %s, %s; state %s", tostring(ok), tostring(why), tostring(call.state))
end

-- The 180 and the final response carry the same To tag: one dialog.
local function same_tag(entries, status)
  local ringing = t.response(entries, "out", 180, "INVITE")
  local final = t.response(entries, "out", status, "INVITE")
  local a = ringing and t.tag(t.header(ringing.msg, "To"))
  local b = final and t.tag(t.header(final.msg, "To"))
  return a ~= nil and a == b, ("180 To tag %s, %d To tag %s"):format(tostring(a), status,
    tostring(b))
end

-- The dialog seen from the library: its tag, SIPp's tag and Contact.
local function dialog_of(entries)
  local invite = t.request(entries, "in", "INVITE")
  local ok = t.response(entries, "out", 200, "INVITE")
  if not (invite and ok) then return nil end
  return {
    local_tag = t.tag(t.header(ok.msg, "To")),
    remote_tag = t.tag(t.header(invite.msg, "From")),
    contact = t.uri_of(t.header(invite.msg, "Contact")),
  }
end

local function check_remote_bye(call) t.check_remote_bye(sip, call, CALL_LIMIT) end

local function check_local_hangup(call) t.check_local_hangup(sip, call, CALL_LIMIT) end

local answer_direction = t.answer_direction

-- The endpoint, for a mode that takes a second call (set in the main task).
local endpoint

local modes = {}

function modes.basic(call)
  call:ring()
  local ok, why = call:answer()
  check_answer(call, ok, why)
  local entries = call_events(call)
  local res = t.response(entries, "out", 200, "INVITE")
  local body = res and res.msg.body or ""
  local tagged = same_tag(entries, 200)
  t.check("the 200 answers PCMU in SDP, with a Contact and the 180's To tag",
    res and (t.header(res.msg, "Content-Type") or ""):match("^application/sdp")
      and body:match("m=audio %d+ RTP/AVP 0[%s\r\n]") and t.header(res.msg, "Contact")
      and tagged and call.local_sdp == body,
    "200 %s", res and res.msg.text or "not sent")
  check_remote_bye(call)
end

function modes.reject(call)
  call:ring()
  sip.sleep(0.2)
  local ok, err = pcall(call.reject, call, 486)
  t.wait_for(sip, CALL_LIMIT, function() return call.state == "ended" end)
  t.check("call:reject(486) ends the call: end_reason \"rejected\", end_status 486",
    ok and call.state == "ended" and call.end_reason == "rejected" and call.end_status == 486,
    "reject %s; state %s, end_reason %s, end_status %s",
    ok and "returned" or ("raised " .. tostring(err)), tostring(call.state),
    tostring(call.end_reason), tostring(call.end_status))
  -- Let the ACK come before looking at the trace.
  t.wait_for(sip, 2, function() return t.request(call_events(call), "in", "ACK") end)
  local entries = call_events(call)
  local res = t.response(entries, "out", 486, "INVITE")
  local tagged, why = same_tag(entries, 486)
  t.check("the 486 says Busy Here with the 180's To tag",
    res and res.msg.reason == "Busy Here" and tagged,
    "%s; 486 %s", why, res and res.msg.start or "not sent")
end

-- The handler rings, then rejects by returning a status: the library
-- answers 486 once the handler has returned; checked after that.
local after = {}

function modes.refuse(call)
  call:ring()
  sip.sleep(0.2)
  return 486
end

function after.refuse(call)
  t.wait_for(sip, CALL_LIMIT, function()
    return call.state == "ended" and t.request(call_events(call), "in", "ACK") ~= nil
  end)
  t.check("a handler that returns 486 rejects the call: end_reason \"rejected\", end_status 486",
    call.state == "ended" and call.end_reason == "rejected" and call.end_status == 486,
    "state %s, end_reason %s, end_status %s", tostring(call.state),
    tostring(call.end_reason), tostring(call.end_status))
  local entries = call_events(call)
  local res = t.response(entries, "out", 486, "INVITE")
  local tagged, why = same_tag(entries, 486)
  t.check("the 486 says Busy Here with the 180's To tag",
    res and res.msg.reason == "Busy Here" and tagged,
    "%s; 486 %s", why, res and res.msg.start or "not sent")
end

function modes.cancel(call)
  call:ring()
  local reason, why = t.wait_call(sip, call, CALL_LIMIT)
  t.check("SIPp's CANCEL ends the call: call:wait() returns \"cancelled\"",
    reason == "cancelled" and call.end_reason == "cancelled" and call.state == "ended",
    "call:wait() gave %s, end_reason %s, state %s", tostring(reason or why),
    tostring(call.end_reason), tostring(call.state))
  t.wait_for(sip, 2, function() return t.request(call_events(call), "in", "ACK") end)
  -- RFC 3261 9.2: 200 to the CANCEL, then 487 to the INVITE, in the dialog
  -- the 180 began.
  local entries = call_events(call)
  local ok = t.response(entries, "out", 200, "CANCEL")
  local terminated = t.response(entries, "out", 487, "INVITE")
  local tagged, tags = same_tag(entries, 487)
  t.check("200 answers the CANCEL and 487 the INVITE, with the 180's To tag",
    ok and terminated and terminated.msg.reason == "Request Terminated" and tagged,
    "200 to CANCEL %s, 487 %s; %s", ok and "sent" or "missing",
    terminated and terminated.msg.start or "missing", tags)
end

function modes.bye(call)
  call:ring()
  local ok, why = call:answer()
  check_answer(call, ok, why)
  sip.sleep(0.3)
  check_local_hangup(call)
  local entries = call_events(call)
  local dialog = dialog_of(entries)
  t.check_in_dialog("the BYE goes to SIPp's Contact with both tags", entries, "out",
    dialog and dialog.contact, dialog and dialog.local_tag, dialog and dialog.remote_tag)
end

-- A strict router first in the route set (RFC 3261 12.2.1.1): our BYE has
-- it as Request-URI, and the loose router, then SIPp's Contact, as Route.
function modes.strict(call)
  call:ring()
  local ok, why = call:answer()
  check_answer(call, ok, why)
  sip.sleep(0.3)
  check_local_hangup(call)
  local entries = call_events(call)
  local invite = t.request(entries, "in", "INVITE")
  local bye = t.request(entries, "out", "BYE")
  local rr = invite and invite.msg.headers["record-route"] or {}
  local want_uri = t.uri_of(rr[1])
  local want_route = { rr[2], "<" .. tostring(invite and t.uri_of(t.header(invite.msg,
    "Contact"))) .. ">" }
  local route = bye and bye.msg.headers["route"] or {}
  t.check("the BYE goes to the strict router, Route the loose one and SIPp's Contact",
    bye and want_uri and bye.msg.uri == want_uri and #route == 2
      and route[1] == want_route[1] and route[2] == want_route[2],
    "BYE %s, Route %s; expected %s, Route %s", bye and bye.msg.uri or "not sent",
    table.concat(route, " | "), tostring(want_uri), table.concat(want_route, " | "))
end

function modes.reinvite(call)
  local seen = {}
  call:on("hold", function() seen[#seen + 1] = "hold" end)
  call:on("unhold", function() seen[#seen + 1] = "unhold" end)
  call:ring()
  local ok, why = call:answer()
  check_answer(call, ok, why)
  check_remote_bye(call)
  local entries = call_events(call)
  local held = answer_direction(entries, "INVITE", 2)
  local resumed = answer_direction(entries, "UPDATE", 1)
  t.check("SIPp's re-INVITE (a=sendonly) is answered 200 with a=recvonly",
    held == "recvonly", "answer direction %s", tostring(held))
  t.check("SIPp's UPDATE with a=sendrecv is answered 200 with sendrecv",
    resumed == "sendrecv", "answer direction %s", tostring(resumed))
  t.check("call:on(\"hold\"), then call:on(\"unhold\") fire",
    table.concat(seen, ",") == "hold,unhold", "events: %s", table.concat(seen, ","))
end

function modes.modify(call)
  call:ring()
  local ok, why = call:answer()
  check_answer(call, ok, why)
  sip.sleep(0.2)
  local done, status, reason = t.within(sip, CALL_LIMIT, call.modify, call,
    { direction = "sendonly" })
  local entries = call_events(call)
  local reinvite = t.request(entries, "out", "INVITE")
  t.check("call:modify{direction=\"sendonly\"} re-INVITEs with a=sendonly and returns true",
    done == true and reinvite and t.sdp_direction(reinvite.msg.body) == "sendonly"
      and t.sdp_direction(call.remote_sdp) == "recvonly",
    "returned %s, %s, %s; re-INVITE %s; answer direction %s", tostring(done),
    tostring(status), tostring(reason),
    reinvite and "sent with " .. tostring(t.sdp_direction(reinvite.msg.body)) or "not sent",
    tostring(t.sdp_direction(call.remote_sdp)))
  done, status, reason = t.within(sip, CALL_LIMIT, call.modify, call,
    { direction = "sendrecv", method = "UPDATE" })
  entries = call_events(call)
  local update = t.request(entries, "out", "UPDATE")
  t.check("call:modify{direction=\"sendrecv\", method=\"UPDATE\"} sends UPDATE and returns true",
    done == true and update and t.sdp_direction(update.msg.body) == "sendrecv"
      and t.sdp_direction(call.remote_sdp) == "sendrecv",
    "returned %s, %s, %s; UPDATE %s; answer direction %s", tostring(done),
    tostring(status), tostring(reason),
    update and "sent with " .. tostring(t.sdp_direction(update.msg.body)) or "not sent",
    tostring(t.sdp_direction(call.remote_sdp)))
  sip.sleep(0.2)
  check_local_hangup(call)
  entries = call_events(call)
  local dialog = dialog_of(entries)
  t.check_in_dialog("re-INVITE, ACK, UPDATE and BYE go to SIPp's Contact, CSeq rising",
    entries, "out", dialog and dialog.contact, dialog and dialog.local_tag,
    dialog and dialog.remote_tag)
end

-- Early media: call:progress() sends 183 with the SDP answer (unreliable:
-- SIPp does not support 100rel), the 200 repeats that answer.
function modes.early(call)
  call:progress()
  sip.sleep(0.2)
  local ok, why = call:answer()
  check_answer(call, ok, why)
  local entries = call_events(call)
  local session = t.response(entries, "out", 183, "INVITE")
  local answered = t.response(entries, "out", 200, "INVITE")
  local body = session and session.msg.body or ""
  t.check("call:progress() sends 183 with an SDP answer and no Require: 100rel",
    session and (t.header(session.msg, "Content-Type") or ""):match("^application/sdp")
      and body:match("m=audio %d+ RTP/AVP 0[%s\r\n]") and not t.header(session.msg, "Require"),
    "183 %s", session and session.msg.text or "not sent")
  t.check("the 200 repeats the 183's SDP answer, with the same To tag",
    session and answered and answered.msg.body == body
      and t.tag(t.header(session.msg, "To")) == t.tag(t.header(answered.msg, "To")),
    "183 To %s, body %q; 200 To %s, body %q",
    session and tostring(t.header(session.msg, "To")) or "(no 183)", body,
    answered and tostring(t.header(answered.msg, "To")) or "(no 200)",
    answered and answered.msg.body or "")
  check_remote_bye(call)
end

-- Reliable provisional responses (RFC 3262): SIPp supports 100rel, so the
-- 180 must be reliable; SIPp's PRACK gets 200, and the script answers once
-- it has.
function modes.prack(call)
  call:ring()
  t.wait_for(sip, 3, function()
    return t.response(call_events(call), "out", 200, "PRACK") ~= nil
  end)
  local ok, why = call:answer()
  check_answer(call, ok, why)
  local entries = call_events(call)
  local ringing = t.response(entries, "out", 180, "INVITE")
  local rseq = ringing and tonumber(t.header(ringing.msg, "RSeq") or "")
  t.check("the 180 is reliable: Require: 100rel and an RSeq",
    ringing and (t.header(ringing.msg, "Require") or ""):find("100rel", 1, true)
      and rseq and rseq >= 1 and rseq < 2 ^ 31,
    "180 %s", ringing and ringing.msg.text or "not sent")
  local prack = t.request(entries, "in", "PRACK")
  local acked = t.response(entries, "out", 200, "PRACK")
  local answered = t.response(entries, "out", 200, "INVITE")
  t.check("SIPp's PRACK is answered 200, before the 200 to the INVITE",
    prack and acked and answered and acked.at <= answered.at,
    "PRACK %s, 200 to it %s", prack and "came" or "did not come",
    acked and "sent" or "not sent")
  check_remote_bye(call)
end

-- A reliable 183 with the answer (SIPp supports 100rel); returns once the
-- library answered SIPp's PRACK with STATUS.
local function progress_until_prack(call, status)
  call:progress()
  t.wait_for(sip, 3, function()
    return t.response(call_events(call), "out", status, "PRACK") ~= nil
  end)
end

local function check_reliable_183(entries)
  local session = t.response(entries, "out", 183, "INVITE")
  t.check("the 183 is reliable (Require: 100rel, RSeq) and has the answer (a=sendrecv)",
    session and (t.header(session.msg, "Require") or ""):find("100rel", 1, true)
      and t.header(session.msg, "RSeq") and t.sdp_direction(session.msg.body) == "sendrecv",
    "183 %s", session and session.msg.text or "not sent")
end

-- An offer in the PRACK (RFC 3262 5): its 200 has the answer, and the
-- call's media follow it as after a re-INVITE.
function modes.prack_offer(call)
  local seen = {}
  call:on("modified", function() seen[#seen + 1] = "modified" end)
  call:on("hold", function() seen[#seen + 1] = "hold" end)
  progress_until_prack(call, 200)
  local early_state = call.state
  local ok, why = call:answer()
  check_answer(call, ok, why)
  local entries = call_events(call)
  check_reliable_183(entries)
  local prack = t.request(entries, "in", "PRACK")
  local acked = t.response(entries, "out", 200, "PRACK")
  t.check("the 200 to SIPp's PRACK answers its offer: SDP with a=recvonly",
    prack and acked and (t.header(acked.msg, "Content-Type") or ""):match("^application/sdp")
      and t.sdp_direction(acked.msg.body) == "recvonly",
    "200 to the PRACK %s", acked and acked.msg.text or "not sent")
  local m = call.media
  t.check("the call follows the PRACK's offer: call.remote_sdp, media recvonly, "
    .. "\"modified\" and \"hold\" while early",
    prack and call.remote_sdp == prack.msg.body and m and m.dir == "recvonly"
      and table.concat(seen, ",") == "modified,hold" and early_state == "early",
    "remote_sdp %s the PRACK's; media %s; events %s; state before the answer %s",
    prack and call.remote_sdp == prack.msg.body and "is" or "is not",
    m and tostring(m.dir) or "none", table.concat(seen, ","), tostring(early_state))
  local answered = t.response(entries, "out", 200, "INVITE")
  t.check("the 200 to the INVITE repeats the last SDP sent (a=recvonly)",
    answered and acked and answered.msg.body == acked.msg.body,
    "200 to the INVITE %s", answered and answered.msg.text or "not sent")
  check_remote_bye(call)
end

-- An offer in the PRACK that cannot be taken: 488, and the call goes on as
-- the INVITE's offer/answer made it.
function modes.prack_bad_offer(call)
  local modified = 0
  call:on("modified", function() modified = modified + 1 end)
  progress_until_prack(call, 488)
  local ok, why = call:answer()
  check_answer(call, ok, why)
  local entries = call_events(call)
  check_reliable_183(entries)
  local invite = t.request(entries, "in", "INVITE")
  local refused = t.response(entries, "out", 488, "PRACK")
  t.check("SIPp's PRACK offering only G.729 is answered 488",
    refused ~= nil, "488 to the PRACK not sent")
  local session = t.response(entries, "out", 183, "INVITE")
  local answered = t.response(entries, "out", 200, "INVITE")
  local m = call.media
  t.check("the call stays as the INVITE made it: its offer is call.remote_sdp, "
    .. "PCMU sendrecv, the 200 repeats the 183's answer",
    invite and call.remote_sdp == invite.msg.body and m and m.codec == "PCMU"
      and m.dir == "sendrecv" and modified == 0 and session and answered
      and answered.msg.body == session.msg.body,
    "remote_sdp %s the INVITE's; media %s %s; modified %d; 200 %s",
    invite and call.remote_sdp == invite.msg.body and "is" or "is not",
    m and tostring(m.codec) or "none", m and tostring(m.dir) or "", modified,
    answered and answered.msg.text or "not sent")
  check_remote_bye(call)
end

-- UPDATE in the early dialog both ways (RFC 3311 5.1): the script offers
-- once SIPp's PRACK acknowledged the 183 with the answer, then SIPp offers;
-- the call is answered after both.
function modes.early_update(call)
  local modified = 0
  call:on("modified", function() modified = modified + 1 end)
  progress_until_prack(call, 200)
  local done, status, reason = t.within(sip, CALL_LIMIT, call.modify, call,
    { direction = "sendonly", method = "UPDATE" })
  local state = call.state
  local entries = call_events(call)
  local update = t.request(entries, "out", "UPDATE")
  t.check("call:modify{method=\"UPDATE\"} before the answer sends UPDATE in the early "
    .. "dialog and returns true",
    done == true and state == "early" and update
      and t.sdp_direction(update.msg.body) == "sendonly"
      and t.sdp_direction(call.remote_sdp) == "recvonly",
    "returned %s, %s, %s in state %s; UPDATE %s", tostring(done), tostring(status),
    tostring(reason), tostring(state), update and update.msg.text or "not sent")
  t.wait_for(sip, CALL_LIMIT, function() return modified > 0 end)
  entries = call_events(call)
  local theirs = t.request(entries, "in", "UPDATE")
  local dir, res = answer_direction(entries, "UPDATE")
  t.check("SIPp's UPDATE in the early dialog is answered 200 with SDP (sendonly: "
    .. "still holding)",
    theirs and res and dir == "sendonly" and modified == 1 and call.state == "early",
    "SIPp's UPDATE %s; answered %s; modified %d", theirs and "came" or "did not come",
    res and res.msg.text or "not at all", modified)
  local ok, why = call:answer()
  check_answer(call, ok, why)
  check_remote_bye(call)
end

-- Glare (RFC 3261 14.1, 14.2): SIPp sends its own re-INVITE while the
-- script's is pending, and answers the script's 491.  The library answers
-- SIPp's 491 too and, not owning the Call-ID, tries again within 2 s; SIPp
-- accepts, then tries again itself and must be accepted.
function modes.glare(call)
  call:ring()
  local ok, why = call:answer()
  check_answer(call, ok, why)
  sip.sleep(0.2)
  local done, status, reason = t.within(sip, 5, call.modify, call, { direction = "sendonly" })
  local entries = call_events(call)
  local pending = t.response(entries, "in", 491, "INVITE")
  local retry = t.request(entries, "out", "INVITE", 2)
  local gap = pending and retry and retry.at - pending.at
  t.check("call:modify{} returns true after a 491 and a retry within 2 s",
    done == true and gap ~= nil and gap >= 0 and gap <= 2.2,
    "returned %s, %s, %s; 491 %s, retry %s", tostring(done), tostring(status),
    tostring(reason), pending and "received" or "not received",
    gap and ("%.2f s later"):format(gap) or "not sent")
  local theirs = t.request(entries, "in", "INVITE", 2)
  local refused = t.response(entries, "out", 491, "INVITE")
  t.check("SIPp's re-INVITE while ours is pending is answered 491 Request Pending",
    theirs and refused and refused.msg.reason == "Request Pending"
      and t.cseq(refused.msg) == t.cseq(theirs.msg),
    "491 %s", refused and refused.msg.start or "not sent")
  check_remote_bye(call)
  entries = call_events(call)
  local again = t.request(entries, "in", "INVITE", 3)
  local answers = again and t.select(entries, function(e, msg)
    local _, method = t.cseq(msg)
    return e.dir == "out" and msg.status and msg.status >= 200 and method == "INVITE"
      and t.cseq(msg) == t.cseq(again.msg)
  end) or {}
  t.check("SIPp's retry after ours is answered 200",
    answers[1] and answers[1].msg.status == 200,
    "SIPp's retry %s, answered %s", again and "came" or "did not come",
    answers[1] and answers[1].msg.start or "not at all")
end

-- The transfer target (RFC 3891): SIPp's second INVITE replaces the call
-- answered first.  The handler sees it with call.replaces, answers it, and
-- the library ends the first call with a BYE in that call's dialog.
function modes.replaced(call)
  local second, answered
  endpoint:on("INVITE", function(new)
    second = new
    answered = table.pack(t.within(sip, CALL_LIMIT, new.answer, new))
  end)
  call:ring()
  local ok, why = call:answer()
  check_answer(call, ok, why)
  local reason, by = t.within(sip, CALL_LIMIT, call.wait, call)
  -- the first call ends at the new call's ACK, as its answer returns
  t.wait_for(sip, CALL_LIMIT, function() return answered ~= nil end)
  local invite2 = t.request(events, "in", "INVITE", 2)
  local require = invite2 and t.header(invite2.msg, "Require")
  t.check("the INVITE with Replaces and Require: replaces reaches the handler, call.replaces "
    .. "the first call",
    second ~= nil and second.replaces == call and second.direction == "incoming"
      and second.id ~= call.id,
    "second call %s, its replaces %s", second and tostring(second.id) or "never came",
    second and (second.replaces == call and "the first call"
      or tostring(second.replaces)) or "-")
  t.check("call:answer() of the new call returns true",
    answered and answered[1] == true and second.state == "confirmed",
    "returned %s, %s; state %s", answered and tostring(answered[1]) or "nothing",
    answered and tostring(answered[2]) or "", second and tostring(second.state) or "-")
  t.check("the first call ends: call:wait() returns \"replaced\" and the new call, "
    .. "call.replaced_by is it",
    reason == "replaced" and by ~= nil and by == second and call.end_reason == "replaced"
      and call.replaced_by == second and call.state == "ended",
    "call:wait() gave %s, %s; end_reason %s, replaced_by %s", tostring(reason),
    by == second and "the new call" or tostring(by), tostring(call.end_reason),
    call.replaced_by == second and "the new call" or tostring(call.replaced_by))
  local entries = call_events(call)
  local dialog = dialog_of(entries)
  t.check_in_dialog("the first call's BYE goes to SIPp's Contact with both tags of that call",
    entries, "out", dialog and dialog.contact, dialog and dialog.local_tag,
    dialog and dialog.remote_tag)
  t.check("no 420 Bad Extension for Require: replaces",
    t.response(events, "out", 420, "INVITE") == nil and require ~= nil,
    "Require of the second INVITE %s; 420 %s", tostring(require),
    t.response(events, "out", 420, "INVITE") and "sent" or "not sent")
  if second then check_remote_bye(second) end
end

assert(modes[mode], "unknown MODE " .. mode)

t.main(sip, function(track)
  local ua = track(sip.ua{
    uri = "sip:bob@127.0.0.1",
    listen = { ("udp:127.0.0.1:%d"):format(port), ("tcp:127.0.0.1:%d"):format(port) },
  })
  endpoint = ua
  local handled = t.serve_one_call(sip, ua, function(call)
    check_incoming(call, { direction = call.direction, state = call.state })
    return modes[mode](call)
  end, { wait = wait, limit = CALL_LIMIT * 2 + 4,
         what = "the INVITE reaches the handler as an incoming call" })
  if not handled then return end
  if after[mode] then after[mode](handled) end
  t.check_transport(call_events(handled), transport)
  -- Let the last answers and retransmissions go before the endpoint closes.
  sip.sleep(0.2)
end)
