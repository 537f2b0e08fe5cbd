-- Media of a call: tones, playback, recording, digits. The methods join
-- the Call class; sip.tone is this module's tone.
local core = require "sip.core"
local task = require "sip.task"
local options = require "sip.options"
local Call = require "sip.call"

local current_task, wait = task.current_task, task.wait
local check_options, set = options.check_options, options.set

local M = {}

local Tone = {}
Tone.__index = Tone
Tone.__tostring = function(t) return "sip.tone(" .. t.name .. ")" end

-- A tone is rendered once and shared by every call that plays it, for as
-- long as something holds it.
local tone_cache = setmetatable({}, { __mode = "v" })

local tone_options = set { "country" }
local custom_tone_options = set { "freqs", "on", "off", "level" }

function M.tone(name, opts)
  local key, clip, seconds
  if type(name) == "string" then
    opts = opts or {}
    check_options("sip.tone", opts, tone_options)
    if opts.country ~= nil and type(opts.country) ~= "string" then
      error("sip.tone: country must be a string such as \"us\"", 2)
    end
    key = name .. "/" .. (opts.country or "us")
    local cached = tone_cache[key]
    if cached then return cached end
    local ok, c, secs = pcall(core.tone, name, opts.country and opts.country:lower())
    if not ok then error(c, 2) end
    clip, seconds = c, secs
  elseif type(name) == "table" then
    check_options("sip.tone", name, custom_tone_options)
    local freqs, on, off = name.freqs, name.on, name.off
    if type(freqs) ~= "table" then error("sip.tone: freqs must be a list of frequencies", 2) end
    if (on == nil) ~= (off == nil) then error("sip.tone: on and off go together", 2) end
    if on ~= nil and (type(on) ~= "number" or type(off) ~= "number" or on <= 0 or off < 0) then
      error("sip.tone: on and off must be seconds (on > 0)", 2)
    end
    local spec = { freqs = freqs, level = name.level,
                   cadence = on and { math.floor(on * 1000 + 0.5), math.floor(off * 1000 + 0.5) } }
    key = table.concat(freqs, "+") .. "/" .. tostring(on) .. "/" .. tostring(off) .. "/"
      .. tostring(name.level)
    local cached = tone_cache[key]
    if cached then return cached end
    local ok, c, secs = pcall(core.tone, spec)
    if not ok then error(c, 2) end
    clip, seconds = c, secs
  else
    error("sip.tone: expected a tone name or {freqs =, on =, off =}", 2)
  end
  local t = setmetatable({ name = key, clip = clip, seconds = seconds }, Tone)
  tone_cache[key] = t
  return t
end

local function clip_of(source, what)
  what = what or "call:play"
  if getmetatable(source) == Tone then return source.clip end
  if type(source) == "string" then
    -- the cache shares one decoding among every call that plays the file; a
    -- file not decoded yet is, on the thread pool, while the task waits
    local clip, err = wait(what, function(k)
      local c, e = core.sound(source, k)
      if c ~= false then k(c, e) end
    end)
    if not clip then error(what .. ": " .. err, 3) end
    return clip
  end
  error(what .. ": expected a file name or a sip.tone", 3)
end
M.clip_of = clip_of

local play_options = set { "loop", "interrupt" }

-- Plays a file or tone into the call; yields until it has played (with
-- loop, until call:stop()). nil, "stopped" | "hangup" | "dtmf", digit.
function Call:play(source, opts)
  opts = opts or {}
  check_options("call:play", opts, play_options)
  if opts.interrupt ~= nil and opts.interrupt ~= "dtmf" then
    error("call:play: interrupt must be \"dtmf\"", 2)
  end
  local clip = clip_of(source)
  current_task("call:play")
  if self.state == "ended" then return nil, "hangup" end
  -- what played before is stopped, and its task told so
  self:_wake("play", nil, "stopped")
  return wait("call:play", function(k)
    local ok, err = self.core:play(clip, opts.loop and true or false)
    if not ok then return k(nil, err) end
    self.play_interrupt = opts.interrupt == "dtmf"
    self.waiters.play = k
  end)
end

