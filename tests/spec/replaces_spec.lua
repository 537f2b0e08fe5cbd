-- Headers in a URI (RFC 3261 §19.1.5) and INVITEs with Replaces (RFC 3891), between endpoints
-- of one process on loopback: what a URI's headers put into a request and what they may not;
-- the transfer target's side of an attended transfer (a call A<->B, then C calls B with a
-- Replaces naming that dialog: B answers C and A's call ends "replaced"), and the refusals
-- of §3 (481, 603, 486).
local h = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "helper.lua")
local sip = require "sip"

local function failed(code, reason)
  return ("call failed: %s %s"):format(tostring(code), tostring(reason))
end

local function errmsg(e)
  if type(e) == "table" and e.message then return tostring(e.message) end
  return tostring(e)
end

local function endpoint(t, user)
  local ua = t.ua{uri = ("sip:%s@example.com"):format(user), listen = {"udp:127.0.0.1:0"}}
  assert(ua, "sip.ua failed")
  return ua
end

-- Every incoming call of ua is answered and kept in the list returned.
local function answering(ua)
  local calls = {}
  ua:on("INVITE", function(call)
    calls[#calls + 1] = call
    call:answer()
    call:wait()
  end)
  return calls
end

-- A URI header value escaped as RFC 3261 §19.1.1 asks (all but unreserved characters).
local function escape(s)
  return (s:gsub("[^%w%-%._~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

describe("a URI with headers", function()
  it("puts them into the INVITE unescaped; the Request-URI and To are the URI without them", function()
    h.run(function(t)
      local alice, bob = endpoint(t, "alice"), endpoint(t, "bob")
      local calls = answering(bob)
      local target = h.uri_of(bob, "udp")
      local call, code, reason = alice:call(target .. "?Subject=hello%20there&X-Ticket=42%3B7",
        {headers = {Priority = "urgent"}})
      assert.is_not_nil(call, failed(code, reason))
      local req = calls[1].request
      assert.equal(target, req.uri)
      assert.equal("<" .. target .. ">", req:header("To"))
      assert.equal("hello there", req:header("Subject"))
      assert.equal("42;7", req:header("X-Ticket"))
      assert.equal("urgent", req:header("Priority"))
      assert.equal(target, call.remote_uri)
      call:hangup()
    end)
  end)

  it("puts them and a body= into a request of ua:request", function()
    h.run(function(t)
      local alice, bob = endpoint(t, "alice"), endpoint(t, "bob")
      local got
      bob:on("MESSAGE", function(req) got = req return 200 end)
      local target = h.uri_of(bob, "udp")
      local res, code, reason = alice:request{method = "MESSAGE",
        uri = target .. "?Content-Type=text/plain&body=hi%20bob%0D%0A"}
      assert.is_not_nil(res, failed(code, reason))
      assert.equal(target, got.uri)
      assert.equal("text/plain", got:header("Content-Type"))
      assert.equal("hi bob\r\n", got.body)
    end)
  end)

  it("that is malformed or must not come from a URI raises an error naming it", function()
    h.run(function(t)
      local alice, bob = endpoint(t, "alice"), endpoint(t, "bob")
      answering(bob)
      local target = h.uri_of(bob, "udp")
      for uri, why in pairs{
        [target .. "?Subject"] = "has no '='",
        [target .. "?Subject=100%"] = "badly escaped",
        [target .. "?Subject=a%0D%0AX-Evil:%201"] = "line break",
        [target .. "?From=sip:mallory@h"] = "From cannot come from a URI",
        [target .. "?call-id=x"] = "call-id cannot come from a URI",
        [target .. "?Route=%3Csip:evil%3E"] = "Route cannot come from a URI",
        [target .. "?body=v=0"] = "body=",
      } do
        local ok, e = pcall(alice.call, alice, uri)
        assert.is_false(ok, uri .. " was called")
        assert.truthy(errmsg(e):find("ua:call: ", 1, true), errmsg(e))
        assert.truthy(errmsg(e):find(why, 1, true), errmsg(e))
      end
      local ok, e = pcall(alice.request, alice, {method = "MESSAGE", uri = target .. "?Via=x"})
      assert.is_false(ok)
      assert.truthy(errmsg(e):find("ua:request: the header Via cannot come from a URI", 1, true),
        errmsg(e))
      ok, e = pcall(alice.request, alice, {method = "MESSAGE", uri = target .. "?body=a", body = "b"})
      assert.is_false(ok)
      assert.truthy(errmsg(e):find("body=", 1, true), errmsg(e))
    end)
  end)
end)

describe("an INVITE with Replaces", function()
  -- alice calls bob; returns alice's call and bob's, both up.
  local function a_calls_b(alice, bob, bob_calls)
    local n = #bob_calls
    local ab, code, reason = alice:call(h.uri_of(bob, "udp"))
    assert(ab, failed(code, reason))
    assert(h.wait_until(function() return bob_calls[n + 1] and bob_calls[n + 1].state == "confirmed" end))
    return ab, bob_calls[n + 1]
  end

  -- The Replaces that names call's dialog as the far end of call sees it: its to-tag is the
  -- tag of call's side, its from-tag the other side's (RFC 3891 §3).
  local function replaces_of(call, params)
    return ("%s;to-tag=%s;from-tag=%s%s"):format(call.id, call.local_tag, call.remote_tag,
      params or "")
  end

  it("takes the place of the call it names once answered: that call ends 'replaced' (BYE)", function()
    h.run(function(t)
      local alice, bob, carol = endpoint(t, "alice"), endpoint(t, "bob"), endpoint(t, "carol")
      local bob_calls = answering(bob)
      local events = t.trace()
      local ab, ba = a_calls_b(alice, bob, bob_calls)
      assert.is_nil(ba.replaces)
      local waited
      sip.spawn(function() waited = table.pack(ba:wait()) end)

      local replaces = replaces_of(ba)
      local cb, code, reason = carol:call(h.uri_of(bob, "udp") .. "?Replaces=" .. escape(replaces),
        {headers = {Require = "replaces"}})
      assert.is_not_nil(cb, failed(code, reason))
      local bc = bob_calls[2]
      assert.equal(replaces, bc.request:header("Replaces"))
      assert.equal(h.uri_of(bob, "udp"), bc.request.uri)
      assert.equal(ba, bc.replaces)
      assert.is_true(h.wait_until(function() return bc.state == "confirmed" end))

      -- bob's old call: ended "replaced", its wait() returns the new call
      assert.is_true(h.wait_until(function() return waited ~= nil end))
      assert.same({"replaced", bc, n = 2}, waited)
      assert.equal("replaced", ba.end_reason)
      assert.equal(bc, ba.replaced_by)
      assert.same({"replaced", bc}, {ba:wait()})
      -- alice hears a BYE
      assert.is_true(h.wait_until(function() return ab.state == "ended" end))
      assert.equal("hangup", ab:wait())
      local byes = h.events(events, "BYE ", "out")
      assert.equal(1, #byes)
      assert.equal(ab.id, h.header_of(byes[1].text, "Call-ID"))
      assert.equal("confirmed", cb.state)
      cb:hangup()
    end)
  end)

  it("is refused: 481 naming no call, 603 an ended one, 486 early-only for an answered one", function()
    h.run(function(t)
      local alice, bob, carol = endpoint(t, "alice"), endpoint(t, "bob"), endpoint(t, "carol")
      local bob_calls = answering(bob)
      local ab, ba = a_calls_b(alice, bob, bob_calls)
      local target = h.uri_of(bob, "udp") .. "?Replaces="

      -- the tags the wrong way round name no dialog of bob's
      local wrong = ("%s;to-tag=%s;from-tag=%s"):format(ba.id, ba.remote_tag, ba.local_tag)
      local call, code = carol:call(target .. escape(wrong))
      assert.is_nil(call)
      assert.equal(481, code)
      call, code = carol:call(target .. escape(replaces_of(ba, ";early-only")))
      assert.is_nil(call)
      assert.equal(486, code)
      assert.equal("confirmed", ba.state)
      assert.equal(1, #bob_calls)  -- the script saw none of them

      ab:hangup()
      assert.is_true(h.wait_until(function() return ba.state == "ended" end))
      call, code = carol:call(target .. escape(replaces_of(ba)))
      assert.is_nil(call)
      assert.equal(603, code)
      assert.equal(1, #bob_calls)
    end)
  end)
end)
