-- The library transfers SIPp's call (RFC 3515, RFC 5589 §6): the script calls
-- one of tests/sipp/call_uas_refer*.xml, which answers, and then calls
-- call:transfer("sip:carol@127.0.0.1:PORT").  It checks what call:transfer
-- returned, what on_progress heard, and what became of the call; SIPp's
-- scenario checks the REFER by regexps and answers it; the harness
-- (calls_refer.sh) checks the message flow and SIPp's exit status.
--
-- Environment:
--   SIPP_PORT   SIPp's port on 127.0.0.1
--   TRANSPORT   udp | tcp
--   MODE        what SIPp does with the REFER, hence what is checked:
--     notify    202, NOTIFYs 100, 180, then STATUS REASON (call_uas_refer.xml
--               with -key final "STATUS REASON"): a 2xx is a success and our
--               BYE follows; anything else fails the transfer, the call stays
--               up and the script hangs up
--     refused   403 (call_uas_refer_403.xml); the script hangs up
--     nosub     the REFER asks for no subscription (subscription = false),
--               SIPp answers 200 with Refer-Sub: false and never NOTIFYs
--               (call_uas_refer_nosub.xml): a success, our BYE follows
--     bye_first 202, then SIPp's BYE, then NOTIFYs 100 and 200 OK, which the
--               library answers 200 though the call is over
--               (call_uas_refer_bye.xml)
--   STATUS, REASON   MODE=notify only
--   SIP_TRACE_FILE, SIP_FLOW_FILE   optional: where the messages are written

package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local t = require "support"

local port = t.env_number("SIPP_PORT")
local transport = t.env("TRANSPORT")
local mode = t.env("MODE")
assert(transport == "udp" or transport == "tcp", "TRANSPORT must be udp or tcp")

local sip = t.require_sip()
local events = t.record(sip)

local suffix = transport == "tcp" and ";transport=tcp" or ""
local sipp_uri = ("sip:sipp@127.0.0.1:%d%s"):format(port, suffix)
-- The transfer target: SIPp's scenario only checks that the REFER names it.
local target = "sip:carol@127.0.0.1:5999"

-- How long a call may stay up waiting for SIPp's next step.
local CALL_LIMIT = 8

local function call_events(call)
  return t.of_call(events, call and call.id)
end

