-- Newcomer friction on the call API (issue 17): errors raised while C builds a message
-- (run under ASan by `tests/run.sh asan`, where a builder left on the heap is a leak),
-- the answer to a pending call's hangup, 405 with Allow, the dialog's tags, display names
-- in from and uri, several trace sinks, DTMF in early media.
local h = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "helper.lua")
local sip = require "sip"

local function errmsg(e)
  if type(e) == "table" and e.message then return tostring(e.message) end
  return tostring(e)
end

-- alice and bob on UDP on 127.0.0.1.
local function pair(t, aopts, bopts)
  local function make(uri, extra)
    local o = {uri = uri, listen = {"udp:127.0.0.1:0"}}
    for k, v in pairs(extra or {}) do o[k] = v end
    local ua, code, reason = t.ua(o)
    assert(ua, ("sip.ua failed: %s %s"):format(tostring(code), tostring(reason)))
    return ua
  end
  return make("sip:alice@example.com", aopts), make("sip:bob@example.org", bopts)
end

-- A header list whose first value grows the message builder onto the heap and whose
-- second one is refused: the error is raised with the heap buffer built.
local function big_then_bad()
  return {["X-Big"] = {string.rep("a", 4096), "bad\r\nInjected: 1"}}
end

-- A value whose __tostring raises while the builder holds the first one.
local function big_then_raising()
  local bad = setmetatable({}, {__tostring = function() error("tostring refused") end})
  return {["X-Big"] = {string.rep("b", 4096), bad}}
end

