-- Blind transfer (RFC 3515, RFC 5589) with baresip 1.0.0
-- (tests/interop/calls_transfer.sh). Three roles, one process each:
--
-- Environment:
--   MODE       transferor: call TARGET (baresip, auto answer), then
--              call:transfer(TRANSFER_TO): baresip calls the target
--              transferee: answer baresip's call, follow the REFER of its
--              `transfer` command to the target, play TONE there until the
--              target hangs up
--              target: answer one call from FROM_USER, play TONE
--              (or record what comes with REC_FILE) and hang up after TALK s
--   UA_PORT    UDP port of the endpoint on 127.0.0.1
--   RTP_PORTS  FIRST-LAST, the endpoint's RTP port range
--   TARGET     (transferor) the URI to call
--   TRANSFER_TO  (transferor, transferee) the transfer target's URI
--   FROM_USER  (target) the user the call must come from (the transferee)
--   TONE       (transferee, target) Hz of the tone to play
--   REC_FILE   (target) record what the caller sends there
--   TALK       (target) seconds before the target hangs up
--   WAIT       seconds to wait for the call (default 15)
--
-- The answering modes print "ready" once they listen.

package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local t = require "support"
local b = require "bs_support"

local mode = t.env("MODE")
local ua_port = t.env_number("UA_PORT")
local rtp = b.rtp_ports()
local wait = t.env_number("WAIT", 15)

local sip = t.require_sip()
local events = t.record(sip)

local users = { transferor = "alice", transferee = "bob", target = "carol" }

-- The entries of a call whose label is `label` ("in NOTIFY", "out 200 BYE").
local function labelled(call_id, label)
  return b.find(events, call_id, function(_, _, l) return l == label end)
end

-- The sipfrag status lines of the NOTIFYs that came in the call.
local function sipfrags(call_id)
  local lines = {}
  for i, e in ipairs(labelled(call_id, "in NOTIFY")) do
    lines[i] = (e.msg.body or ""):match("^(SIP/2%.0 %d+[^\r\n]*)") or "?"
  end
  return lines
end

