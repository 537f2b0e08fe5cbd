-- Bridges: the media of two calls connected both ways (csrc/media/bridge.h),
-- as a B2BUA connects a caller to the callee it reached. The methods join
-- the Call class.
local task = require "sip.task"
local options = require "sip.options"
local Call = require "sip.call"
local media = require "sip.media"

local current_task, wait = task.current_task, task.wait
local check_options, set = options.check_options, options.set

-- An incoming call that is not answered yet.
local function pending(call)
  local st = call.state
  return call.direction == "incoming" and (st == "incoming" or st == "early")
end

-- An incoming call not answered yet hears nothing until our SDP went to
-- it: once the other call has media (early media, or answered), a 183
-- with our SDP opens it (RFC 3960), so a forwarded caller hears the
-- callee's ringback or announcement. Answering stays the script's.
local function open_early(br, call, other)
  if pending(call) and not br.progressed[call] and other.core:media() then
    br.progressed[call] = true
    call:progress()
  end
end

-- The bridge is over (a call ended, or unbridge): every task waiting in
-- call:bridge hears how.
local function finish(br, ...)
  for _, c in ipairs(br.calls) do
    if c.bridged == br then c.bridged = false end
  end
  local waiters = br.waiters
  br.waiters = {}
  for _, k in ipairs(waiters) do k(...) end
end

local bridge_options = set { "keep", "music" }

-- Connects the media of two calls both ways until either ends, then hangs
-- up the other (unless keep); returns the call that ended first and its
-- end reason, or nil, "unbridged" after call:unbridge(). A call is in one
-- bridge at a time: bridging it elsewhere parts the old one first. The
-- same two calls bridged again (from another task, say once the callee
-- answered what was bridged in its early media) join the one bridge.
function Call:bridge(other, opts)
  opts = opts or {}
  if getmetatable(other) ~= Call then error("call:bridge: expected a call", 2) end
  if other == self then error("call:bridge: a call cannot be bridged to itself", 2) end
  check_options("call:bridge", opts, bridge_options)
  current_task("call:bridge")
  local music = opts.music ~= nil and media.clip_of(opts.music, "call:bridge") or nil
  for _, c in ipairs { self, other } do
    if c.state == "ended" then return c, c.end_reason end
  end
  local br = self.bridged
  if not (br and (br.calls[1] == other or br.calls[2] == other)) then
    if self.bridged then self:unbridge() end
    if other.bridged then other:unbridge() end
    local ok, err = self.core:bridge(other.core, music)
    if not ok then return nil, err end
    br = { calls = { self, other }, waiters = {}, progressed = {} }
    self.bridged, other.bridged = br, br
    open_early(br, self, other)
    open_early(br, other, self)
  end
  local first, why = wait("call:bridge", function(k) br.waiters[#br.waiters + 1] = k end)
  if not first then return nil, why end
  if not opts.keep then
    local survivor = first == self and other or self
    if survivor.state ~= "ended" then survivor:hangup() end
  end
  return first, why
end

-- Parts the bridge the call is in; both calls stay up. True when it was
-- in one.
function Call:unbridge()
  local br = self.bridged
  if not br then return false end
  self.core:unbridge()
  finish(br, nil, "unbridged")
  return true
end

-- From the call's events (call.lua): the call ended (its media parted the
-- bridge in C already), or it has media now (early or answered).
function Call:_bridge_ended(reason)
  finish(self.bridged, self, reason)
end

function Call:_bridge_media()
  local br = self.bridged
  for _, c in ipairs(br.calls) do
    if c ~= self then open_early(br, c, self) end
  end
end

return Call
