-- Call waiting: bob talks with alice when carol calls. Carol hears ringing (180, never
-- busy) while alice hears the call-waiting beep; bob puts alice on hold with music
-- (a sendonly re-INVITE, RFC 6337), answers carol, swaps between the two twice, then
-- hangs up on alice and, a moment later, on carol.
--
--   lua5.4 examples/call_waiting.lua
--       no argument: alice, bob and carol are three endpoints of this process on loopback;
--       alice records what she hears and checks it holds the beep and the music, carol
--       checks she heard 180 before 200
--   lua5.4 examples/call_waiting.lua --answer udp:127.0.0.1:5070
--       be bob on that address: answer the first call, treat a second as above; runs until
--       interrupted (tcp:HOST:PORT for TCP; port 0 takes a free port and prints the URI)
-- From the source tree: make build && . tests/env.sh first.
local sip = require "sip"

local BEEP = sip.tone("waiting", {country = "us"})  -- 440 Hz, 0.3 s, then 9.7 s of silence
local MUSIC = sip.tone{freqs = {700}, on = 0.4, off = 0.1}   -- stands for moh.wav
local TALK = 1.0   -- seconds bob spends with each party before he swaps

-- Bob's side of a call that comes while he talks on `current`.
local function waiting(call, current)
  print(("bob: %s calls while we talk with %s"):format(call.remote_uri, current.remote_uri))
  call:ring()
  sip.spawn(current.play, current, BEEP)
  sip.sleep(1)  -- bob hears the beep and decides to take the call
  if call.state == "ended" then
    print("bob: the caller gave up")
    current:stop()
    return
  end
  local ok, code, reason = current:hold{music = MUSIC}
  if not ok then
    -- the first party refused the hold: the new caller may try later
    print(("bob: hold failed: %s %s"):format(tostring(code), tostring(reason)))
    call:hangup(486)
    return
  end
  print("bob: " .. current.remote_uri .. " is on hold; answering " .. call.remote_uri)
  if not call:answer() then return end
  local active, held = call, current
  for _ = 1, 2 do
    sip.sleep(TALK)
    if active.state == "ended" or held.state == "ended" then break end
    assert(active:hold{music = MUSIC})
    assert(held:unhold())
    active, held = held, active
    print("bob: now talking with " .. active.remote_uri .. ", " .. held.remote_uri .. " on hold")
  end
  sip.sleep(TALK)
  print("bob: hanging up on " .. held.remote_uri)
  held:hangup()
  if active.state ~= "ended" then
    assert(active.held == nil)
    sip.sleep(TALK / 2)
    print("bob: hanging up on " .. active.remote_uri)
    active:hangup()
  end
end

-- Bob: answers a call when he is free; a call while he talks is call waiting.
local function bob_answers(ua)
  ua:on("INVITE", function(call)
    for _, other in ipairs(ua:calls()) do
      if other ~= call and other.state == "confirmed" then return waiting(call, other) end
    end
    print("bob: call from " .. call.remote_uri)
    if call:answer() then
      print("bob: talking with " .. call.remote_uri)
      call:wait()
    end
  end)
end

-- The share of a 20 ms frame's energy at f Hz (Goertzel).
local function share(x, i, f)
  local c, s1, s2, e = 2 * math.cos(2 * math.pi * f / 8000), 0, 0, 0
  for k = i, i + 159 do
    s1, s2 = x[k] + c * s1 - s2, s1
    e = e + x[k] * x[k]
  end
  return e > 160 * 300 * 300 and (s1 * s1 + s2 * s2 - c * s1 * s2) / (80 * e) or 0
end

-- How many loud frames of the 8 kHz 16-bit WAV file at path hold f Hz.
local function frames_at(path, f)
  local fh = assert(io.open(path, "rb"))
  local wav = fh:read("a")
  fh:close()
  local at = assert(wav:find("data", 13, true), path .. ": no data chunk")
  local data = wav:sub(at + 8)
  local x = {}
  for i = 1, #data // 2 do x[i] = string.unpack("<i2", data, 2 * i - 1) end
  local n = 0
  for i = 1, #x - 159, 160 do
    if share(x, i, f) > 0.8 then n = n + 1 end
  end
  return n
end

local ok = true
if arg[1] == "--answer" then
  local listen = arg[2] or "udp:127.0.0.1:5070"
  local ua = assert(sip.ua{uri = "sip:bob@127.0.0.1", listen = {listen}})
  bob_answers(ua)
  io.stdout:setvbuf("line")
  local proto = listen:match("^(%a+):"):lower()
  local host, port = ua:address(proto)
  if host:find(":", 1, true) then host = "[" .. host .. "]" end
  print(("bob: answering calls at sip:bob@%s:%d%s"):format(host, port,
    proto == "tcp" and ";transport=tcp" or ""))
  sip.run()
else
  sip.run(function()
    local function endpoint(uri) return assert(sip.ua{uri = uri, listen = {"udp:127.0.0.1:0"}}) end
    local bob, alice, carol = endpoint("sip:bob@127.0.0.1"), endpoint("sip:alice@127.0.0.1"),
      endpoint("sip:carol@127.0.0.1")
    bob_answers(bob)
    local host, port = bob:address("udp")
    local uri = ("sip:bob@%s:%d"):format(host, port)

    local first = assert(alice:call(uri))
    local holds = 0
    first:on("hold", function() holds = holds + 1 end)
    local heard = os.tmpname()
    sip.spawn(first.record, first, heard)
    sip.sleep(0.5)

    local statuses = {}
    local second = carol:call(uri, {on_progress = function(_, status)
      statuses[#statuses + 1] = status
    end})
    print(("carol: %s after %s"):format(second and "answered" or "failed",
      table.concat(statuses, ", ")))
    ok = second ~= nil and statuses[#statuses] == 180
    print("alice: the call ended: " .. first:wait())
    if second then print("carol: the call ended: " .. second:wait()) end

    local beeps, music = frames_at(heard, 440), frames_at(heard, 700)
    os.remove(heard)
    print(("alice: held %d times, heard %d frames of the beep and %d of music"):format(
      holds, beeps, music))
    -- the beep is 0.3 s (15 frames); she is held twice, for a second each time
    ok = ok and holds == 2 and beeps >= 10 and music >= 40
    for _, ua in ipairs { alice, bob, carol } do ua:close() end
  end)
end
os.exit(ok and 0 or 1)