local function transferor(ua)
  local target, transfer_to = t.env("TARGET"), t.env("TRANSFER_TO")
  local call, code, reason = ua:call(target, { timeout = 5 })
  t.check("ua:call reaches baresip", call and call.state == "confirmed", "%s",
    t.explain_call(call, code, reason))
  if not call then return end
  -- baresip's sndfile names a recording after the second it starts: the
  -- new call's must not share the first one's
  sip.sleep(1.5)
  local progress = {}
  local res = table.pack(t.within(sip, 15, call.transfer, call, transfer_to, {
    timeout = 10,
    on_progress = function(status) progress[#progress + 1] = status end,
  }))
  t.check("call:transfer(target) returns true", res[1] == true, "returned %s",
    b.show(table.unpack(res, 1, res.n)))
  local refer = labelled(call.id, "out REFER")[1]
  local refer_to = refer and t.header(refer.msg, "Refer-To")
  local referred_by = refer and t.header(refer.msg, "Referred-By")
  t.check("the REFER carries Refer-To (the target) and Referred-By (us)",
    refer_to and refer_to:find(transfer_to, 1, true)
      and referred_by and referred_by:find("alice@", 1, true),
    "Refer-To %s, Referred-By %s", tostring(refer_to), tostring(referred_by))
  t.check("baresip accepts the REFER (202) and its final NOTIFY says 200",
    refer and b.response_to(events, call.id, refer, 202)
      and progress[#progress] == 200,
    "202 %s, sipfrags [%s], on_progress [%s]",
    tostring(refer and b.response_to(events, call.id, refer, 202) ~= nil),
    table.concat(sipfrags(call.id), ", "), table.concat(progress, ", "))
  b.wait_label(sip, events, call.id, "in 200 BYE", 3)
  t.check("our call with baresip ends (BYE answered 200)",
    call.state == "ended" and #labelled(call.id, "in 200 BYE") == 1,
    "state %s, end reason %s, BYE %d, 200 %d", tostring(call.state),
    tostring(call.end_reason), #labelled(call.id, "out BYE"),
    #labelled(call.id, "in 200 BYE"))
end

-- call:wait()'s two results (the end reason, and the call that took its
-- place), or nil once `seconds` have passed.
local function wait_both(call, seconds)
  local res = table.pack(t.within(sip, seconds, call.wait, call))
  if res[1] == nil then return nil end
  return res[1], res[2]
end

local function transferee(ua)
  local transfer_to, tone = t.env("TRANSFER_TO"), t.env_number("TONE")
  local refer_seen
  local call = t.serve_one_call(sip, ua, function(c)
    c:on("refer", function(_, req) refer_seen = req end)
    sip.spawn(c.answer, c)
  end, { wait = wait, limit = 5, what = "baresip's call reaches the script" })
  if not call then return end
  t.check("baresip's call reaches the script", true)
  io.stdout:write("# step: answered\n")
  io.stdout:flush()
  local why, new = wait_both(call, 20)
  t.check("baresip's REFER reaches call:on(\"refer\") with its Refer-To",
    refer_seen and refer_seen.refer_to and refer_seen.refer_to:find(transfer_to, 1, true),
    "refer_to %s, referred_by %s", tostring(refer_seen and refer_seen.refer_to),
    tostring(refer_seen and refer_seen.referred_by))
  t.check("call:wait() returns \"transferred\" and the new call",
    why == "transferred" and new ~= nil and call.replaced_by == new,
    "returned %s, %s (replaced_by %s)", tostring(why), tostring(new),
    tostring(call.replaced_by))
  if not new then return end
  t.check("the new call is up to the target",
    new.state == "confirmed" and new.remote_uri == transfer_to,
    "state %s, remote %s", tostring(new.state), tostring(new.remote_uri))
  local invite = labelled(new.id, "out INVITE")[1]
  local referred_by = invite and t.header(invite.msg, "Referred-By")
  -- baresip 1.0.0 puts no Referred-By in its REFER, so none is to be copied
  t.check("the INVITE to the target carries the REFER's Referred-By (or none, as it had none)",
    invite and referred_by == refer_seen.referred_by,
    "Referred-By %s, the REFER's %s", tostring(referred_by),
    tostring(refer_seen and refer_seen.referred_by))
  local out = {}
  for i, e in ipairs(labelled(call.id, "out NOTIFY")) do
    out[i] = (e.msg.body or ""):match("^SIP/2%.0 (%d+)") or "?"
  end
  t.check("the NOTIFYs to baresip say 100, then the target's 200",
    out[1] == "100" and out[#out] == "200", "sent [%s]", table.concat(out, ", "))
  t.check("the old call ends with one BYE, answered 200",
    call.state == "ended" and #(b.find(events, call.id, function(_, _, l)
      return l == "in 200 BYE" or l == "out 200 BYE" end)) == 1,
    "state %s, flow [%s]", tostring(call.state),
    table.concat(b.labels(b.call_entries(events, call.id)), ", "))
  sip.spawn(new.play, new, sip.tone{ freqs = { tone } }, { loop = true })
  local ended = t.wait_call(sip, new, 15)
  t.check("the target hangs up the new call", ended == "hangup", "call:wait() gave %s",
    tostring(ended))
end

local function target(ua)
  local from_user = t.env("FROM_USER")
  local tone, rec_file = os.getenv("TONE"), os.getenv("REC_FILE")
  local talk = t.env_number("TALK")
  local recorded
  local call = t.serve_one_call(sip, ua, function(c)
    sip.spawn(function()
      if not c:answer() then return end
      if tone then
        sip.spawn(c.play, c, sip.tone{ freqs = { tonumber(tone) } }, { loop = true })
      end
      if rec_file then
        sip.spawn(function() recorded = table.pack(c:record(rec_file, { max = talk + 5 })) end)
      end
      sip.sleep(talk)
      c:hangup()
    end)
  end, { wait = wait, limit = 5, what = "the transferred call reaches the target" })
  if not call then return end
  t.check("the transferred call reaches the target", true)
  -- baresip 1.0.0 calls the target without Referred-By, and our transferee
  -- copies the REFER's, which baresip leaves out: nothing to check there
  local referred_by = call.request:header("Referred-By")
  t.diag("Referred-By: %s", tostring(referred_by))
  local from = call.request:header("From")
  t.check("the call to the target comes from the transferee", from
    and from:find("<sip:" .. from_user .. "@", 1, true), "From %s, want %s", tostring(from),
    from_user)
  t.wait_for(sip, talk + 5, function() return call.state == "ended" end)
  t.check("the target answers and hangs up after talking",
    call.end_reason == "local" and b.wait_label(sip, events, call.id, "in 200 BYE", 3),
    "state %s, end reason %s", tostring(call.state), tostring(call.end_reason))
  if rec_file then
    t.wait_for(sip, 2, function() return recorded ~= nil end)
    t.check("the target records the call", recorded and recorded[2] == "hangup"
      or (recorded and type(recorded[1]) == "number"),
      "record returned %s", recorded and b.show(table.unpack(recorded, 1, recorded.n)) or "nothing")
  end
end

t.main(sip, function(track)
  local ua, code, reason = sip.ua{
    uri = ("sip:%s@127.0.0.1"):format(users[mode] or "nobody"),
    listen = { "udp:127.0.0.1:" .. ua_port },
    rtp_ports = rtp,
  }
  if not ua then
    t.check("endpoint", false, "sip.ua failed: %s", b.show(code, reason))
    return
  end
  track(ua)
  if mode == "transferor" then
    transferor(ua)
  elseif mode == "transferee" then
    transferee(ua)
  elseif mode == "target" then
    target(ua)
  else
    t.check("MODE", false, "unknown MODE %s", mode)
  end
end)
