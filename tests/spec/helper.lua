-- Shared helpers for the busted specs (not a spec itself: busted runs *_spec.lua only).
-- Load it with: local h = dofile(<this folder> .. "helper.lua")
local sip = require "sip"

local h = {}

local function traceback(e)
  if type(e) == "string" then return debug.traceback(e, 2) end
  return e -- a luassert failure: keep the object so busted reports it as a failure
end

-- Runs body(t) as a task inside sip.run and re-raises its error afterwards (errors in tasks
-- are only logged by the library). Endpoints made with t.ua are closed when the body ends,
-- so that sip.run can return by itself. A watchdog stops the loop after `limit` seconds.
function h.run(body, limit)
  limit = limit or 10
  local uas, finished, failure = {}, false, nil
  local t = {}

  function t.ua(opts)
    local ua, code, reason = sip.ua(opts)
    if ua then uas[#uas + 1] = ua end
    return ua, code, reason
  end

  -- Starts collecting trace events; returns the table they are appended to.
  function t.trace()
    local events = {}
    sip.trace(function(ev) events[#events + 1] = ev end)
    return events
  end

  local function close_all()
    for _, ua in ipairs(uas) do pcall(ua.close, ua) end
  end

  local ok, err = pcall(sip.run, function()
    sip.spawn(function()
      local deadline = sip.now() + limit
      while not finished do
        if sip.now() > deadline then
          failure = failure or ("spec still running after " .. limit .. " s (watchdog)")
          finished = true
          close_all()
          sip.stop()
          return
        end
        sip.sleep(0.02)
      end
    end)
    local body_ok, body_err = xpcall(body, traceback, t)
    if not body_ok then failure = failure or body_err end
    finished = true
    close_all()
  end)
  sip.trace(false)
  if not ok then error(err, 0) end
  if failure ~= nil then error(failure, 0) end
end

-- In a task: polls pred() until it is true or `limit` seconds passed; returns pred's result.
function h.wait_until(pred, limit)
  local deadline = sip.now() + (limit or 2)
  while not pred() do
    if sip.now() > deadline then return false end
    sip.sleep(0.01)
  end
  return true
end

-- The SIP URI of an endpoint's listener: sip:user@host:port[;transport=tcp].
function h.uri_of(ua, transport, user)
  local host, port = ua:address(transport)
  assert(host and port, "ua:address(" .. transport .. ") returned nothing")
  if host:find(":", 1, true) and host:sub(1, 1) ~= "[" then host = "[" .. host .. "]" end
  local uri = ("sip:%s@%s:%d"):format(user or "bob", host, port)
  if transport == "tcp" then uri = uri .. ";transport=tcp" end
  return uri
end

-- The value of header `name` in a raw SIP message (names compared case-insensitively).
function h.header_of(text, name)
  name = name:lower()
  for line in text:gmatch("[^\r\n]+") do
    if line == "" then break end
    local n, v = line:match("^([%w%-%.!%%%*_%+`'~]+)%s*:%s*(.-)%s*$")
    if n and n:lower() == name then return v end
  end
  return nil
end

-- Trace events whose message starts with `prefix` (e.g. "MESSAGE ", "SIP/2.0 405"),
-- optionally filtered by direction ("in" / "out").
function h.events(events, prefix, dir)
  local found = {}
  for _, ev in ipairs(events) do
    if (dir == nil or ev.dir == dir) and type(ev.text) == "string"
        and ev.text:sub(1, #prefix) == prefix then
      found[#found + 1] = ev
    end
  end
  return found
end

-- A TCP port that was free a moment ago (bound with port 0, then released).
function h.free_tcp_port()
  local probe = sip.ua{listen = {"tcp:127.0.0.1:0"}}
  local _, port = probe:address("tcp")
  probe:close()
  return port
end

-- Runs Lua source in a child lua5.4 (same package paths) under `timeout`; returns the exit
-- code (124 when the time limit killed it), stdout and stderr. `shell`: sh commands run
-- first in the child's shell (limits, say).
function h.script(src, limit, shell)
  local path, out, err = os.tmpname(), os.tmpname(), os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(("package.path = %q\npackage.cpath = %q\n"):format(package.path, package.cpath), src)
  f:close()
  local _, _, code = os.execute(("%s timeout %s lua5.4 %s >%s 2>%s"):format(
    shell or "", tostring(limit or 20), path, out, err))
  local function slurp(p)
    local fh = io.open(p, "rb")
    local s = fh and fh:read("a") or ""
    if fh then fh:close() end
    os.remove(p)
    return s
  end
  os.remove(path)
  return code, slurp(out), slurp(err)
end

-- Runs f(...) as a task; returns a table that gets f's results (r.res, packed) and the time
-- it returned (r.at) once it has.
function h.task(f, ...)
  local r = {started = sip.now()}
  sip.spawn(function(...)
    r.res = table.pack(f(...))
    r.at = sip.now()
  end, ...)
  return r
end

-- A temporary file name with an extension (libsndfile is told the format, but people
-- reading a failed run's leftovers are helped by it); h.remove_tmpfiles() removes them
-- (from each spec file's after_each).
local tmpfiles = {}
function h.tmpfile(ext)
  local p = os.tmpname()
  os.remove(p)
  p = p .. "." .. ext
  tmpfiles[#tmpfiles + 1] = p
  return p
end

function h.remove_tmpfiles()
  for _, p in ipairs(tmpfiles) do os.remove(p) end
  tmpfiles = {}
end

return h
