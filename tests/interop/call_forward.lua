-- The library follows redirections (ua:call{follow = true}) against SIPp:
-- tests/sipp/call_uas_redirect_twice.xml and call_uas_redirect_loop.xml.
-- The harness (calls_forward.sh) checks the message flow from
-- $SIP_FLOW_FILE and SIPp's exit status.
--
-- Environment:
--   SIPP_PORT   SIPp's port on 127.0.0.1
--   TRANSPORT   udp
--   MODE        twice  SIPp redirects to second@, that to third@ (q=0.5)
--                      and fourth@ (q=0.9); fourth@ answers; the script
--                      hangs up
--               loop   SIPp redirects to loop@, that back to sipp@ and to
--                      itself; the call ends with the 302
--   SIP_TRACE_FILE, SIP_FLOW_FILE   optional: where the messages are written

package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local t = require "support"

local port = t.env_number("SIPP_PORT")
local transport = t.env("TRANSPORT")
local mode = t.env("MODE")
assert(transport == "udp", "TRANSPORT must be udp")

local sip = t.require_sip()
local events = t.record(sip)

local function uri(user) return ("sip:%s@127.0.0.1:%d"):format(user, port) end

local function history_text(history)
  local parts = {}
  for i, e in ipairs(history or {}) do parts[i] = e.uri .. " " .. tostring(e.status) end
  return table.concat(parts, ", ")
end

-- The INVITEs sent: one call attempt, CSeq 1, 2, 3 ..., a new branch each.
local function check_invites(n)
  local invites = t.select(events, function(e, msg) return e.dir == "out" and msg.method == "INVITE" end)
  local seen, problems = {}, {}
  for i, e in ipairs(invites) do
    local branch = t.branch(e.msg)
    if seen[branch] then seen.retransmitted = true end
    seen[branch] = true
    local cseq = t.cseq(e.msg)
    if not seen["cseq" .. cseq] then
      seen["cseq" .. cseq] = true
      seen.count = (seen.count or 0) + 1
    end
    if t.header(e.msg, "Call-ID") ~= t.header(invites[1].msg, "Call-ID") then problems[#problems + 1] = "Call-ID " .. i end
    if t.tag(t.header(e.msg, "From")) ~= t.tag(t.header(invites[1].msg, "From")) then problems[#problems + 1] = "From tag " .. i end
    if t.header(e.msg, "To") ~= t.header(invites[1].msg, "To") then problems[#problems + 1] = "To " .. i end
  end
  t.check(("%d INVITEs, CSeq 1 to %d, each with the first one's Call-ID, From tag and To"):format(n, n),
    seen.count == n and #problems == 0 and seen["cseq" .. n] == true,
    "%d CSeqs; %s", seen.count or 0, table.concat(problems, ", "))
end

local modes = {}

function modes.twice(ua)
  local call, code, reason = ua:call(uri("sipp"), { follow = true, timeout = 10 })
  t.check("ua:call{follow = true} returns a confirmed call", call ~= nil and call.state == "confirmed",
    "returned %s", t.explain_call(call, code, reason))
  if not call then return end
  local want = ("%s 302, %s 302, %s 200"):format(uri("sipp"), uri("second"), uri("fourth"))
  local got = history_text(call.history)
  t.check("call.history: sipp@ 302, second@ 302, fourth@ 200 (q 0.9 before third@'s 0.5)",
    got == want, "got %s", got)
  check_invites(3)
  call:hangup()
  t.check("call:wait() returns \"local\"", call:wait() == "local", "")
end

function modes.loop(ua)
  local call, code, reason, res, history = ua:call(uri("sipp"), { follow = true, timeout = 10 })
  t.check("the loop ends with the last failure: nil, 302, \"Moved Temporarily\"",
    call == nil and code == 302 and reason == "Moved Temporarily",
    "returned %s", t.explain_call(call, code, reason))
  t.check("the last 302 comes fourth with its contacts",
    res ~= nil and res.status == 302 and #res.contacts == 2, "%s", tostring(res))
  local want = ("%s 302, %s 302"):format(uri("sipp"), uri("loop"))
  local got = history_text(history)
  t.check("the targets tried come fifth: sipp@ 302, loop@ 302", got == want, "got %s", got)
  sip.sleep(1.2)   -- no third INVITE follows
  check_invites(2)
end

assert(modes[mode], "unknown MODE " .. mode)

t.main(sip, function(track)
  local ua = track(sip.ua{ uri = "sip:alice@127.0.0.1", listen = { "udp:127.0.0.1:0" } })
  modes[mode](ua)
  sip.sleep(0.2)
end)
