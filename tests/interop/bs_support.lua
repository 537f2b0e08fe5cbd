-- Helpers of the baresip call scripts (tests/interop/bs_*.lua), on top of
-- support.lua: the message flow of one call as a list of short labels, its
-- comparison with the expected flow, and SDP directions.

local t = require "support"

local M = {}

-- RTP_PORTS=first-last (the harness keeps the range away from baresip's).
function M.rtp_ports()
  local first, last = t.env("RTP_PORTS"):match("^(%d+)%-(%d+)$")
  assert(first, "RTP_PORTS must be FIRST-LAST")
  return { tonumber(first), tonumber(last) }
end

-- The trace entries of one Call-ID, in order, without retransmissions: on
-- UDP a message sent again is the same text, and only its first copy tells
-- anything about the flow.
function M.call_entries(events, call_id)
  local seen, found = {}, {}
  for _, e in ipairs(events) do
    if e.msg and t.header(e.msg, "Call-ID") == call_id then
      local key = e.dir .. "\0" .. e.text
      if not seen[key] then
        seen[key] = true
        found[#found + 1] = e
      end
    end
  end
  return found
end

-- "out INVITE", "in 180 INVITE" (a response is named after its CSeq method).
function M.label(e)
  if e.msg.method then return e.dir .. " " .. e.msg.method end
  local _, method = t.cseq(e.msg)
  return ("%s %d %s"):format(e.dir, e.msg.status, tostring(method))
end

function M.labels(entries)
  local list = {}
  for i, e in ipairs(entries) do list[i] = M.label(e) end
  return list
end

-- expected: labels in order; one ending in "?" is a message the peer may
-- or may not send (a 100 Trying to a re-INVITE, for instance).
function M.flow_matches(got, expected)
  local i, j = 1, 1
  while j <= #expected do
    local want = expected[j]
    local optional = want:sub(-1) == "?"
    if optional then want = want:sub(1, -2) end
    if got[i] == want then
      i, j = i + 1, j + 1
    elseif optional then
      j = j + 1
    else
      return false
    end
  end
  return i == #got + 1
end

-- check(name) that the call's deduplicated flow is exactly `expected`.
function M.check_flow(name, events, call_id, expected)
  if not call_id then
    return t.check(name, false, "no call, so no flow to compare")
  end
  local got = M.labels(M.call_entries(events, call_id))
  return t.check(name, M.flow_matches(got, expected), "got [%s], expected [%s]",
    table.concat(got, ", "), table.concat(expected, ", "))
end

-- The entries of the call that satisfy pred(entry, msg, label).
function M.find(events, call_id, pred)
  local found = {}
  for _, e in ipairs(M.call_entries(events, call_id or "")) do
    if pred(e, e.msg, M.label(e)) then found[#found + 1] = e end
  end
  return found
end

-- The response to a request entry: same direction reversed, same CSeq.
function M.response_to(events, call_id, request, status)
  local n = t.cseq(request.msg)
  local dir = request.dir == "in" and "out" or "in"
  return M.find(events, call_id, function(e, m)
    local rn, method = t.cseq(m)
    return e.dir == dir and m.status == status and rn == n and method == request.msg.method
  end)[1]
end

-- Waits (at most `seconds`) until the call has an entry with this label:
-- call:hangup() does not wait for the answer to its BYE.
function M.wait_label(sip, events, call_id, label, seconds)
  return t.wait_for(sip, seconds, function()
    return M.find(events, call_id, function(_, _, l) return l == label end)[1] ~= nil
  end)
end

-- Direction of the (first) audio stream of an SDP body: its media-level
-- attribute, else the session-level one, else sendrecv (RFC 3264 5.1).
function M.sdp_direction(body)
  if type(body) ~= "string" or not body:find("m=") then return nil end
  local session, media = body:match("^(.-)\r?\nm=(.*)$")
  session, media = session or "", media or body
  media = media:match("^(.-)\r?\nm=") or media
  local function dir(text)
    for line in (text .. "\n"):gmatch("(.-)\r?\n") do
      local a = line:match("^a=(%a+)%s*$")
      if a == "sendrecv" or a == "sendonly" or a == "recvonly" or a == "inactive" then
        return a
      end
    end
  end
  return dir(media) or dir(session) or "sendrecv"
end

function M.entry_direction(e)
  return e and M.sdp_direction(e.msg.body)
end

-- A short, one-line description of values for a failed check.
function M.show(...)
  local parts = {}
  for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
  return table.concat(parts, ", ")
end

return M
