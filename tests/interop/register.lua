-- Registration against Kamailio (tests/peers/kamailio.cfg) over one transport:
-- digest auth, the expiry the registrar grants, refresh by it, unregister,
-- and a wrong password.
--
-- Environment:
--   KAM_PORT     registrar port on 127.0.0.1 (UDP and TCP)
--   TRANSPORT    udp | tcp
--   SIP_USER     account that registers (alice); SIP_PASSWORD its password
--   BAD_USER     account tried with a wrong password (bob)
--   EXPIRES      expiry asked for, seconds (default 1).  It must be below the
--                registrar's minimum (4 s in kamailio.cfg), which the registrar
--                grants instead: the checks tell the expiry it chose from the
--                one asked, and refreshes come quickly
--   SIP_TRACE_FILE  optional: every SIP message is written there
--
--   . tests/env.sh && KAM_PORT=5070 TRANSPORT=udp SIP_USER=alice \
--     SIP_PASSWORD=alicepw BAD_USER=bob lua5.4 tests/interop/register.lua

package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local t = require "support"

local port = t.env_number("KAM_PORT")
local transport = t.env("TRANSPORT")
local user = t.env("SIP_USER")
local password = t.env("SIP_PASSWORD")
local bad_user = t.env("BAD_USER")
local expires = t.env_number("EXPIRES", 1)
assert(transport == "udp" or transport == "tcp", "TRANSPORT must be udp or tcp")

local sip = t.require_sip()
local events = t.record(sip)

local registrar = ("sip:127.0.0.1:%d"):format(port)
if transport == "tcp" then registrar = registrar .. ";transport=tcp" end

-- REGISTER requests sent for an AoR user, and the responses to them.
local function registers(aor)
  return t.select(events, function(e, m)
    return e.dir == "out" and m.method == "REGISTER" and t.user_of(m) == aor
  end)
end
local function register_responses(aor, status)
  return t.select(events, function(e, m)
    local _, method = t.cseq(m)
    return e.dir == "in" and m.status and method == "REGISTER" and t.user_of(m) == aor
      and (status == nil or m.status == status)
  end)
end