-- Transfers call to target; returns what call:transfer returned (packed)
-- and the sipfrag statuses on_progress heard, as "100, 180, 200".
local function transfer(call, options)
  local heard = {}
  options = options or {}
  options.timeout = 5
  options.on_progress = function(status) heard[#heard + 1] = tostring(status) end
  local result = table.pack(t.within(sip, CALL_LIMIT, call.transfer, call, target, options))
  -- on_progress runs in a task of its own: let the last one run
  sip.sleep(0.1)
  return result, table.concat(heard, ", ")
end

local function returned(result)
  local parts = {}
  for i = 1, math.max(result.n, 1) do parts[i] = tostring(result[i]) end
  return table.concat(parts, ", ")
end

-- What the REFER said (the scenario checks it too, by regexps).
local function check_refer(call, refer_sub)
  local refer = t.request(call_events(call), "out", "REFER")
  local msg = refer and refer.msg
  local referred_by = msg and t.header(msg, "Referred-By")
  t.check("the REFER names the target in Refer-To and the caller in Referred-By",
    msg and t.uri_of(t.header(msg, "Refer-To")) == target
      and referred_by and referred_by:find("sip:alice@127.0.0.1", 1, true)
      and t.header(msg, "Refer-Sub") == refer_sub,
    "%s", refer and refer.text or "no REFER sent")
end

-- The call is still up after a failed transfer: the transferor takes it back.
local function check_still_up(call)
  t.check("the call stays up", call.state == "confirmed" and call.end_reason == nil,
    "state %s, end_reason %s", tostring(call.state), tostring(call.end_reason))
end

-- Our call ends after the success: call:transfer sends the BYE itself.
local function check_hung_up(call)
  local reason, why = t.wait_call(sip, call, CALL_LIMIT)
  t.check("the call ends with our BYE: call:wait() returns \"local\"",
    reason == "local" and call.state == "ended"
      and t.request(call_events(call), "out", "BYE") ~= nil,
    "call:wait() gave %s, state %s", tostring(reason or why), tostring(call.state))
end

local modes = {}

function modes.notify(call)
  local status, reason = t.env_number("STATUS"), t.env("REASON")
  local result, heard = transfer(call)
  check_refer(call, nil)
  t.check("on_progress hears 100, 180, " .. status, heard == "100, 180, " .. status,
    "it heard %s", heard == "" and "nothing" or heard)
  if status < 300 then
    t.check("call:transfer returns true", result[1] == true and result.n == 1,
      "it returned %s", returned(result))
    check_hung_up(call)
  else
    t.check(("call:transfer returns nil, %d, %q"):format(status, reason),
      result[1] == nil and result[2] == status and result[3] == reason,
      "it returned %s", returned(result))
    check_still_up(call)
    sip.sleep(0.3)
    t.check_local_hangup(sip, call, CALL_LIMIT)
  end
end

function modes.refused(call)
  local result, heard = transfer(call)
  check_refer(call, nil)
  t.check("call:transfer returns nil, 403, \"Forbidden\"",
    result[1] == nil and result[2] == 403 and result[3] == "Forbidden",
    "it returned %s", returned(result))
  t.check("on_progress hears nothing", heard == "", "it heard %s", heard)
  check_still_up(call)
  sip.sleep(0.3)
  t.check_local_hangup(sip, call, CALL_LIMIT)
end

function modes.nosub(call)
  local result, heard = transfer(call, { subscription = false })
  check_refer(call, "false")
  t.check("call:transfer returns true on the 200 with Refer-Sub: false",
    result[1] == true and result.n == 1, "it returned %s", returned(result))
  t.check("on_progress hears nothing", heard == "", "it heard %s", heard)
  check_hung_up(call)
end

function modes.bye_first(call)
  local result, heard = transfer(call)
  check_refer(call, nil)
  t.check("SIPp's BYE ends the call: call.end_reason \"hangup\"",
    call.state == "ended" and call.end_reason == "hangup",
    "state %s, end_reason %s", tostring(call.state), tostring(call.end_reason))
  t.check("on_progress hears 100, 200 after the BYE", heard == "100, 200",
    "it heard %s", heard == "" and "nothing" or heard)
  t.check("call:transfer returns true: the final NOTIFY said 200",
    result[1] == true and result.n == 1, "it returned %s", returned(result))
  local entries = call_events(call)
  t.check("each NOTIFY after the BYE gets 200, none 481",
    t.response(entries, "out", 200, "NOTIFY", 2) ~= nil
      and t.response(entries, "out", 481, "NOTIFY") == nil,
    "answers sent: %s", t.describe(t.select(entries, function(e, msg)
      return e.dir == "out" and msg.status ~= nil end)))
end

assert(modes[mode], "unknown MODE " .. mode)

t.main(sip, function(track)
  local ua = track(sip.ua{
    uri = "sip:alice@127.0.0.1",
    listen = { "udp:127.0.0.1:0", "tcp:127.0.0.1:0" },
  })
  local call, code, reason = ua:call(sipp_uri, { timeout = 10 })
  t.check("ua:call returns a confirmed outgoing call",
    call and call.state == "confirmed" and call.direction == "outgoing",
    "%s", t.explain_call(call, code, reason))
  if not call then return end
  sip.sleep(0.2)
  modes[mode](call)
  t.check_transport(call_events(call), transport)
  -- Let the last answers and retransmissions go before the endpoint closes.
  sip.sleep(0.2)
end)
