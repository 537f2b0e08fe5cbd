-- Measuring the audio of recordings in the specs (not a spec itself): a recorder's WAV file
-- read back, and the share of its energy at a frequency (Goertzel), frame by frame.
-- Load it with: local audio = dofile(<this folder> .. "audio.lua")
local audio = {}

audio.RATE, audio.FRAME = 8000, 160  -- G.711: 8 kHz, 160 samples per 20 ms packet

-- A WAV file as {format=, channels=, rate=, bits=, samples = {...}} (interleaved).
function audio.read_wav(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  assert(s:sub(1, 4) == "RIFF" and s:sub(9, 12) == "WAVE", path .. " is not a WAV file")
  local pos, fmt, data = 13, nil, nil
  while pos + 8 <= #s + 1 do
    local id, size = string.unpack("<c4I4", s, pos)
    pos = pos + 8
    if id == "fmt " then
      local format, channels, rate, _, _, bits = string.unpack("<I2I2I4I4I2I2", s, pos)
      fmt = {format = format, channels = channels, rate = rate, bits = bits}
    elseif id == "data" then
      data = s:sub(pos, pos + size - 1)
    end
    pos = pos + size + size % 2
  end
  assert(fmt and data, path .. ": no fmt or no data chunk")
  assert(fmt.bits == 16, path .. ": " .. fmt.bits .. " bits per sample, expected 16")
  local samples, n, i = {}, #data // 2, 1
  while i <= n do
    local k = math.min(200, n - i + 1)
    local v = table.pack(string.unpack("<" .. ("i2"):rep(k), data, 2 * i - 1))
    for j = 1, k do samples[i + j - 1] = v[j] end
    i = i + k
  end
  fmt.samples = samples
  return fmt
end

-- The samples of a 16-bit mono WAV file at 8 kHz, as the recorder writes them.
function audio.samples(path)
  local w = audio.read_wav(path)
  assert(w.channels == 1 and w.rate == audio.RATE,
    ("%s: %d channels, %d Hz"):format(path, w.channels, w.rate))
  return w.samples
end

local function rms(x, i, j)
  local e = 0
  for k = i, j do e = e + x[k] * x[k] end
  return math.sqrt(e / (j - i + 1))
end
audio.rms = rms

-- The share of the energy of x[i..j] at f Hz: about 1 for a pure tone at f, near 0 elsewhere.
function audio.share(x, i, j, f)
  local c = 2 * math.cos(2 * math.pi * f / audio.RATE)
  local s1, s2, e = 0, 0, 0
  for k = i, j do
    local v = x[k]
    s1, s2 = v + c * s1 - s2, s1
    e = e + v * v
  end
  if e == 0 then return 0 end
  return (s1 * s1 + s2 * s2 - c * s1 * s2) / ((j - i + 1) / 2 * e)
end

-- How many 20 ms frames of x are loud (rms above 300) and hold mostly f Hz.
function audio.frames_of(x, f)
  local n, F = 0, audio.FRAME
  for fr = 0, #x // F - 1 do
    local i, j = fr * F + 1, (fr + 1) * F
    if rms(x, i, j) > 300 and audio.share(x, i, j, f) > 0.8 then n = n + 1 end
  end
  return n
end

return audio
