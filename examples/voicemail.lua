-- Voicemail: answer, play a prompt, record the caller's message until a stretch of silence
-- (or a maximum length, or the caller hanging up), say how long it was, and hang up after a
-- closing beep.
--
--   lua5.4 examples/voicemail.lua
--       no argument: bob is the voicemail, alice calls him from this process on loopback,
--       waits for the prompt, "speaks" (2 s of tones in a sound file, then the quiet a phone
--       sends while nobody talks) and stays on the line; the script checks that bob's
--       recording stopped on the silence, holds alice's message, and that bob hung up;
--       exits 1 if not
--   lua5.4 examples/voicemail.lua --answer udp:127.0.0.1:5070 [PROMPT]
--       be the voicemail on that address for a phone or baresip (`/dial
--       sip:bob@127.0.0.1:5070`): PROMPT is any sound file (a beep without it); each
--       message goes to voicemail-<n>.wav in the current directory; runs until interrupted
--       (port 0 takes a free port and prints the URI to call)
-- From the source tree: make build && . tests/env.sh first.
local sip = require "sip"

local SILENCE, MAX = 1.0, 60  -- seconds of quiet that end a message; the longest one

-- The voicemail: returns the seconds recorded and how the recording ended.
local function voicemail(call, prompt, path)
  print(("bob: call from %s"):format(call.remote_uri))
  local ok, why = call:answer()
  if not ok then
    print("bob: the call went away before it was answered: " .. tostring(why))
    return nil, why
  end
  ok, why = call:play(prompt)
  if not ok then
    print("bob: the caller left during the prompt: " .. tostring(why))
    return nil, why
  end
  local secs, why, detail = call:record(path, {silence = SILENCE, max = MAX})
  if not secs and why == "hangup" then
    -- a caller who hangs up after speaking has still left a message
    print(("bob: the caller hung up; %.1f s recorded to %s"):format(detail or 0, path))
    return detail, why
  elseif not secs then
    -- the file could not be written (a full disk...): detail names it
    print("bob: the message was not recorded: " .. tostring(detail))
    call:hangup()
    return nil, why
  end
  print(("bob: message of %.1f s recorded to %s"):format(secs, path))
  call:play(sip.tone{freqs = {880}, on = 0.3, off = 0})
  call:hangup()
  return secs, secs >= MAX and "max" or "silence"
end

local BEEP = sip.tone{freqs = {1000}, on = 0.5, off = 0}  -- "speak after the tone"

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

-- Seconds of x louder than speech-quiet, counted by 20 ms frames.
local function loud_seconds(x)
  local n = 0
  for fr = 0, #x // 160 - 1 do
    local e = 0
    for k = fr * 160 + 1, fr * 160 + 160 do e = e + x[k] * x[k] end
    if math.sqrt(e / 160) > 300 then n = n + 1 end
  end
  return n * 0.02
end

-- The caller's message: 2 s of alternating tones standing in for a voice, then 3 s of
-- digital silence, as a phone without voice activity detection goes on sending.
local SPOKEN = 2.0

local function write_message(path)
  local parts = {}
  for i = 0, SPOKEN * 8000 - 1 do
    local f = (i // 2000) % 2 == 0 and 300 or 450
    parts[#parts + 1] = string.pack("<i2", math.floor(7000 * math.sin(2 * math.pi * f * i / 8000)))
  end
  parts[#parts + 1] = ("\0\0"):rep(3 * 8000)
  local data = table.concat(parts)
  local fh = assert(io.open(path, "wb"))
  fh:write(string.pack("<c4I4c4", "RIFF", 36 + #data, "WAVE"),
    string.pack("<c4I4I2I2I4I4I2I2", "fmt ", 16, 1, 1, 8000, 16000, 2, 16),
    string.pack("<c4I4", "data", #data), data)
  fh:close()
end

local ok = true
if arg[1] == "--answer" then
  local listen = arg[2] or "udp:127.0.0.1:5070"
  local prompt = arg[3] or BEEP
  local ua = assert(sip.ua{uri = "sip:bob@127.0.0.1", listen = {listen}})
  local n = 0
  ua:on("INVITE", function(call)
    n = n + 1
    voicemail(call, prompt, ("voicemail-%d.wav"):format(n))
  end)
  io.stdout:setvbuf("line")
  local proto = listen:match("^(%a+):"):lower()
  local host, port = ua:address(proto)
  if host:find(":", 1, true) then host = "[" .. host .. "]" end
  print(("bob: voicemail at sip:bob@%s:%d%s"):format(host, port,
    proto == "tcp" and ";transport=tcp" or ""))
  sip.run()
else
  local message, box = os.tmpname(), os.tmpname()
  write_message(message)
  sip.run(function()
    local bob = assert(sip.ua{uri = "sip:bob@127.0.0.1", listen = {"udp:127.0.0.1:0"}})
    local result
    bob:on("INVITE", function(call) result = table.pack(voicemail(call, BEEP, box)) end)
    local alice = assert(sip.ua{uri = "sip:alice@127.0.0.1", listen = {"udp:127.0.0.1:0"}})
    local host, port = bob:address("udp")
    local call, code, reason = alice:call(("sip:bob@%s:%d"):format(host, port), {timeout = 10})
    if not call then
      print(("alice: call failed: %s %s"):format(tostring(code), tostring(reason)))
      ok = false
    else
      print("alice: connected; waiting for the tone")
      sip.sleep(BEEP.seconds + 0.2)
      print("alice: speaking")
      -- the message plays until bob hangs up (then play says "hangup") or to its end
      local played, why = call:play(message)
      print("alice: " .. (played and "message played to its end" or "play ended: " .. tostring(why)))
      local deadline = sip.now() + 3
      while call.state ~= "ended" and sip.now() < deadline do sip.sleep(0.05) end
      print("alice: call ended: " .. tostring(call.end_reason))
      local secs, how = result and result[1], result and result[2]
      local heard = secs and loud_seconds(read_wav(box)) or 0
      print(("alice: bob kept %s s (ended by %s), %.2f s of it my voice"):format(
        tostring(secs), tostring(how), heard))
      -- the recording ended on the silence: what was said and about SILENCE more
      ok = how == "silence" and call.end_reason == "hangup"
        and math.abs(heard - SPOKEN) <= 0.1
        and secs >= SPOKEN + SILENCE - 0.1 and secs <= SPOKEN + SILENCE + 0.5
      if call.state ~= "ended" then call:hangup() end
    end
    alice:close()
    bob:close()
  end)
  os.remove(message)
  os.remove(box)
  print(ok and "voicemail: as expected" or "voicemail: NOT as expected")
end
os.exit(ok and 0 or 1)
