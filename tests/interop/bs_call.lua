-- Calls from the library to baresip (tests/interop/calls_baresip.sh).
--
-- Environment:
--   MODE       call: call, 0.5 s, hang up
--              modify: call, then call:modify{direction="sendonly"}, hang up
--              proxy: call through Kamailio as alice, answering its 407 with
--              alice's credentials, hang up (the BYE follows the Record-Route)
--   TARGET     the URI to call
--   UA_PORT    UDP port of the endpoint on 127.0.0.1
--   RTP_PORTS  FIRST-LAST, the endpoint's RTP port range
--   KAM_PORT   (proxy) Kamailio's port

package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local t = require "support"
local b = require "bs_support"

local mode = t.env("MODE")
assert(mode == "call" or mode == "modify" or mode == "proxy", "MODE: call, modify or proxy")
local target = t.env("TARGET")
local ua_port = t.env_number("UA_PORT")
local kam_port = mode == "proxy" and t.env_number("KAM_PORT") or nil
local rtp = b.rtp_ports()

local sip = t.require_sip()
local events = t.record(sip)

t.main(sip, function(track)
  local ua, code, reason = sip.ua{
    uri = mode == "proxy" and "sip:alice@test.local" or "sip:alice@127.0.0.1",
    listen = { "udp:127.0.0.1:" .. ua_port },
    rtp_ports = rtp,
  }
  if not ua then
    t.check("endpoint", false, "sip.ua failed: %s", b.show(code, reason))
    return
  end
  track(ua)

  local progress = {}
  local call, ccode, creason = ua:call(target, {
    timeout = 10,
    auth = mode == "proxy" and { user = "alice", password = "alicepw" } or nil,
    on_progress = function(_, status) progress[#progress + 1] = status end,
  })
  local id = call and call.id
  local media = call and call.media
  local media_ok = type(media) == "table" and (media.codec == "PCMU" or media.codec == "PCMA")
  t.check("ua:call returns a confirmed outgoing call",
    call and call.state == "confirmed" and call.direction == "outgoing" and media_ok,
    "ua:call returned %s; state %s, direction %s, media %s", b.show(call, ccode, creason),
    tostring(call and call.state), tostring(call and call.direction),
    type(media) == "table" and ("codec=%s"):format(tostring(media.codec)) or tostring(media))
  if not call then return end

  local statuses = table.concat(progress, ", ")
  if mode == "call" then
    local ringing = false
    for _, s in ipairs(progress) do ringing = ringing or s == 180 end
    t.check("on_progress sees 180 Ringing", ringing, "on_progress saw [%s]", statuses)
  end

  if mode == "proxy" then
    local challenge = b.find(events, id, function(_, _, l) return l == "in 407 INVITE" end)[1]
    t.check("ua:call with auth answers the 407 and returns a confirmed call",
      challenge and call.state == "confirmed", "407 seen: %s; state %s",
      tostring(challenge ~= nil), tostring(call.state))

    local invites = b.find(events, id, function(e, m) return e.dir == "out" and m.method == "INVITE" end)
    local first, second = invites[1], invites[2]
    local n1 = first and t.cseq(first.msg)
    local n2 = second and t.cseq(second.msg)
    local auth = second and t.header(second.msg, "Proxy-Authorization") or ""
    local tag = function(e) return (t.header(e.msg, "From") or ""):match(";%s*tag=([^;%s]+)") end
    t.check("the resent INVITE carries Proxy-Authorization, same Call-ID, CSeq + 1",
      second and auth:find('username="alice"', 1, true) and auth:find('realm="test.local"', 1, true)
        and n2 == n1 + 1 and tag(first) == tag(second),
      "%d INVITEs; Proxy-Authorization %q; CSeq %s then %s; From tags %s, %s", #invites, auth,
      tostring(n1), tostring(n2), tostring(first and tag(first)), tostring(second and tag(second)))

    -- RFC 3261 17.1.1.3: the ACK of a non-2xx is part of the INVITE
    -- transaction: same CSeq number and the same Via branch.
    local acks = b.find(events, id, function(e, m) return e.dir == "out" and m.method == "ACK" end)
    local branch = function(e) return (t.header(e.msg, "Via") or ""):match(";%s*branch=([^;,%s]+)") end
    local ack407 = acks[1]
    t.check("the 407 is acknowledged with the first INVITE's CSeq",
      first and ack407 and t.cseq(ack407.msg) == n1 and branch(ack407) == branch(first)
        and second and ack407.at < second.at,
      "ACK %s, CSeq %s (INVITE %s), branch %s (INVITE %s)", tostring(ack407 ~= nil),
      tostring(ack407 and t.cseq(ack407.msg)), tostring(n1), tostring(ack407 and branch(ack407)),
      tostring(first and branch(first)))
  end

  if mode == "modify" then
    sip.sleep(0.3)
    local ok, mcode, mreason = call:modify{ direction = "sendonly" }
    t.check("call:modify{direction=\"sendonly\"} returns true", ok == true,
      "call:modify returned %s", b.show(ok, mcode, mreason))
    local invites = b.find(events, id, function(e, m) return e.dir == "out" and m.method == "INVITE" end)
    local offer = invites[2]
    local answer = offer and b.response_to(events, id, offer, 200)
    t.check("re-INVITE offers sendonly, baresip answers recvonly",
      b.entry_direction(offer) == "sendonly" and b.entry_direction(answer) == "recvonly",
      "re-INVITE %s, offer %s, answer %s", tostring(offer ~= nil),
      tostring(b.entry_direction(offer)), tostring(b.entry_direction(answer)))
  end

  sip.sleep(0.5)
  local hung = table.pack(pcall(call.hangup, call))
  local why = table.pack(call:wait())
  b.wait_label(sip, events, id, "in 200 BYE", 2)
  t.check("call:hangup() ends the call, end_reason \"local\"",
    hung[1] and why[1] == "local" and call.end_reason == "local" and call.state == "ended",
    "hangup: %s; call:wait() returned %s; end_reason %s, state %s",
    b.show(table.unpack(hung, 1, hung.n)), b.show(table.unpack(why, 1, why.n)),
    tostring(call.end_reason), tostring(call.state))

  local answered = { "out INVITE", "in 180 INVITE", "in 200 INVITE", "out ACK" }
  local expected
  if mode == "call" then
    expected = { answered, { "out BYE", "in 200 BYE" } }
  elseif mode == "modify" then
    expected = { answered, { "out INVITE", "in 100 INVITE?", "in 200 INVITE", "out ACK",
      "out BYE", "in 200 BYE" } }
  else
    -- Kamailio challenges statelessly (no 100 before the 407) and sends
    -- 100 Trying as soon as it relays the second INVITE.
    expected = { { "out INVITE", "in 407 INVITE", "out ACK", "out INVITE", "in 100 INVITE",
      "in 180 INVITE", "in 200 INVITE", "out ACK", "out BYE", "in 200 BYE" } }
  end
  local list = {}
  for _, part in ipairs(expected) do
    for _, label in ipairs(part) do list[#list + 1] = label end
  end
  b.check_flow("SIP flow", events, id, list)

  if mode == "proxy" then
    local entries = b.call_entries(events, id)
    local stray = {}
    for _, e in ipairs(entries) do
      if tonumber(e.port) ~= kam_port or e.addr ~= "127.0.0.1" then stray[#stray + 1] = e end
    end
    t.check("every message goes through kamailio", #entries > 0 and #stray == 0,
      "%d of %d elsewhere: %s", #stray, #entries, t.describe(stray))

    -- RFC 3261 12.1.2: the route set is the Record-Route of the 2xx (one
    -- proxy here, so no reversal to get wrong); the Request-URI is the
    -- Contact of the 2xx.
    local ok200 = b.find(events, id, function(_, _, l) return l == "in 200 INVITE" end)[1]
    local rr = ok200 and t.header(ok200.msg, "Record-Route")
    local contact = ok200 and (t.header(ok200.msg, "Contact") or ""):match("<([^>]+)>")
    -- The ACK of the 2xx, not the one of the 407 (which has the first CSeq).
    local first_n = t.cseq(b.find(events, id, function(_, _, l) return l == "out INVITE" end)[1].msg)
    local function routed(label)
      local e = b.find(events, id, function(en, _, l)
        return l == label and (label ~= "out ACK" or t.cseq(en.msg) ~= first_n)
      end)[1]
      return e and rr and t.header(e.msg, "Route") == rr and e.msg.uri == contact
        and tonumber(e.port) == kam_port, e
    end
    local ack_ok, ack = routed("out ACK")
    local bye_ok, bye = routed("out BYE")
    t.check("ACK and BYE go to kamailio with the Record-Route as Route", ack_ok and bye_ok,
      "Record-Route %s, Contact %s; ACK: %s Route %s port %s; BYE: %s Route %s port %s",
      tostring(rr), tostring(contact), tostring(ack and ack.msg.uri),
      tostring(ack and t.header(ack.msg, "Route")), tostring(ack and ack.port),
      tostring(bye and bye.msg.uri), tostring(bye and t.header(bye.msg, "Route")),
      tostring(bye and bye.port))
  end
end)
