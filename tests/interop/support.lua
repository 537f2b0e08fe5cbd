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

return M
