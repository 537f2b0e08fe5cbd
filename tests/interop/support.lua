-- Shared helpers for the interop scripts in tests/interop/.
--
-- A script reports what it checked on stdout, one line per check, in the
-- form tests/interop/run.sh reads:
--   ok - <name>
--   not ok - <name>: <why>
--   # <diagnostic>
-- and exits 0 only when every check passed.  Settings come from the
-- environment (the harness picks ports at run time).

local M = {}

io.stdout:setvbuf("line")

M.failures = 0
M.checks = 0

function M.diag(fmt, ...)
  local text = select("#", ...) > 0 and fmt:format(...) or tostring(fmt)
  for line in (text .. "\n"):gmatch("(.-)\r?\n") do
    io.stdout:write("# ", line, "\n")
  end
end

-- check(name, passed, why...): why is only formatted on failure.
function M.check(name, passed, why, ...)
  M.checks = M.checks + 1
  if passed then
    io.stdout:write("ok - ", name, "\n")
  else
    M.failures = M.failures + 1
    local text = why and (select("#", ...) > 0 and why:format(...) or tostring(why))
      or "check failed"
    io.stdout:write("not ok - ", name, ": ", (text:gsub("\r?\n", " | ")), "\n")
  end
  return passed
end

function M.env(name, default)
  local value = os.getenv(name)
  if value == nil or value == "" then
    if default == nil then
      io.stderr:write("missing environment variable ", name, "\n")
      os.exit(2)
    end
    return default
  end
  return value
end

function M.env_number(name, default)
  local value = tonumber(M.env(name, default and tostring(default)))
  if not value then
    io.stderr:write("environment variable ", name, " is not a number\n")
    os.exit(2)
  end
  return value
end

-- Loads the library, or reports why not and exits: every check of the
-- script then shows as "not reported" in the harness.
function M.require_sip()
  local ok, sip = pcall(require, "sip")
  if not ok then
    io.stdout:write("not ok - load module: ", (tostring(sip):gsub("\n", " | ")), "\n")
    os.exit(2)
  end
  return sip
end

-- ------------------------------------------------------------ SIP text

local compact = {
  i = "call-id", f = "from", t = "to", v = "via", m = "contact",
  l = "content-length", c = "content-type", e = "content-encoding",
  k = "supported", s = "subject", o = "event", r = "refer-to", u = "allow-events",
}

