-- The bridging side of bench/bridge.sh: a B2BUA that bridges every call.
--
-- Each INVITE (leg A, from SIPp's uac with bench/bridge_uac.xml) is called
-- on to UAS (leg B, SIPp's uas with bench/bridge_uas.xml); once B answered,
-- A is answered and the two are bridged until either ends. Both SDPs name
-- sockets of bench/rtp_bridge_load, so this process only relays RTP and
-- signals.
--
-- Once CALLS calls are bridged (or SETUP_TIMEOUT s passed) it writes TABLE,
-- one line per bridged call (the format bench/rtp_relay_min reads too):
--
--   a_peer a_local b_peer b_local
--
-- leg A's far end (the load generator's socket) and our RTP port for it,
-- then leg B's. When the file STOP appears (checked every 0.2 s, for at
-- most LIFETIME s) it hangs up every leg A (the bridge hangs up its leg B)
-- and exits.
--
-- Lines on stdout (the benchmark waits for them):
--   port P                        listening
--   bridged N failed F codecs C   TABLE written (C: the legs' codecs seen)
--   done
--
-- Environment: CALLS, UA_PORT, UAS (host:port of the callee), TABLE, STOP,
-- RTP_MIN, RTP_MAX, SETUP_TIMEOUT (60), LIFETIME (600).

io.stdout:setvbuf("line")
local sip = require "sip"

local calls_wanted = tonumber(os.getenv("CALLS") or "1")
local uas = assert(os.getenv("UAS"), "UAS: host:port of the callee")
local table_path = assert(os.getenv("TABLE"), "TABLE: where the bridged calls' ports go")
local stop_path = assert(os.getenv("STOP"), "STOP: the file that ends the run")
local setup_timeout = tonumber(os.getenv("SETUP_TIMEOUT") or "60")
local lifetime = tonumber(os.getenv("LIFETIME") or "600")

local ua, code, reason = sip.ua{
  uri = "sip:bridge@127.0.0.1",
  listen = { "udp:127.0.0.1:" .. (os.getenv("UA_PORT") or "0") },
  rtp_ports = { tonumber(os.getenv("RTP_MIN") or "10000"), tonumber(os.getenv("RTP_MAX") or "30000") },
  max_calls = 2 * calls_wanted + 100,
}
if not ua then
  io.stderr:write(("bridge.lua: %s %s\n"):format(tostring(code), tostring(reason)))
  os.exit(1)
end

local legs = {}          -- {a, b} of every bridged call, in the order bridged
local failed, why = 0, {}
local ended_early = 0    -- bridges that ended before STOP
local live = 0           -- bridges not over yet (both legs hung up)

local function count(t, k) t[k] = (t[k] or 0) + 1 end

ua:on("INVITE", function(a)
  if type(a.bridge) ~= "function" then
    -- a library without call:bridge: the benchmark says so and goes on
    -- with the minimal relay alone
    failed = failed + 1
    count(why, "no call:bridge")
    return 501
  end
  local b, status, phrase = ua:call("sip:callee@" .. uas)
  if not b then
    failed = failed + 1
    count(why, "B " .. tostring(status) .. " " .. tostring(phrase))
    return 503
  end
  local ok, err = a:answer()
  if not ok then
    failed = failed + 1
    count(why, "A " .. tostring(err))
    b:hangup()
    return
  end
  legs[#legs + 1] = { a, b }
  live = live + 1
  local first, how = a:bridge(b)  -- and b hung up, when a ended first
  live = live - 1
  if not a.bench_stopping then
    ended_early = ended_early + 1
    count(why, "bridge ended: " .. tostring(first == a and "A" or first == b and "B" or first)
      .. " " .. tostring(how))
  end
end)

local function file_exists(path)
  local f = io.open(path)
  if f then f:close() end
  return f ~= nil
end

local function kv(t)
  local parts = {}
  for k, v in pairs(t) do parts[#parts + 1] = k .. "=" .. v end
  table.sort(parts)
  return #parts > 0 and table.concat(parts, ",") or "-"
end

sip.spawn(function()
  local t0 = sip.now()
  while #legs + failed < calls_wanted and sip.now() - t0 < setup_timeout do
    sip.sleep(0.1)
  end
  -- the last bridge is joined in the task that counted it, before it
  -- waits: every call in legs is bridged by now
  local tmp = table_path .. ".tmp"
  local f = assert(io.open(tmp, "w"))
  local codecs = {}
  for _, l in ipairs(legs) do
    local am, bm = l[1].media, l[2].media
    if am and bm then
      count(codecs, am.codec .. "/" .. bm.codec)
      f:write(("%d %d %d %d\n"):format(am.port, am.local_port, bm.port, bm.local_port))
    end
  end
  f:close()
  assert(os.rename(tmp, table_path))
  print(("bridged %d failed %d setup_s %.2f codecs %s why %s")
    :format(#legs, failed, sip.now() - t0, kv(codecs), kv(why)))

  local t1 = sip.now()
  while not file_exists(stop_path) and sip.now() - t1 < lifetime do
    sip.sleep(0.2)
  end
  print(("stopping ended_early %d why %s"):format(ended_early, kv(why)))
  for _, l in ipairs(legs) do
    local a = l[1]
    if a.state ~= "ended" then
      a.bench_stopping = true
      sip.spawn(function() a:hangup() end)
    end
  end
  -- each bridge then hangs up its leg B; the callee's SIPp ends with the
  -- last of those BYEs
  local t2 = sip.now()
  while live > 0 and sip.now() - t2 < 10 + calls_wanted / 200 do
    sip.sleep(0.1)
  end
  -- a call ends as its BYE is sent: a moment for the BYEs to leave and
  -- their answers to come before the process goes
  sip.sleep(1 + calls_wanted / 2000)
  print(("done live %d"):format(live))
  os.exit(0)
end)

local _, bound = ua:address("udp")
print("port " .. tostring(bound))
sip.run()