-- Stops what plays and what records.
function Call:stop()
  if self.state == "ended" then return end
  if self.core:stop_play() or self.waiters.play then self:_wake("play", nil, "stopped") end
  local secs, err, msg = self.core:stop_record()
  if secs then self:_wake("record", secs)
  elseif secs == false then self:_wake("record", nil, err, msg) end
end

local record_options = set { "max", "silence", "both" }

-- Records what the far end sends into a WAV file; yields until max seconds,
-- silence seconds of quiet after speech, call:stop() or the end of the
-- call; returns the seconds recorded (nil, "hangup", seconds at the end;
-- nil, errname, message when the file could not be written). both: what
-- the far end hears too, mixed in (in a bridge: the other party).
function Call:record(path, opts)
  opts = opts or {}
  if type(path) ~= "string" then error("call:record: expected a file name", 2) end
  check_options("call:record", opts, record_options)
  for _, k in ipairs { "max", "silence" } do
    if opts[k] ~= nil and (type(opts[k]) ~= "number" or opts[k] <= 0) then
      error(("call:record: %s must be a positive number of seconds"):format(k), 2)
    end
  end
  current_task("call:record")
  if self.state == "ended" then return nil, "hangup" end
  return wait("call:record", function(k)
    local ok, err, msg = self.core:record(path, opts.max, opts.silence, opts.both and true or false)
    if not ok then return k(nil, err, msg) end
    self.waiters.record = k
  end)
end

-- A digit from the far end: to collect, to a playing prompt that it
-- interrupts, to call:on("dtmf").
function Call:_digit(d)
  self:_emit("dtmf", d)
  if self.play_interrupt and self.waiters.play then
    self.core:stop_play()
    self.play_interrupt = false
    self.pending_digits = self.pending_digits .. d
    self:_wake("play", nil, "dtmf", d)
    return
  end
  if self.waiters.digit then
    self:_wake("digit", d)
  else
    self.pending_digits = self.pending_digits .. d
  end
end

local collect_options = set { "max", "timeout", "terminators", "prompt" }

-- Collects digits: until max of them, a terminator (not returned), or
-- timeout seconds without a key (then what came so far, or nil, "timeout").
function Call:collect(opts)
  opts = opts or {}
  check_options("call:collect", opts, collect_options)
  local max, timeout, terms = opts.max or 1, opts.timeout or 5, opts.terminators or ""
  if math.type(max) ~= "integer" or max < 1 then error("call:collect: max must be a positive integer", 2) end
  if type(timeout) ~= "number" or timeout <= 0 then error("call:collect: timeout must be seconds", 2) end
  if type(terms) ~= "string" then error("call:collect: terminators must be a string", 2) end
  current_task("call:collect")
  if self.state == "ended" then return nil, "hangup" end
  -- digits pressed before (type-ahead, or the key that interrupted a
  -- prompt) count: callers who know the menu need not wait for it
  if opts.prompt ~= nil then
    local ok, why = self:play(opts.prompt, { interrupt = "dtmf" })
    if not ok and why == "hangup" then return nil, "hangup" end
  end
  local got = ""
  while true do
    while #self.pending_digits > 0 do
      local d = self.pending_digits:sub(1, 1)
      self.pending_digits = self.pending_digits:sub(2)
      if terms:find(d, 1, true) then return got end
      got = got .. d
      if #got >= max then return got end
    end
    local timer
    local d, why = wait("call:collect", function(k)
      self.waiters.digit = k
      timer = core.timer(timeout, function() self:_wake("digit", nil, "timeout") end)
    end)
    timer:cancel()
    if not d then
      if why == "timeout" and #got > 0 then return got end
      return nil, why
    end
    self.pending_digits = self.pending_digits .. d
  end
end

-- Sends digits as telephone-events (RFC 4733); does not wait.
function Call:send_dtmf(digits)
  if type(digits) ~= "string" or not digits:match("^[0-9%*#A-Da-d]+$") then
    error("call:send_dtmf: expected digits 0-9 * # A-D", 2)
  end
  return self.core:dtmf(digits:upper())
end

function Call:stats()
  return self.core:stats()
end

M.Tone = Tone
return M