local function trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- Parses one SIP message as the trace hands it over.  Returns a table with
-- start, method or status, headers (lower-case name -> list of values; a
-- comma-separated line stays one value) and body; nil for garbage.
function M.parse(text)
  if type(text) ~= "string" then return nil end
  local head, body = text:match("^(.-)\r?\n\r?\n(.*)$")
  if not head then head, body = text, "" end
  local lines = {}
  for line in (head .. "\n"):gmatch("(.-)\r?\n") do
    if line:match("^[ \t]") and #lines > 0 then
      lines[#lines] = lines[#lines] .. " " .. trim(line)
    else
      lines[#lines + 1] = line
    end
  end
  local msg = { start = lines[1] or "", headers = {}, body = body }
  local code, reason = msg.start:match("^SIP/2%.0%s+(%d%d%d)%s*(.*)$")
  if code then
    msg.status, msg.reason = tonumber(code), reason
  else
    msg.method, msg.uri = msg.start:match("^(%u+)%s+(%S+)%s+SIP/2%.0$")
    if not msg.method then return nil end
  end
  for i = 2, #lines do
    local name, value = lines[i]:match("^([%w%-%.!%%%*_%+`'~]+)%s*:%s*(.-)%s*$")
    if name then
      name = name:lower()
      name = compact[name] or name
      local list = msg.headers[name]
      if not list then list = {}; msg.headers[name] = list end
      list[#list + 1] = value
    end
  end
  return msg
end

-- First value of a header (case-insensitive name, compact forms accepted).
function M.header(msg, name)
  local list = msg and msg.headers[name:lower()]
  return list and list[1]
end

function M.cseq(msg)
  local n, method = (M.header(msg, "CSeq") or ""):match("^(%d+)%s+(%u+)")
  return tonumber(n), method
end

-- User part of the To (or From) URI.
function M.user_of(msg, name)
  local value = M.header(msg, name or "To") or ""
  return value:match("sips?:([^@;>%s]+)@")
end

-- Expiry a REGISTER asks for: the Contact expires parameter wins over the
-- Expires header (RFC 3261 10.2.1.1).
function M.register_expires(msg)
  local contact = M.header(msg, "Contact") or ""
  local param = contact:match(";%s*[eE][xX][pP][iI][rR][eE][sS]%s*=%s*(%d+)")
  if param then return tonumber(param) end
  return tonumber(M.header(msg, "Expires") or "")
end

-- The contacts of a message's Contact headers, each as { uri = ..., params
-- = lower-case name -> value }: one header may list several, comma
-- separated (RFC 3261 20.10); a comma inside <...> or quotes is not a
-- separator.
function M.contacts(msg)
  local found = {}
  for _, value in ipairs(msg and msg.headers.contact or {}) do
    local parts, cur, depth, quoted = {}, {}, 0, false
    for ch in value:gmatch(".") do
      if ch == '"' then quoted = not quoted
      elseif not quoted and ch == "<" then depth = depth + 1
      elseif not quoted and ch == ">" then depth = depth - 1 end
      if ch == "," and depth == 0 and not quoted then
        parts[#parts + 1] = table.concat(cur)
        cur = {}
      else
        cur[#cur + 1] = ch
      end
    end
    parts[#parts + 1] = table.concat(cur)
    for _, part in ipairs(parts) do
      local uri = M.uri_of(part)
      -- parameters after the name-addr (or after an addr-spec's URI)
      local rest = part:match(">(.*)$") or part:match("^%s*[^;%s]+(.*)$") or ""
      local params = {}
      for name, val in rest:gmatch(";%s*([%w%-%.!%%%*_%+`'~]+)%s*=?%s*([^;]*)") do
        params[name:lower()] = trim(val)
      end
      if uri and uri ~= "" then found[#found + 1] = { uri = uri, params = params } end
    end
  end
  return found
end

-- The expiry a 2xx to a REGISTER granted the binding of contact_uri: the
-- expires parameter of that contact in the response, else its Expires
-- header (RFC 3261 10.2.4); nil when it says neither.
function M.granted_expires(res, contact_uri)
  for _, c in ipairs(M.contacts(res)) do
    if c.uri == contact_uri and c.params.expires then
      return tonumber(c.params.expires)
    end
  end
  return tonumber(M.header(res, "Expires") or "")
end

-- ------------------------------------------------------------ trace

-- Installs sip.trace and keeps every event, with the parsed message and the
-- sip.now() of its arrival, in the returned list.  For the harness to show
-- when a test fails, every message is also written to $SIP_TRACE_FILE, and
-- one line per message (time, direction, peer, start line, CSeq) to
-- $SIP_FLOW_FILE.
local function open_env(name)
  local path = os.getenv(name)
  return path and path ~= "" and io.open(path, "w") or nil
end

function M.record(sip)
  local events = {}
  local out, flow = open_env("SIP_TRACE_FILE"), open_env("SIP_FLOW_FILE")
  local t0 = sip.now()
  sip.trace(function(ev)
    local entry = {
      dir = ev.dir, transport = ev.transport, addr = ev.addr, port = ev.port,
      text = ev.text, at = sip.now(), msg = M.parse(ev.text),
    }
    events[#events + 1] = entry
    if out then
      out:write(("---- %.3f %s %s %s:%s\n%s\n"):format(entry.at, tostring(ev.dir),
        tostring(ev.transport), tostring(ev.addr), tostring(ev.port), tostring(ev.text)))
      out:flush()
    end
    if flow then
      flow:write(("%7.3f %-3s %s %s:%s  %s  [%s]\n"):format(entry.at - t0, tostring(ev.dir),
        tostring(ev.transport), tostring(ev.addr), tostring(ev.port),
        entry.msg and entry.msg.start or "(unparsed)",
        entry.msg and M.header(entry.msg, "CSeq") or ""))
      flow:flush()
    end
  end)
  return events
end

-- Events whose message satisfies pred(entry, msg).
function M.select(events, pred)
  local found = {}
  for _, e in ipairs(events) do
    if e.msg and pred(e, e.msg) then found[#found + 1] = e end
  end
  return found
end

function M.describe(entries)
  local parts = {}
  for _, e in ipairs(entries) do
    parts[#parts + 1] = ("%s/%s %s [%s]"):format(e.dir, tostring(e.transport),
      e.msg and e.msg.start or "?", e.msg and M.header(e.msg, "CSeq") or "")
  end
  return #parts > 0 and table.concat(parts, "; ") or "(nothing)"
end

-- ------------------------------------------------------------ tasks

-- Sleeps in small steps until cond() holds or `seconds` have passed.
function M.wait_for(sip, seconds, cond)
  local deadline = sip.now() + seconds
  while not cond() do
    if sip.now() >= deadline then return false end
    sip.sleep(0.05)
  end
  return true
end

-- Runs main(track) as the one task of sip.run.  Every endpoint passed to
-- track() is closed at the end, also when main raises, so that sip.run can
-- return; a raised error is reported as the failed check "script error".
-- The script prints "closing" before it closes the endpoints, and "done"
-- once sip.run has returned; then it exits 0 or 1.
function M.main(sip, main)
  local endpoints = {}
  local function track(ua)
    endpoints[#endpoints + 1] = ua
    return ua
  end
  sip.run(function()
    local ok, err = xpcall(main, debug.traceback, track)
    if not ok then
      M.check("script error", false, "%s", err)
    end
    io.stdout:write("closing\n")
    for _, ua in ipairs(endpoints) do
      local closed, why = pcall(ua.close, ua)
      if not closed then M.diag("ua:close() raised: %s", why) end
    end
  end)
  io.stdout:write("done\n")
  io.stdout:flush()
  os.exit(M.failures == 0 and 0 or 1)
end

-- ------------------------------------------------------------ calls
-- Helpers for the call scripts (call_*.lua).

-- Events of one call: its messages carry its Call-ID.
function M.of_call(events, call_id)
  return M.select(events, function(_, msg)
    return call_id ~= nil and M.header(msg, "Call-ID") == call_id
  end)
end

-- The first event of the list that satisfies pred(entry, msg), or nil.
function M.find(events, pred)
  return M.select(events, pred)[1]
end

-- The first event that is a request METHOD going DIR ("in"|"out"), or the
-- response STATUS to METHOD (by CSeq) going DIR; n picks the n-th such event.
function M.request(events, dir, method, n)
  return M.select(events, function(e, msg)
    return e.dir == dir and msg.method == method
  end)[n or 1]
end

function M.response(events, dir, status, method, n)
  return M.select(events, function(e, msg)
    local _, cseq_method = M.cseq(msg)
    return e.dir == dir and msg.status == status and cseq_method == method
  end)[n or 1]
end

-- The branch parameter of the top Via.
function M.branch(msg)
  return (M.header(msg, "Via") or ""):match(";%s*branch%s*=%s*([^;,%s]+)")
end

-- The tag parameter of a From or To value (nil without one).
function M.tag(value)
  return (value or ""):match(";%s*tag%s*=%s*([^;%s]+)")
end

-- The URI of a name-addr (<...>) or addr-spec value, without header parameters.
function M.uri_of(value)
  value = value or ""
  return value:match("<([^>]*)>") or value:match("^%s*([^;%s]+)")
end

-- The media direction an SDP body states: the attribute of the audio stream,
-- else of the session, else "sendrecv" (RFC 3264 5.1); nil without a body.
function M.sdp_direction(sdp)
  if type(sdp) ~= "string" or not sdp:find("v=0", 1, true) then return nil end
  local session, media = sdp:match("^(.-)\nm=audio(.*)$")
  session, media = session or sdp, media or ""
  local function dir(part)
    for line in (part .. "\n"):gmatch("(.-)\r?\n") do
      local d = line:match("^a=(%a+)%s*$")
      if d == "sendrecv" or d == "sendonly" or d == "recvonly" or d == "inactive" then
        return d
      end
    end
  end
  return dir(media) or dir(session) or "sendrecv"
end

-- Yields until call:wait() returns, at most `seconds`; returns what it
-- returned, or nil and why.  The wait runs in a task of its own so that a
-- call that never ends costs seconds, not the whole run.
function M.wait_call(sip, call, seconds)
  local finished, result = false, nil
  sip.spawn(function()
    result = call:wait()
    finished = true
  end)
  if M.wait_for(sip, seconds, function() return finished end) then
    return result
  end
  return nil, ("call:wait() still waiting after %g s (state %s)"):format(seconds,
    tostring(call.state))
end

-- Runs fn(...) in a task of its own and yields until it returns, at most
-- `seconds`; returns its results, or nil, "still running after N s".  For
-- calls that could wait for a long SIP timer when the far end misbehaves.
function M.within(sip, seconds, fn, ...)
  local args, n = { ... }, select("#", ...)
  local finished, results = false, nil
  sip.spawn(function()
    results = table.pack(fn(table.unpack(args, 1, n)))
    finished = true
  end)
  if M.wait_for(sip, seconds, function() return finished end) then
    return table.unpack(results, 1, results.n)
  end
  return nil, ("still running after %g s"):format(seconds)
end

-- "nil, 486, "Busy Here"" or "a call (state confirmed)": what ua:call gave.
function M.explain_call(call, code, reason)
  if call then
    return ("a call (state %s)"):format(tostring(call.state))
  end
  return ("nil, %s, %q"):format(tostring(code), tostring(reason))
end

-- Checks that every message in entries went over `transport`.
function M.check_transport(entries, transport)
  local wrong = M.select(entries, function(e) return e.transport ~= transport end)
  return M.check(("every message of the call over %s"):format(transport),
    #entries > 0 and #wrong == 0,
    "%d messages, %d elsewhere: %s", #entries, #wrong, M.describe(wrong))
end

-- Checks a non-2xx ACK (RFC 3261 17.1.1.3): it belongs to the INVITE
-- transaction, so it has the INVITE's Request-URI, top Via branch, Call-ID,
-- From and CSeq number, the To (with tag) of the final response, and
-- CSeq method ACK.
function M.check_error_ack(name, entries, status)
  local invite = M.request(entries, "out", "INVITE")
  local final = M.response(entries, "in", status, "INVITE")
  local ack = M.request(entries, "out", "ACK")
  if not (invite and final and ack) then
    return M.check(name, false, "INVITE %s, %d %s, ACK %s", invite and "sent" or "missing",
      status, final and "received" or "missing", ack and "sent" or "missing")
  end
  local i, f, a = invite.msg, final.msg, ack.msg
  local inum = M.cseq(i)
  local anum, amethod = M.cseq(a)
  local problems = {}
  local function want(ok, fmt, ...)
    if not ok then problems[#problems + 1] = fmt:format(...) end
  end
  want(a.uri == i.uri, "Request-URI %s, the INVITE's is %s", tostring(a.uri), tostring(i.uri))
  want(M.branch(a) == M.branch(i), "branch %s, the INVITE's is %s", tostring(M.branch(a)),
    tostring(M.branch(i)))
  want(anum == inum and amethod == "ACK", "CSeq %s", tostring(M.header(a, "CSeq")))
  want(M.header(a, "From") == M.header(i, "From"), "From %s", tostring(M.header(a, "From")))
  want(M.tag(M.header(a, "To")) ~= nil and M.tag(M.header(a, "To")) == M.tag(M.header(f, "To")),
    "To %s, the %d's is %s", tostring(M.header(a, "To")), status, tostring(M.header(f, "To")))
  return M.check(name, #problems == 0, "%s", table.concat(problems, "; "))
end

-- Checks the requests one side sent inside the dialog (after the first
-- final response): Request-URI = the Contact URI the other side gave, the
-- local tag as From tag, the remote tag as To tag, the Call-ID, and CSeq
-- numbers that rise from one request to the next (ACKs take their INVITE's),
-- above first_cseq when given.  `dir` is the direction of those requests
-- ("out": the library's own).
function M.check_in_dialog(name, entries, dir, remote_contact, local_tag, remote_tag,
  first_cseq)
  local problems, last = {}, first_cseq
  local requests = M.select(entries, function(e, msg)
    return e.dir == dir and msg.method ~= nil
  end)
  local count = 0
  for _, e in ipairs(requests) do
    local msg = e.msg
    local num, method = M.cseq(msg)
    local from_tag, to_tag = M.tag(M.header(msg, "From")), M.tag(M.header(msg, "To"))
    if from_tag == local_tag and to_tag ~= nil then
      count = count + 1
      local where = ("%s %s"):format(method or "?", tostring(num))
      if remote_contact and msg.uri ~= remote_contact then
        problems[#problems + 1] = ("%s to %s, the Contact is %s"):format(where, msg.uri,
          remote_contact)
      end
      if to_tag ~= remote_tag then
        problems[#problems + 1] = ("%s with To tag %s, expected %s"):format(where,
          tostring(to_tag), tostring(remote_tag))
      end
      if method == "ACK" then
        if num ~= last then
          problems[#problems + 1] = ("ACK %s after CSeq %s"):format(tostring(num), tostring(last))
        end
      elseif not num or (last and num <= last) then
        problems[#problems + 1] = ("%s after CSeq %s"):format(where, tostring(last))
      else
        last = num
      end
    end
  end
  if count == 0 then problems[#problems + 1] = "no request in the dialog" end
  return M.check(name, #problems == 0, "%s", table.concat(problems, "; "))
end

-- Waits for the far end's BYE to end the call, then checks how it ended.
function M.check_remote_bye(sip, call, limit)
  local reason, why = M.wait_call(sip, call, limit)
  M.check("SIPp's BYE ends the call: call:wait() returns \"hangup\"",
    reason == "hangup" and call.end_reason == "hangup" and call.state == "ended",
    "call:wait() gave %s, end_reason %s, state %s", tostring(reason or why),
    tostring(call.end_reason), tostring(call.state))
end

-- Hangs up and checks the end.
function M.check_local_hangup(sip, call, limit)
  local ok, err = pcall(call.hangup, call)
  local reason, why = M.wait_call(sip, call, limit)
  M.check("call:hangup() ends the call: end_reason \"local\"",
    ok and call.state == "ended" and call.end_reason == "local",
    "hangup %s, state %s, end_reason %s", ok and "returned" or ("raised " .. tostring(err)),
    tostring(call.state), tostring(call.end_reason))
  M.check("call:wait() returns \"local\"", reason == "local", "call:wait() gave %s",
    tostring(reason or why))
end

-- The SDP direction of the 200 the library sent to the far end's n-th
-- METHOD, and that response.
function M.answer_direction(entries, method, n)
  local res = M.response(entries, "out", 200, method, n)
  return res and M.sdp_direction(res.msg.body), res
end

-- Serves one incoming call: the first INVITE runs fn(call) in its handler
-- (what fn returns is the handler's answer; a second INVITE gets 486),
-- prints "ready", then waits opts.wait seconds for the INVITE and
-- opts.limit for fn to finish. Returns the call, or nil after a failed
-- check named opts.what when no INVITE came.
function M.serve_one_call(sip, ua, fn, opts)
  local handled, finished = nil, false
  ua:on("INVITE", function(call)
    if handled then return 486 end   -- one call per run
    handled = call
    local ok, result = xpcall(fn, debug.traceback, call)
    if not ok then M.check("script error", false, "%s", result) end
    finished = true
    if ok then return result end
  end)
  io.stdout:write("ready\n")
  if not M.wait_for(sip, opts.wait, function() return handled ~= nil end) then
    M.check(opts.what or "the INVITE reaches the handler", false, "no INVITE within %g s",
      opts.wait)
    return nil
  end
  M.wait_for(sip, opts.limit, function() return finished end)
  return handled
end

return M
