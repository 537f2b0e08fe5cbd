-- Forwarding by redirection: ua:call{follow = true | n} follows 3xx (RFC 3261 §8.1.3.4)
-- through Contacts in q order, never calls a target twice, ends a redirect loop with the
-- last failure and reports call.history; without follow a 3xx comes back with
-- res.contacts in q order; call:redirect{...} sends several Contacts, q descending.
local h = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "helper.lua")

local function endpoint(t, name)
  local ua, code, reason = t.ua { uri = "sip:" .. name .. "@example.com", listen = { "udp:127.0.0.1:0" } }
  assert(ua, ("sip.ua failed: %s %s"):format(tostring(code), tostring(reason)))
  return ua
end

-- An endpoint whose INVITE handler is fn; counts the INVITEs it got in seen[name].
local function party(t, name, seen, fn)
  local ua = endpoint(t, name)
  ua:on("INVITE", function(call)
    seen[name] = (seen[name] or 0) + 1
    return fn(call)
  end)
  return ua, h.uri_of(ua, "udp", name)
end

local function statuses(history)
  local out = {}
  for i, e in ipairs(history or {}) do out[i] = e.uri .. " " .. tostring(e.status) end
  return out
end

describe("forwarding by redirection", function()
  it("follows 3xx: Contacts in q order, a failing target makes way for the next", function()
    h.run(function(t)
      local seen = {}
      local _, carol = party(t, "carol", seen, function() return 486 end)
      local _, dave = party(t, "dave", seen, function(call) call:answer(); call:wait() end)
      local _, erin = party(t, "erin", seen, function() return 480 end)
      -- bob lists dave last but with the highest q; carol and erin follow in list order
      local _, bob = party(t, "bob", seen, function(call)
        call:reject(302, nil, { Contact = ("<%s>;q=0.5, <%s>;q=0.5, <%s>;q=0.9"):format(carol, erin, dave) })
      end)
      local alice = endpoint(t, "alice")
      local call, code, reason = alice:call(bob, { follow = true })
      assert(call, ("call failed: %s %s"):format(tostring(code), tostring(reason)))
      assert.same({ bob .. " 302", dave .. " 200" }, statuses(call.history))
      assert.is_nil(seen.carol)
      call:hangup()
    end)
  end)

  it("tries the next Contact after a failure, and call:redirect{...} sends q descending", function()
    h.run(function(t)
      local seen = {}
      local _, carol = party(t, "carol", seen, function() return 486 end)
      local _, dave = party(t, "dave", seen, function(call) call:answer(); call:wait() end)
      local _, bob = party(t, "bob", seen, function(call) call:redirect { carol, dave } end)
      local alice = endpoint(t, "alice")
      local call, code, reason = alice:call(bob, { follow = 3 })
      assert(call, ("call failed: %s %s"):format(tostring(code), tostring(reason)))
      assert.same({ bob .. " 302", carol .. " 486", dave .. " 200" }, statuses(call.history))
      assert.equal("Moved Temporarily", call.history[1].reason)
      assert.equal(1, seen.carol)
      call:hangup()
    end)
  end)

  it("ends a redirect loop with the last failure, each target called once", function()
    h.run(function(t)
      local seen, bob, carol, _ = {}, nil, nil, nil
      _, carol = party(t, "carol", seen, function(call) call:redirect(bob) end)
      _, bob = party(t, "bob", seen, function(call) call:redirect(carol) end)
      local alice = endpoint(t, "alice")
      local call, code, reason, res, history = alice:call(bob, { follow = true })
      assert.is_nil(call)
      assert.equal(302, code)
      assert.equal("Moved Temporarily", reason)
      assert.equal(302, res.status)
      assert.same({ bob .. " 302", carol .. " 302" }, statuses(history))
      assert.same({ bob = 1, carol = 1 }, seen)
    end)
  end)

  it("stops after n hops with the last 3xx", function()
    h.run(function(t)
      local seen = {}
      local _, dave = party(t, "dave", seen, function(call) call:answer(); call:wait() end)
      local _, carol = party(t, "carol", seen, function(call) call:redirect(dave, 301) end)
      local _, bob = party(t, "bob", seen, function(call) call:redirect(carol) end)
      local alice = endpoint(t, "alice")
      local call, code, _, res, history = alice:call(bob, { follow = 1 })
      assert.is_nil(call)
      assert.equal(301, code)
      assert.same({ dave }, res.contacts)
      assert.same({ bob .. " 302", carol .. " 301" }, statuses(history))
      assert.is_nil(seen.dave)
    end)
  end)

  it("answers a digest challenge of a target it was redirected to", function()
    h.run(function(t)
      local seen, auth = {}, nil
      local _, carol = party(t, "carol", seen, function(call)
        auth = call.request:header("Authorization")
        if not auth then
          return 401, "Unauthorized", { ["WWW-Authenticate"] = 'Digest realm="c", nonce="n1", algorithm=MD5' }
        end
        call:answer()
        call:wait()
      end)
      local _, bob = party(t, "bob", seen, function(call) call:redirect(carol) end)
      local alice = endpoint(t, "alice")
      local call, code, reason = alice:call(bob, { follow = true, auth = { user = "alice", password = "pw" } })
      assert(call, ("call failed: %s %s"):format(tostring(code), tostring(reason)))
      assert.equal(2, seen.carol)
      assert.truthy(auth:find('uri="' .. carol .. '"', 1, true), auth)
      assert.same({ bob .. " 302", carol .. " 200" }, statuses(call.history))
      call:hangup()
    end)
  end)

  it("without follow returns the 3xx with res.contacts in q order", function()
    h.run(function(t)
      local seen = {}
      local _, bob = party(t, "bob", seen, function(call)
        call:reject(302, nil, { Contact = "<sip:x@127.0.0.1:9>;q=0.2, <sip:y@127.0.0.1:9>;q=0.7, <sip:z@127.0.0.1:9>" })
      end)
      local alice = endpoint(t, "alice")
      local call, code, reason, res, history = alice:call(bob)
      assert.is_nil(call)
      assert.equal(302, code)
      assert.equal("Moved Temporarily", reason)
      assert.same({ "sip:z@127.0.0.1:9", "sip:y@127.0.0.1:9", "sip:x@127.0.0.1:9" }, res.contacts)
      assert.is_nil(history)
    end)
  end)

  it("call:redirect{...} lists the Contacts with q descending", function()
    h.run(function(t)
      local seen = {}
      local _, bob = party(t, "bob", seen, function(call)
        call:redirect({ "sip:c@127.0.0.1:9", "sip:d@127.0.0.1:9" }, 300)
      end)
      local alice = endpoint(t, "alice")
      local _, code, _, res = alice:call(bob)
      assert.equal(300, code)
      assert.equal("<sip:c@127.0.0.1:9>;q=1.0, <sip:d@127.0.0.1:9>;q=0.9", res:header("Contact"))
      assert.same({ "sip:c@127.0.0.1:9", "sip:d@127.0.0.1:9" }, res.contacts)
    end)
  end)

  it("refuses a bad follow and a bad redirect", function()
    h.run(function(t)
      local alice = endpoint(t, "alice")
      local ok, err = pcall(alice.call, alice, "sip:b@127.0.0.1:9", { follow = "yes" })
      assert.is_false(ok)
      assert.truthy(tostring(err):find("follow", 1, true))
      local errs = {}
      local bob = endpoint(t, "bob")
      bob:on("INVITE", function(call)
        errs[1] = select(2, pcall(call.redirect, call, {}))
        errs[2] = select(2, pcall(call.redirect, call, { "sip:c@127.0.0.1:9" }, 486))
        errs[3] = select(2, pcall(call.redirect, call, { "sip:c@x>" }))
        return 486
      end)
      alice:call(h.uri_of(bob, "udp"))
      assert.truthy(tostring(errs[1]):find("call:redirect", 1, true))
      assert.truthy(tostring(errs[2]):find("300-399", 1, true))
      assert.truthy(tostring(errs[3]):find("URI", 1, true))
    end)
  end)
end)
