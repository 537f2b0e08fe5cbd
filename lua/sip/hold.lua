-- Hold (RFC 3264 §8.4, RFC 6337 §5): call:hold offers sendonly and loops
-- music to the held party once the far end agreed; call:unhold offers
-- sendrecv and stops that music. While the far end holds us, sip.core
-- offers without sending (inactive, then recvonly), and the stream sends
-- nothing the agreed direction forbids, music included (csrc/media/flow.c).
-- The methods join the Call class; call.held (sip.call) says who holds.
local options = require "sip.options"
local Call = require "sip.call"
local media = require "sip.media"

local check_options, set = options.check_options, options.set

local hold_options = set { "music", "method" }

-- call:hold{music = file or sip.tone, method = "UPDATE"}: true once
-- answered, or nil, status, reason with the call as it was.
function Call:hold(opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("call:hold: expected a table of options", 2) end
  check_options("call:hold", opts, hold_options)
  local method = Call._offer_method("call:hold", opts.method)
  -- the sound is ready before the offer goes: a bad file is an error
  -- raised here, with nothing sent
  local clip = opts.music ~= nil and media.clip_of(opts.music, "call:hold") or nil
  local ok, code, reason = self:_offer("call:hold", "sendonly", method)
  if not ok then return nil, code, reason end
  if clip and self.state ~= "ended" then
    -- the music replaces what played, whose task is told so
    self:_wake("play", nil, "stopped")
    local played = self.core:play(clip, true)
    self.music = played and true or false
  end
  return true
end

local unhold_options = set { "method" }

-- call:unhold{method = "UPDATE"}: true once answered (the music stops), or
-- nil, status, reason with the call as it was (on hold, the music on).
function Call:unhold(opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("call:unhold: expected a table of options", 2) end
  check_options("call:unhold", opts, unhold_options)
  local method = Call._offer_method("call:unhold", opts.method)
  local ok, code, reason = self:_offer("call:unhold", "sendrecv", method)
  if not ok then return nil, code, reason end
  -- only the hold's own music: a play the script started since goes on
  if self.music then
    self.music = false
    self.core:stop_play()
  end
  return true
end
