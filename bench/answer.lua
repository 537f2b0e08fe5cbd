-- The answering side of bench/calls_per_second.sh and bench/memory_per_call.sh.
--
-- Listens on UDP 127.0.0.1 (port UA_PORT, or any free port when 0), prints
-- "port N" then "ready", and answers every INVITE with 200.  The far end
-- (SIPp's built-in uac) hangs up with BYE.
--
-- Environment:
--   UA_PORT     port to listen on (default 0: any)
--   HOLD=1      each call's task waits for the end of its call (call:wait())
--               instead of ending after the answer: an idle established call
--               then also holds its task, which is what memory_per_call.sh
--               wants to count
--   RTP_MIN, RTP_MAX   the RTP port range (default 10000-60000: every call
--               binds a pair, and 10,000 calls need 20,000 ports)
--   REPORT=1    print "answered N failed N lua_kb K REASON=N..." on stderr
--               every second: a failing run then says how (answer()
--               returning nil, and why) without a trace that would itself
--               cost CPU, and lua_kb (the Lua heap, collectgarbage "count")
--               splits the process's memory into Lua's and the C library's
--   REPORT_IV=S with REPORT: every S seconds instead (0.1 shows when in a
--               step a collapse begins), with the process's CPU seconds so
--               far ("cpu 1.234": the CPU per call at each moment)
--   FULL_GC=1   with REPORT: a full garbage collection before each report (a
--               diagnostic: shows how much memory only waits for the
--               collector, which runs only as Lua allocates)

io.stdout:setvbuf("line")

local sip = require "sip"

local port = tonumber(os.getenv("UA_PORT") or "0")
local hold = os.getenv("HOLD") == "1"
local report = os.getenv("REPORT") == "1"
local full_gc = os.getenv("FULL_GC") == "1"
local iv = tonumber(os.getenv("REPORT_IV") or "")
local cpu = iv ~= nil
iv = iv or 1

local ua, code, reason = sip.ua{
  uri = "sip:bench@127.0.0.1",
  listen = { ("udp:127.0.0.1:%d"):format(port) },
  rtp_ports = { tonumber(os.getenv("RTP_MIN") or "10000"),
                tonumber(os.getenv("RTP_MAX") or "60000") },
}
if not ua then
  io.stderr:write(("answer.lua: %s %s\n"):format(tostring(code), tostring(reason)))
  os.exit(1)
end

local answered, failed, why = 0, 0, {}

ua:on("INVITE", function(call)
  local ok, err = call:answer()
  if ok then
    answered = answered + 1
  else
    failed = failed + 1
    why[tostring(err)] = (why[tostring(err)] or 0) + 1
  end
  if ok and hold then call:wait() end
end)

if report then
  sip.spawn(function()
    -- bounded: the benchmark stops this process by pid long before
    for _ = 1, 3600 / iv do
      sip.sleep(iv)
      if full_gc then collectgarbage("collect") end
      local parts = {}
      for k, v in pairs(why) do parts[#parts + 1] = k .. "=" .. v end
      io.stderr:write(("answered %d failed %d lua_kb %.0f %s%s\n"):format(answered, failed,
        collectgarbage("count"), table.concat(parts, " "), cpu and ("cpu %.3f"):format(os.clock()) or ""))
    end
  end)
end

local _, bound = ua:address("udp")
print("port " .. tostring(bound))
print("ready")
sip.run()
