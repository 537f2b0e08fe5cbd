-- The playing side of bench/playback.sh and bench/drift.sh.
--
-- Answers every INVITE (SIPp's uac with bench/playback.xml, whose SDP sends
-- the media to bench/rtp_sink) and plays WAV into the call in a loop.  Once
-- CALLS calls are up (or SETUP_TIMEOUT s passed) and SETTLE s later, it
-- measures PLAY_SECONDS of playback: its own CPU time (os.clock: utime + stime
-- of every thread, in ns rather than 10 ms ticks), VmRSS, the Lua heap, the
-- media clock's lateness (sip.media_stats) and the packets sent.  Then it
-- stops every play, reads each call's packets_sent once more (the total
-- the sink is compared against), hangs every call up and exits.
--
-- Lines on stdout (the benchmark waits for them):
--   port P / ready rss_kb K lua_kb K     listening, nothing up yet
--   window                                the measured PLAY_SECONDS start
--   window_end                            they are over
--   result key value ...                  the numbers
--   done
--
-- Environment: CALLS, PLAY_SECONDS (10), SETTLE (2), SETUP_TIMEOUT (60), WAV (the
-- file to play; written here, 8 kHz 16-bit mono, when missing), RTP_MIN,
-- RTP_MAX (10000-60000: two ports per call).

io.stdout:setvbuf("line")
local sip = require "sip"

local calls_wanted = tonumber(os.getenv("CALLS") or "1")
local seconds = tonumber(os.getenv("PLAY_SECONDS") or "10")
local settle = tonumber(os.getenv("SETTLE") or "2")
local setup_timeout = tonumber(os.getenv("SETUP_TIMEOUT") or "60")
local wav = assert(os.getenv("WAV"), "WAV: the file to play")

