-- Coloured ringback: early media before the answer. The callee sends 183 Session Progress
-- with SDP (call:progress()), plays a ringback tone or a sound file into the call while the
-- caller waits, stops it and answers (200, ACK). The caller hears the callee's audio
-- instead of its own ringing tone, and here records it from on_early.
--
--   lua5.4 examples/coloured_ringback.lua
--       no argument: bob answers, alice calls him from this process on loopback, records the
--       early media and checks it is bob's little tune (three notes, in order) that came
--       after the 183 and before the 200; exits 1 if not
--   lua5.4 examples/coloured_ringback.lua --answer udp:127.0.0.1:5070 [FILE]
--       be the callee on that address for a phone, baresip (`/dial sip:bob@127.0.0.1:5070`)
--       or `sipp -sn uac 127.0.0.1:5070`: ring with FILE (any sound file) or the UK
--       ringback tone for 3 s, then answer and wait for the caller's BYE; runs until
--       interrupted (port 0 takes a free port and prints the URI to call)
-- From the source tree: make build && . tests/env.sh first.
local sip = require "sip"

local RING_SECONDS = 3

-- The callee: early media, then the answer.
local function answer(call, ringback)
  print(("bob: call from %s; 183 with early media"):format(call.remote_uri))
  local ok, why = call:progress()
  if not ok then
    print("bob: cannot send 183: " .. tostring(why))
    return
  end
  -- the ringback plays in a task of its own so that this one decides when to answer
  sip.spawn(function()
    local done, reason = call:play(ringback, {loop = true})
    if not done and reason ~= "stopped" then print("bob: ringback ended: " .. tostring(reason)) end
  end)
  sip.sleep(RING_SECONDS)
  if call.state == "ended" then
    print("bob: the caller gave up during the ringback")
    return
  end
  call:stop()
  ok, why = call:answer()
  if not ok then
    print("bob: the call went away before it was answered: " .. tostring(why))
    return
  end
  print("bob: answered")
  print("bob: call ended: " .. call:wait())
end

-- A tune of three notes with short pauses, written as an 8 kHz WAV: what a business plays
-- instead of ringing, and something a check can recognise note by note.
local NOTES, NOTE_S, GAP_S = {523, 659, 784}, 0.3, 0.1