describe("an error raised while a message is built", function()
  it("leaves nothing on the heap: ua:call, ua:request, call:send, call:reject, req:respond", function()
    h.run(function(t)
      local alice, bob = pair(t)
      local target = h.uri_of(bob, "udp")
      local incoming = {}
      bob:on("INVITE", function(call)
        incoming[#incoming + 1] = call
        for _, hdrs in ipairs { big_then_bad(), big_then_raising() } do
          local ok, e = pcall(call.reject, call, 486, nil, hdrs)
          assert.is_false(ok)
          assert.is_truthy(errmsg(e):find("line break") or errmsg(e):find("tostring refused"))
        end
        call:answer()
        call:wait()
      end)
      bob:on("MESSAGE", function(req)
        local ok, e = pcall(req.respond, req, 200, nil, big_then_bad())
        assert.is_false(ok)
        assert.matches("line break", errmsg(e))
        req:respond(200)
      end)

      for _, hdrs in ipairs { big_then_bad(), big_then_raising() } do
        local ok, e = pcall(alice.call, alice, target, {headers = hdrs})
        assert.is_false(ok)
        assert.is_truthy(errmsg(e):find("line break") or errmsg(e):find("tostring refused"))
        ok = pcall(alice.request, alice, {method = "OPTIONS", uri = target, headers = hdrs})
        assert.is_false(ok)
      end
      local res = alice:request {method = "MESSAGE", uri = target, body = "hi"}
      assert.equals(200, res and res.status)

      local call, code, reason = alice:call(target)
      assert(call, ("call failed: %s %s"):format(tostring(code), tostring(reason)))
      for _, hdrs in ipairs { big_then_bad(), big_then_raising() } do
        local ok = pcall(call.send, call, {method = "INFO", headers = hdrs})
        assert.is_false(ok)
      end
      call:hangup()
      assert.equals(1, #incoming)
    end)
  end)
end)

describe("call:hangup() on an incoming call not answered yet", function()
  it("sends 480 Temporarily Unavailable, or the status given", function()
    h.run(function(t)
      local alice, bob = pair(t)
      local ended = {}
      bob:on("INVITE", function(call)
        call:ring()
        local status = call.request:header("X-Status")
        assert.is_true(call:hangup(status and math.tointeger(tonumber(status)), status and "Gone Fishing" or nil))
        ended[#ended + 1] = {call.end_reason, call.state}
      end)
      local call, code, reason = alice:call(h.uri_of(bob, "udp"))
      assert.is_nil(call)
      assert.equals(480, code)
      assert.equals("Temporarily Unavailable", reason)
      call, code, reason = alice:call(h.uri_of(bob, "udp"), {headers = {["X-Status"] = "486"}})
      assert.is_nil(call)
      assert.equals(486, code)
      assert.equals("Gone Fishing", reason)
      assert.is_true(h.wait_until(function() return #ended == 2 end))
      assert.equals("ended", ended[1][2])
    end)
  end)

  it("refuses a status that is not 300-699", function()
    h.run(function(t)
      local alice, bob = pair(t)
      local err
      bob:on("INVITE", function(call)
        local ok, e = pcall(call.hangup, call, 200)
        err = errmsg(e)
        call:hangup()
      end)
      alice:call(h.uri_of(bob, "udp"))
      assert.matches("call:hangup: status must be an integer 300%-699", err)
    end)
  end)
end)

-- The folder of the repository (for docs/api.md).
local root = (debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "../../"

describe("a request in a call without a handler", function()
  it("gets 405 with Allow: what the call takes and what it has handlers for", function()
    h.run(function(t)
      local alice, bob = pair(t)
      bob:on("INVITE", function(call)
        call:on("refer", function() return 202 end)
        call:answer()
        call:wait()
      end)
      local call = assert(alice:call(h.uri_of(bob, "udp")))
      for _, method in ipairs { "MESSAGE", "SUBSCRIBE", "NOTIFY" } do
        local ok, code, _, res = call:send { method = method }
        assert.is_nil(ok, method)
        assert.equals(405, code, method)
        local allow = res:header("Allow")
        assert.is_string(allow, method .. " has no Allow")
        local have = {}
        for m in allow:gmatch("[^, ]+") do have[m] = true end
        for _, m in ipairs { "INVITE", "ACK", "BYE", "CANCEL", "UPDATE", "PRACK", "INFO",
                             "OPTIONS", "REFER" } do
          assert.is_true(have[m], method .. ": Allow: " .. allow .. " lacks " .. m)
        end
        assert.is_nil(have.MESSAGE, "Allow: " .. allow)
        assert.is_nil(have.NOTIFY, "Allow: " .. allow)
      end
      local ok, res = call:send { method = "INFO" }
      assert.is_true(ok)
      assert.equals(200, res.status)
      call:hangup()
    end)
  end)

  it("call:on takes the events of the one list and says why it refuses another", function()
    h.run(function(t)
      local alice, bob = pair(t)
      local errs = {}
      bob:on("INVITE", function(call)
        for _, ev in ipairs { "update", "bogus" } do
          local ok, e = pcall(call.on, call, ev, function() end)
          errs[ev] = not ok and errmsg(e)
        end
        for method, by in pairs(require("sip.core").call_methods) do
          if by ~= "call" then call:on(method:lower(), function() return 200 end) end
        end
        return 486
      end)
      alice:call(h.uri_of(bob, "udp"))
      assert.matches("call:on: the call answers UPDATE itself", errs.update)
      assert.matches("call:on: unknown event 'bogus' %(dtmf, ended, hold, info, message, "
                     .. "modified, notify, options, refer, unhold%)", errs.bogus)
    end)
  end)

  it("docs/api.md lists the call's methods as the C list has them", function()
    local f = assert(io.open(root .. "docs/api.md"))
    local text = f:read("a")
    f:close()
    local documented = {}
    for method, by in text:gmatch("\n| (%u+) +| ([^\n]-) |") do documented[method] = by end
    local expect = {
      ["call"] = "^the call",
      ["handler or 200"] = "or 200 without a handler$",
      ["handler or 405"] = "or 405 without a handler$",
      ["handler or transfer"] = "else the call is transferred$",
    }
    local n = 0
    for method, by in pairs(require("sip.core").call_methods) do
      n = n + 1
      assert.is_string(documented[method], method .. " is not in docs/api.md's table")
      assert.matches(expect[by], documented[method], 1, false, method)
      if by ~= "call" then
        assert.truthy(documented[method]:find('call:on("' .. method:lower() .. '")', 1, true))
      end
    end
    local m = 0
    for _ in pairs(documented) do m = m + 1 end
    assert.equals(n, m)
  end)
end)

describe("call.request, call.local_tag and call.remote_tag", function()
  it("are the INVITE sent (outgoing) or received and the dialog's tags, on both sides", function()
    h.run(function(t)
      local alice, bob = pair(t)
      local seen
      bob:on("INVITE", function(call)
        call:ring()
        seen = {request = call.request, local_tag = call.local_tag, remote_tag = call.remote_tag}
        call:answer()
        call:wait()
      end)
      local call = assert(alice:call(h.uri_of(bob, "udp"), {headers = {["X-Case"] = "tags"}}))
      local req = call.request
      assert.is_not_nil(req, "call.request of an outgoing call")
      assert.equals("INVITE", req.method)
      assert.equals("tags", req:header("X-Case"))
      assert.equals(call.id, req.call_id)
      assert.is_string(call.local_tag)
      assert.equals(req.from_tag, call.local_tag)
      assert.equals(seen.local_tag, call.remote_tag)
      assert.equals(seen.remote_tag, call.local_tag)
      assert.equals(seen.request.from_tag, call.local_tag)
      call:hangup()
      assert.equals(seen.local_tag, call.remote_tag, "the tags stay once the call is over")
      assert.equals("INVITE", call.request.method)
    end)
  end)
end)

describe("a display name", function()
  it("in from and in the endpoint's uri goes into the From header", function()
    h.run(function(t)
      local alice, bob = pair(t, {uri = '"Alice Liddell" <sip:alice@example.com>'})
      local froms = {}
      bob:on("INVITE", function(call)
        froms[#froms + 1] = {call.request:header("From"), call.request.from}
        return 486
      end)
      local target = h.uri_of(bob, "udp")
      alice:call(target)
      alice:call(target, {from = '"Carol \\"CC\\" C." <sip:carol@example.com>'})
      alice:call(target, {from = "Dave Smith <sip:dave@example.com>"})
      assert.equals(3, #froms)
      assert.matches('^"Alice Liddell" <sip:alice@example%.com>;tag=%w+$', froms[1][1])
      assert.equals("sip:alice@example.com", froms[1][2])
      assert.matches('^"Carol \\"CC\\" C%." <sip:carol@example%.com>;tag=%w+$', froms[2][1])
      assert.equals("sip:carol@example.com", froms[2][2])
      assert.matches("^Dave Smith <sip:dave@example%.com>;tag=%w+$", froms[3][1])
    end)
  end)

  it("that would break the header is refused, at the script's line, naming the function", function()
    h.run(function(t)
      local alice, bob = pair(t)
      local target = h.uri_of(bob, "udp")
      local here = debug.getinfo(1, "S").short_src
      local cases = {
        {function() alice:call(target, {from = '"Eve\r\nX-Evil: 1" <sip:eve@h>'}) end,
          "ua:call: from: the display name has a line break"},
        {function() alice:call(target, {from = "Eve <sip:eve@h>;tag=forged"}) end,
          "ua:call: from: nothing may follow '>'"},
        {function() alice:call(target, {from = '"Eve <sip:eve@h>'}) end,
          "ua:call: from: the display name's quotes are not closed"},
        {function() alice:call(target, {headers = {["X-A"] = "a\r\nb"}}) end,
          "ua:call: headers: header 'X-A' has a line break"},
        {function() alice:request {method = "MESSAGE", uri = target, from = "Eve, X <sip:e@h>"} end,
          "ua:request: from: the display name has a character that needs quotes"},
        {function() sip.ua {uri = '"Eve\n" <sip:eve@h>'} end,
          "sip.ua: uri: the display name has a line break"},
      }
      for _, c in ipairs(cases) do
        local line = debug.getinfo(c[1], "S").linedefined
        local ok, e = pcall(c[1])
        assert.is_false(ok)
        e = errmsg(e)
        assert.equals(here .. ":" .. line .. ": " .. c[2], e:sub(1, #here + #tostring(line) + 3 + #c[2]))
      end
    end)
  end)
end)

describe("sip.trace", function()
  it("keeps several sinks, each removed on its own; sip.trace(false) removes all", function()
    h.run(function(t)
      local alice, bob = pair(t)
      local uri = h.uri_of(bob, "udp")
      local a, b = {}, {}
      local function sink_a(ev) a[#a + 1] = ev end
      local stop_a = sip.trace(sink_a)
      local stop_b = sip.trace(function(ev) b[#b + 1] = ev end)
      assert.is_function(stop_a)
      assert.is_function(sip.trace(sink_a))  -- the same sink again: still once
      local failing = sip.trace(function() error("a sink that fails (expected on stderr)") end)
      assert.is_not_nil((alice:request {method = "OPTIONS", uri = uri}))
      assert.equals(4, #a)
      assert.equals(4, #b)
      assert.equals(a[1], b[1])
      failing()
      stop_a()
      assert.is_not_nil((alice:request {method = "OPTIONS", uri = uri}))
      assert.equals(4, #a)
      assert.equals(8, #b)
      stop_a()  -- removing twice does nothing
      local c = {}
      sip.trace(function(ev) c[#c + 1] = ev end)
      sip.trace(false)
      assert.is_not_nil((alice:request {method = "OPTIONS", uri = uri}))
      assert.equals(8, #b)
      assert.equals(0, #c)
      stop_b()
    end)
  end)

  it("prints with sip.trace(true) while a function sink gets the events too", function()
    local code, out, err = h.script([[
      local sip = require "sip"
      sip.trace(true)
      local n = 0
      sip.trace(function() n = n + 1 end)
      sip.run(function()
        local a = sip.ua{listen = {"udp:127.0.0.1:0"}}
        local b = sip.ua{listen = {"udp:127.0.0.1:0"}}
        local host, port = b:address("udp")
        local res = a:request{method = "OPTIONS", uri = ("sip:bob@%s:%d"):format(host, port)}
        a:close(); b:close()
        io.stderr:write("status ", tostring(res and res.status), " sink ", n, "\n")
      end)
    ]], 10)
    local all = out .. err
    assert.equal(0, code, all)
    assert.truthy(all:find("status 200 sink 4", 1, true), all)
    assert.truthy(all:find("OPTIONS sip:bob@127.0.0.1:", 1, true), all)
    assert.truthy(all:find("SIP/2.0 200", 1, true), all)
  end)
end)

describe("call:send_dtmf in early media (RFC 3960)", function()
  it("reaches a callee that sent 183 with SDP, before it answers", function()
    h.run(function(t)
      local alice, bob = pair(t)
      local digits, answered = "", false
      bob:on("INVITE", function(c)
        c:on("dtmf", function(_, d) digits = digits .. d end)
        assert(c:progress())
        assert.is_true(h.wait_until(function() return digits == "12#" end, 5), "digits: " .. digits)
        answered = true
        c:answer()
        c:wait()
      end)
      local sent
      local call = assert(alice:call(h.uri_of(bob, "udp"), {
        on_early = function(c)
          assert.equals("early", c.state)
          sent = table.pack(c:send_dtmf("12#"))
        end,
      }))
      assert.same({true, n = 1}, sent)
      assert.is_true(answered)
      assert.equals("12#", digits)
      call:hangup()
    end)
  end)
end)