-- 3 s of a 440 Hz tone with a slow level change: real samples, so that
-- G.711 encoding sees varied input (it is done once per file anyway)
local function write_wav(path)
  local rate, n = 8000, 24000
  local samples = {}
  for i = 0, n - 1 do
    local level = 8000 + 4000 * math.sin(2 * math.pi * i / n)
    samples[#samples + 1] = string.pack("<i2", math.floor(level * math.sin(2 * math.pi * 440 * i / rate)))
  end
  local data = table.concat(samples)
  local f = assert(io.open(path, "wb"))
  f:write("RIFF", string.pack("<I4", 36 + #data), "WAVE",
    "fmt ", string.pack("<I4I2I2I4I4I2I2", 16, 1, 1, rate, rate * 2, 2, 16),
    "data", string.pack("<I4", #data), data)
  f:close()
end
if not io.open(wav, "rb") then write_wav(wav) end

local function rss_kb()
  local f = io.open("/proc/self/status")
  if not f then return 0 end
  local kb = f:read("a"):match("VmRSS:%s*(%d+)")
  f:close()
  return tonumber(kb) or 0
end

local function fds()
  -- this process's pid from /proc/self/stat (a child's /proc/self is its own)
  local f = io.open("/proc/self/stat")
  local pid = f and f:read("l"):match("^(%d+)")
  if f then f:close() end
  local p = pid and io.popen("ls /proc/" .. pid .. "/fd 2>/dev/null | wc -l")
  local n = p and tonumber(p:read("a")) or 0
  if p then p:close() end
  return n
end

local ua, code, reason = sip.ua{
  uri = "sip:bench@127.0.0.1",
  listen = { "udp:127.0.0.1:0" },
  rtp_ports = { tonumber(os.getenv("RTP_MIN") or "10000"), tonumber(os.getenv("RTP_MAX") or "60000") },
  max_calls = calls_wanted + 100,
}
if not ua then
  io.stderr:write(("playback.lua: %s %s\n"):format(tostring(code), tostring(reason)))
  os.exit(1)
end

local calls, answered, failed, why = {}, 0, 0, {}
local ready_rss = 0
local play_ended = {}   -- play results before the end: a stream that went missing

local function count(t, k) t[k] = (t[k] or 0) + 1 end

ua:on("INVITE", function(call)
  local ok, err = call:answer()
  if not ok then
    failed = failed + 1
    count(why, tostring(err))
    return
  end
  answered = answered + 1
  calls[#calls + 1] = call
  local pok, pwhy = call:play(wav, { loop = true })
  if not call.bench_stopping then count(play_ended, tostring(pok) .. "/" .. tostring(pwhy)) end
end)

local function sum_sent()
  local sent, recv = 0, 0
  for _, c in ipairs(calls) do
    if c.state ~= "ended" then
      local st = c:stats()
      sent = sent + st.packets_sent
      recv = recv + st.packets_received
    end
  end
  return sent, recv
end

local function kv(t)
  local parts = {}
  for k, v in pairs(t) do parts[#parts + 1] = k .. "=" .. v end
  table.sort(parts)
  return #parts > 0 and table.concat(parts, ",") or "-"
end

sip.spawn(function()
  local t_start = sip.now()
  local said = t_start
  while answered + failed < calls_wanted and sip.now() - t_start < setup_timeout do
    sip.sleep(0.1)
    if sip.now() - said >= 1 then
      -- progress on stderr: an overloaded run then shows how far it got
      said = sip.now()
      io.stderr:write(("setup %.1f s answered %d failed %d\n"):format(said - t_start, answered, failed))
    end
  end
  local setup_s = sip.now() - t_start
  sip.sleep(settle)
  collectgarbage("collect")  -- what the set-up left for the collector is not a call's
  local rss0, lua0, fds0 = rss_kb(), collectgarbage("count"), fds()
  local sent0, t_sent0 = sum_sent(), sip.now()
  -- the work above held the loop for a while (a collection of N coroutines,
  -- a fork, N stats): its late tick is the harness's, not the library's
  sip.sleep(0.2)
  sip.media_stats(true)
  local c0, t0 = os.clock(), sip.now()
  print("window")
  sip.sleep(seconds)
  local c1, t1 = os.clock(), sip.now()
  local ms = sip.media_stats()
  local sent1, recv1 = sum_sent()
  print("window_end")
  local rss1 = rss_kb()
  -- stop what plays: nothing is sent after it (the warm-up silence is
  -- only at the start), so the totals compare with the sink's count
  for _, c in ipairs(calls) do
    c.bench_stopping = true
    c:stop()
  end
  sip.sleep(0.5)
  local total_sent = sum_sent()
  local live = 0
  for _, c in ipairs(calls) do if c.state ~= "ended" then live = live + 1 end end
  print(("result calls %d answered %d failed %d up %d setup_s %.2f cpu_s %.4f wall_s %.4f"
    .. " sent_window %d sent_wall_s %.4f sent_total %d received %d late_p50 %.2f late_p99 %.2f late_p999 %.2f"
    .. " late_max %.2f ticks %d clock_streams %d skipped %d rss0_kb %d rss_kb %d rss1_kb %d"
    .. " lua0_kb %.0f fds %d why %s play_ended %s")
    :format(calls_wanted, answered, failed, live, setup_s, c1 - c0, t1 - t0,
      sent1 - sent0, t1 - t_sent0, total_sent, recv1, ms.late_p50, ms.late_p99, ms.late_p999,
      ms.late_max, ms.ticks, ms.streams, ms.skipped, ready_rss, rss0, rss1, lua0, fds0,
      kv(why), kv(play_ended)))
  local pending = 0
  for _, c in ipairs(calls) do
    if c.state ~= "ended" then
      pending = pending + 1
      sip.spawn(function() c:hangup(); pending = pending - 1 end)
    end
  end
  for _ = 1, 100 do
    if pending == 0 then break end
    sip.sleep(0.1)
  end
  print("done")
  os.exit(0)
end)

ready_rss = rss_kb()
local _, bound = ua:address("udp")
print("port " .. tostring(bound))
print(("ready rss_kb %d lua_kb %.0f"):format(ready_rss, collectgarbage("count")))
sip.run()