local function write_tune(path)
  local parts = {}
  for _, f in ipairs(NOTES) do
    for i = 0, NOTE_S * 8000 - 1 do
      parts[#parts + 1] = string.pack("<i2", math.floor(6000 * math.sin(2 * math.pi * f * i / 8000)))
    end
    parts[#parts + 1] = ("\0\0"):rep(math.floor(GAP_S * 8000))
  end
  local data = table.concat(parts)
  local fh = assert(io.open(path, "wb"))
  fh:write(string.pack("<c4I4c4", "RIFF", 36 + #data, "WAVE"),
    string.pack("<c4I4I2I2I4I4I2I2", "fmt ", 16, 1, 1, 8000, 16000, 2, 16),
    string.pack("<c4I4", "data", #data), data)
  fh:close()
end

-- The samples of a 16-bit mono WAV file (as our recordings are).
local function read_wav(path)
  local fh = assert(io.open(path, "rb"))
  local s = fh:read("a")
  fh:close()
  local pos, x = 13, {}
  while pos + 8 <= #s + 1 do
    local id, size = string.unpack("<c4I4", s, pos)
    pos = pos + 8
    if id == "data" then
      for i = 0, size // 2 - 1 do x[#x + 1] = string.unpack("<i2", s, pos + 2 * i) end
    end
    pos = pos + size + size % 2
  end
  return x
end

-- Energy at f Hz over x[i..j] (Goertzel), for telling the notes apart.
local function power(x, i, j, f)
  local c = 2 * math.cos(2 * math.pi * f / 8000)
  local s1, s2 = 0, 0
  for k = i, j do s1, s2 = x[k] + c * s1 - s2, s1 end
  return s1 * s1 + s2 * s2 - c * s1 * s2
end

-- The notes heard, in order: one per run of loud 20 ms frames, the strongest of NOTES.
local function notes_heard(x)
  local heard, start = {}, nil
  local frames = #x // 160
  for fr = 0, frames do
    local loud = false
    if fr < frames then
      local e = 0
      for k = fr * 160 + 1, fr * 160 + 160 do e = e + x[k] * x[k] end
      loud = math.sqrt(e / 160) > 300
    end
    if loud and not start then start = fr end
    if not loud and start then
      local best, bestp = nil, -1
      for _, f in ipairs(NOTES) do
        local p = power(x, start * 160 + 1, fr * 160, f)
        if p > bestp then best, bestp = f, p end
      end
      heard[#heard + 1] = best
      start = nil
    end
  end
  return heard
end

local ok = true
if arg[1] == "--answer" then
  local listen = arg[2] or "udp:127.0.0.1:5070"
  local ringback = arg[3] or sip.tone("ringback", {country = "uk"})
  local ua = assert(sip.ua{uri = "sip:bob@127.0.0.1", listen = {listen}})
  ua:on("INVITE", function(call) answer(call, ringback) end)
  io.stdout:setvbuf("line")
  local proto = listen:match("^(%a+):"):lower()
  local host, port = ua:address(proto)
  if host:find(":", 1, true) then host = "[" .. host .. "]" end
  print(("bob: answering calls at sip:bob@%s:%d%s"):format(host, port,
    proto == "tcp" and ";transport=tcp" or ""))
  sip.run()
else
  local tune = os.tmpname()
  local recorded = os.tmpname()
  write_tune(tune)
  sip.run(function()
    local bob = assert(sip.ua{uri = "sip:bob@127.0.0.1", listen = {"udp:127.0.0.1:0"}})
    local over = false
    bob:on("INVITE", function(call)
      answer(call, tune)
      over = true
    end)
    local alice = assert(sip.ua{uri = "sip:alice@127.0.0.1", listen = {"udp:127.0.0.1:0"}})
    local host, port = bob:address("udp")
    local seen, rec = {}, nil
    local call, code, reason = alice:call(("sip:bob@%s:%d"):format(host, port), {
      timeout = 10,
      on_progress = function(_, status, why)
        print(("alice: %d %s"):format(status, why))
        seen[#seen + 1] = status
      end,
      -- a provisional response with SDP: the callee's audio flows before the answer
      on_early = function(c)
        print("alice: early media; recording it")
        sip.spawn(function() rec = table.pack(c:record(recorded, {max = 10})) end)
      end,
    })
    if not call then
      print(("alice: call failed: %s %s"):format(tostring(code), tostring(reason)))
      ok = false
    else
      print("alice: answered")
      call:stop()  -- the recording of the early media ends with the answer
      local secs = rec and rec[1]
      local heard = secs and notes_heard(read_wav(recorded)) or {}
      local names = {}
      for i, f in ipairs(heard) do names[i] = tostring(f) end
      print(("alice: %s s of early media, notes heard: %s"):format(tostring(secs),
        table.concat(names, " ")))
      -- 183 came, then about RING_SECONDS of the tune: at least its three notes in order
      local in_order = #heard >= 3
      for i = 1, #heard do
        if heard[i] ~= NOTES[(i - 1) % #NOTES + 1] then in_order = false end
      end
      ok = seen[#seen] == 183 and type(secs) == "number" and secs > RING_SECONDS - 1
        and in_order
      sip.sleep(0.3)
      call:hangup()
      print("alice: call ended: " .. call:wait())
    end
    local deadline = sip.now() + 2
    while not over and sip.now() < deadline do sip.sleep(0.05) end
    ok = ok and over
    alice:close()
    bob:close()
  end)
  os.remove(tune)
  os.remove(recorded)
  print(ok and "coloured ringback: as expected" or "coloured ringback: NOT as expected")
end
os.exit(ok and 0 or 1)