t.main(sip, function(track)
  local ua = track(sip.ua{
    uri = ("sip:%s@test.local"):format(user),
    listen = { "udp:127.0.0.1:0", "tcp:127.0.0.1:0" },
  })

  -- 1. register: the registrar challenges with 401, the library answers.
  local started = sip.now()
  local reg, code, reason = ua:register{
    registrar = registrar, user = user, password = password, expires = expires,
  }
  local first_ok = register_responses(user, 200)[1]
  local challenged = register_responses(user, 401)[1]
  local with_auth = t.select(registers(user), function(_, m)
    return t.header(m, "Authorization") ~= nil
  end)[1]
  t.check("register with digest auth", reg ~= nil and first_ok and challenged and with_auth,
    "register returned %s, %s, %s; trace: %s", tostring(reg), tostring(code),
    tostring(reason), t.describe(t.select(events, function(_, m)
      return t.user_of(m) == user end)))
  if not (reg and first_ok) then
    t.diag("no registration: the remaining checks of this script cannot pass")
    return
  end
  -- RFC 3261 10.2.4: the binding lasts what the registrar granted in its 200
  -- (the expires parameter of our Contact, else the Expires header), not
  -- what was asked; this registrar grants more than was asked.
  local own_contact = t.uri_of(t.header(registers(user)[1].msg, "Contact"))
  local granted = t.granted_expires(first_ok.msg, own_contact)
  t.check("reg.expires is the expiry the registrar granted, not the one asked",
    granted ~= nil and granted ~= expires and reg.expires == granted,
    "reg.expires = %s; asked %d; the 200 grants %s to %s (Contact: %s; Expires: %s)%s",
    tostring(reg.expires), expires, tostring(granted), tostring(own_contact),
    tostring(t.header(first_ok.msg, "Contact")), tostring(t.header(first_ok.msg, "Expires")),
    granted == expires and "; the registrar granted what was asked, so this cannot tell" or "")
  granted = granted or expires

  -- 2. refresh: a second 200 to a REGISTER for the AoR must come before the
  -- granted binding expires, and the refresh goes by that expiry: a client
  -- that went by the one it asked would have refreshed before that ran out.
  local refreshed = t.wait_for(sip, granted + 2, function()
    return #register_responses(user, 200) >= 2
  end)
  local oks = register_responses(user, 200)
  local refresh_sent = t.select(registers(user), function(e)
    return e.at > first_ok.at
  end)[1]
  local after = refresh_sent and refresh_sent.at - first_ok.at
  local in_time = after and after > expires + 0.5 and after < granted
  local storm = #registers(user) > 4 * granted
  t.check(("registration refreshed after the asked %d s, before the granted expiry"):format(
      expires), refreshed and in_time and not storm,
    "%d REGISTER sent, %d answered 200 within %.1f s; first refresh %s after the first 200 "
      .. "(asked %d s, granted %d s)", #registers(user), #oks, sip.now() - started,
    after and ("%.2f s"):format(after) or "never", expires, granted)

  -- RFC 3261 10.2.4 / 8.1.1.5: refreshes reuse the Call-ID, CSeq goes up.
  local call_id, last_cseq, order_ok, why = nil, -1, true, ""
  for _, e in ipairs(registers(user)) do
    local id = t.header(e.msg, "Call-ID")
    local n = t.cseq(e.msg)
    call_id = call_id or id
    if id ~= call_id then
      order_ok, why = false, ("Call-ID changed from %s to %s"):format(call_id, tostring(id))
    elseif not n or n <= last_cseq then
      order_ok, why = false, ("CSeq %s after %d"):format(tostring(n), last_cseq)
    end
    last_cseq = n or last_cseq
  end
  t.check("refresh keeps the Call-ID and raises the CSeq", refresh_sent and order_ok,
    refresh_sent and why or "no refresh was sent")

  -- Every REGISTER went to the registrar over the transport it names.
  local wrong = t.select(registers(user), function(e)
    return e.transport ~= transport or tonumber(e.port) ~= port
  end)
  t.check("REGISTER sent over " .. transport, #registers(user) > 0 and #wrong == 0,
    "%d of %d went elsewhere: %s", #wrong, #registers(user), t.describe(wrong))

  -- RFC 3261 10.2: To holds the address of record being registered, which is
  -- the endpoint's own URI; From names who registers (the same here).  A
  -- registrar that tells domains apart would otherwise bind another AoR.
  local aor = ("sip:%s@test.local"):format(user)
  local first = registers(user)[1]
  local to_uri = first and (t.header(first.msg, "To") or ""):match("<([^>]*)>")
  local from_uri = first and (t.header(first.msg, "From") or ""):match("<([^>]*)>")
  t.check("REGISTER binds the endpoint's URI (To and From)",
    to_uri == aor and from_uri == aor,
    "To <%s>, From <%s>; the endpoint's uri is %s", tostring(to_uri),
    tostring(from_uri), aor)

  -- 3. unregister: REGISTER with expiry 0, answered 200.
  local ok, ucode, ureason = reg:unregister()
  local removal = t.select(registers(user), function(_, m)
    return t.register_expires(m) == 0
  end)
  local removal_ok = removal[#removal] and t.select(register_responses(user, 200),
    function(e) return e.at > removal[#removal].at end)[1]
  t.check("unregister sends Expires: 0 and returns true", ok == true and removal_ok,
    "unregister returned %s, %s, %s; REGISTERs with expiry 0: %d", tostring(ok),
    tostring(ucode), tostring(ureason), #removal)
  local unregistered_at = sip.now()
  local count_after_unregister = #registers(user)

  -- 4. wrong password: the registrar challenges again; the call fails with
  -- nil, 401 (or 403), reason and does not keep retrying.
  local bad = track(sip.ua{
    uri = ("sip:%s@test.local"):format(bad_user),
    listen = { "udp:127.0.0.1:0", "tcp:127.0.0.1:0" },
  })
  local breg, bcode, breason = bad:register{
    registrar = registrar, user = bad_user, password = "not-" .. bad_user .. "pw",
    expires = 60,
  }
  local tries = #registers(bad_user)
  t.check("wrong password fails with nil, 401|403, reason",
    breg == nil and (bcode == 401 or bcode == 403) and type(breason) == "string"
      and breason ~= "" and tries <= 2,
    "register returned %s, %s, %s after %d REGISTER requests (at most 2 expected: "
      .. "the same credentials were refused)", tostring(breg), tostring(bcode),
    tostring(breason), tries)
  if breg then pcall(breg.unregister, breg) end

  -- 5. nothing more for the first account once it is unregistered: wait past
  -- the moment the next refresh would have been due.
  sip.sleep(math.max(0, unregistered_at + granted + 1 - sip.now()))
  local late = #registers(user) - count_after_unregister
  t.check("no REGISTER after unregister", late == 0,
    "%d REGISTER sent after unregister returned", late)
end)
