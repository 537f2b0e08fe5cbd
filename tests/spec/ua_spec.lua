-- Endpoints: sip.ua, its listeners and addresses, several per process, IPv6, close, and the
-- errors that misuse and a port in use give.
local h = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "helper.lua")
local sip = require "sip"

local function errmsg(e)
  if type(e) == "table" and e.message then return tostring(e.message) end
  return tostring(e)
end

-- In a task: sip.ua(opts) must raise; returns the message (or nil when it did not raise,
-- after closing what it made).
local function ua_error(opts)
  local ok, ua = pcall(sip.ua, opts)
  if ok then
    if ua then pcall(ua.close, ua) end
    return nil
  end
  return errmsg(ua)
end

-- In a task: binding `listen` must fail with EADDRINUSE, raised or returned.
local function assert_in_use(listen)
  local ok, ua, code = pcall(sip.ua, {listen = {listen}})
  if ok and ua then
    ua:close()
    error("sip.ua bound " .. listen .. " although the port is in use")
  end
  local msg = ok and tostring(code) or errmsg(ua)
  assert.truthy(msg:find("EADDRINUSE", 1, true), "expected EADDRINUSE, got: " .. msg)
end

local function is_loopback6(host)
  return host == "::1" or host == "[::1]"
end

describe("sip.ua", function()
  it("listens on UDP and TCP with port 0 and reports the bound addresses", function()
    h.run(function(t)
      local ua = t.ua{uri = "sip:alice@example.com",
        listen = {"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}}
      for _, tr in ipairs{"udp", "tcp"} do
        local host, port = ua:address(tr)
        assert.equal("127.0.0.1", host)
        assert.equal("integer", math.type(port), tr .. " port: " .. tostring(port))
        assert.is_true(port > 0 and port < 65536)
      end
    end)
  end)

  it("accepts the timers option", function()
    h.run(function(t)
      local ua = t.ua{listen = {"udp:127.0.0.1:0"}, timers = {t1 = 0.5, t2 = 4, t4 = 5}}
      assert.is_not_nil(ua)
      local fast = t.ua{listen = {"udp:127.0.0.1:0"}, timers = {t1 = 0.02}}
      assert.is_not_nil(fast)
    end)
  end)

  it("several endpoints live in one process, on distinct ports, and talk to each other", function()
    h.run(function(t)
      local uas, ports = {}, {}
      for i = 1, 3 do
        uas[i] = t.ua{uri = ("sip:ua%d@example.com"):format(i), listen = {"udp:127.0.0.1:0"}}
        local _, port = uas[i]:address("udp")
        assert.is_nil(ports[port], "two endpoints share port " .. tostring(port))
        ports[port] = true
      end
      local got = {}
      for i = 1, 3 do
        uas[i]:on("MESSAGE", function(req) got[i] = req.body; return 200 end)
      end
      for i = 1, 3 do
        local to = uas[i % 3 + 1]
        local res, code, reason = uas[i]:request{method = "MESSAGE", uri = h.uri_of(to, "udp"),
          headers = {["Content-Type"] = "text/plain"}, body = "from " .. i}
        assert.is_not_nil(res, tostring(code) .. " " .. tostring(reason))
        assert.equal(200, res.status)
      end
      assert.same({"from 3", "from 1", "from 2"}, got)
    end)
  end)

  it("close releases the ports, so they can be bound again", function()
    h.run(function(t)
      local ua = sip.ua{listen = {"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}}
      local _, uport = ua:address("udp")
      local _, tport = ua:address("tcp")
      ua:close()
      -- the sockets are closed by the loop after close returns: try again until they are
      local again, code, reason
      h.wait_until(function()
        again, code, reason = t.ua{listen = {"udp:127.0.0.1:" .. uport, "tcp:127.0.0.1:" .. tport}}
        return again ~= nil
      end, 5)
      assert.is_not_nil(again, tostring(code) .. " " .. tostring(reason))
      local _, p = again:address("udp")
      assert.equal(uport, p)
      _, p = again:address("tcp")
      assert.equal(tport, p)
    end)
  end)

  it("a closed endpoint cannot send (raises, or fails with 'closed')", function()
    h.run(function(t)
      local bob = t.ua{listen = {"udp:127.0.0.1:0"}}
      local ua = sip.ua{listen = {"udp:127.0.0.1:0"}}
      ua:close()
      local ok, res, code = pcall(ua.request, ua, {method = "OPTIONS", uri = h.uri_of(bob, "udp")})
      if ok then
        assert.is_nil(res)
        assert.equal("closed", code)
      end
    end)
  end)

  it("listens on the IPv6 loopback and exchanges requests over UDP and TCP", function()
    h.run(function(t)
      local alice = t.ua{uri = "sip:alice@example.com", listen = {"udp:[::1]:0", "tcp:[::1]:0"}}
      local bob = t.ua{listen = {"udp:[::1]:0", "tcp:[::1]:0"}}
      for _, tr in ipairs{"udp", "tcp"} do
        local host, port = alice:address(tr)
        assert.is_true(is_loopback6(host), tr .. " host: " .. tostring(host))
        assert.equal("integer", math.type(port))
      end
      local events = t.trace()
      local bodies = {}
      bob:on("MESSAGE", function(req) bodies[#bodies + 1] = req.body; return 200 end)
      for _, tr in ipairs{"udp", "tcp"} do
        local res, code, reason = alice:request{method = "MESSAGE", uri = h.uri_of(bob, tr),
          headers = {["Content-Type"] = "text/plain"}, body = "over " .. tr}
        assert.is_not_nil(res, tr .. ": " .. tostring(code) .. " " .. tostring(reason))
        assert.equal(200, res.status)
      end
      assert.same({"over udp", "over tcp"}, bodies)
      local sent = h.events(events, "MESSAGE ", "out")
      assert.equal(2, #sent)
      assert.equal("udp", sent[1].transport)
      assert.equal("tcp", sent[2].transport)
      assert.is_true(is_loopback6(sent[1].addr), "trace addr: " .. tostring(sent[1].addr))
    end)
  end)

  it("an endpoint on IPv4 and IPv6 reaches peers on either", function()
    h.run(function(t)
      local alice = t.ua{listen = {"udp:127.0.0.1:0", "udp:[::1]:0"}}
      local bob6 = t.ua{listen = {"udp:[::1]:0"}}
      local carol4 = t.ua{listen = {"udp:127.0.0.1:0"}}
      for _, peer in ipairs{bob6, carol4} do
        local res, code, reason = alice:request{method = "OPTIONS", uri = h.uri_of(peer, "udp")}
        assert.is_not_nil(res, tostring(code) .. " " .. tostring(reason))
        assert.equal(200, res.status)
      end
    end)
  end)

  it("a UDP port in use gives EADDRINUSE", function()
    h.run(function(t)
      local a = t.ua{listen = {"udp:127.0.0.1:0"}}
      local _, port = a:address("udp")
      assert_in_use("udp:127.0.0.1:" .. port)
    end)
  end)

  it("a TCP port in use gives EADDRINUSE", function()
    h.run(function(t)
      local a = t.ua{listen = {"tcp:127.0.0.1:0"}}
      local _, port = a:address("tcp")
      assert_in_use("tcp:127.0.0.1:" .. port)
    end)
  end)

  describe("raises a clear error on misuse:", function()
    local good = "udp:127.0.0.1:0"
    -- each case: name, options, words of which the message must contain one (the option,
    -- the bad value or the expected type)
    local cases = {
      {"a string instead of the options table", "udp:127.0.0.1:0", {"table"}},
      {"an unknown option", {listen = {good}, bogus_option = 1}, {"bogus_option"}},
      {"listen that is not a table", {listen = 42}, {"listen"}},
      {"a listen entry that is not a string", {listen = {true}}, {"listen", "string"}},
      {"an unknown transport", {listen = {"sctp:127.0.0.1:0"}}, {"sctp"}},
      {"garbage in listen", {listen = {"bogus"}}, {"bogus"}},
      {"an invalid IPv4 address", {listen = {"udp:300.1.2.3:0"}}, {"300.1.2.3"}},
      {"a port out of range", {listen = {"udp:127.0.0.1:70000"}}, {"70000"}},
      {"a port that is not a number", {listen = {"udp:127.0.0.1:five"}}, {"five"}},
      {"a malformed IPv6 address", {listen = {"udp:[::1:0"}}, {"[::1:0"}},
      {"uri that is not a string", {uri = 42, listen = {good}}, {"uri"}},
      {"timers that is not a table", {listen = {good}, timers = 1}, {"timers"}},
      {"a timer that is not a number", {listen = {good}, timers = {t1 = "fast"}}, {"t1"}},
      {"an unknown timer", {listen = {good}, timers = {t9 = 1}}, {"t9"}},
    }
    for _, case in ipairs(cases) do
      local name, opts, words = case[1], case[2], case[3]
      it(name, function()
        local msg
        h.run(function() msg = ua_error(opts) end)
        assert.is_string(msg, "sip.ua did not raise for " .. name)
        local named = false
        for _, w in ipairs(words) do named = named or msg:find(w, 1, true) ~= nil end
        assert.is_true(named, "message names none of '" .. table.concat(words, "', '") .. "': "
          .. msg)
      end)
    end
  end)

  it("ua:on and ua:request raise on wrong argument types", function()
    h.run(function(t)
      local ua = t.ua{listen = {"udp:127.0.0.1:0"}}
      local target = h.uri_of(ua, "udp")
      assert.has_error(function() ua:on("MESSAGE", 42) end)
      assert.has_error(function() ua:on(true, function() end) end)
      assert.has_error(function() ua:request(target) end)
      assert.has_error(function() ua:request{method = "OPTIONS"} end)          -- no uri
      assert.has_error(function() ua:request{method = true, uri = target} end)
      assert.has_error(function() ua:request{method = "OPTIONS", uri = target, bogus = 1} end)
      assert.has_error(function()
        ua:request{method = "OPTIONS", uri = target, headers = "X-A: 1"}
      end)
      assert.has_error(function() ua:request{method = "MESSAGE", uri = target, body = {}} end)
    end)
  end)
end)

describe("sip.ua max_message", function()
  it("drops a message larger than the limit and accepts one within it", function()
    h.run(function(t)
      local small = t.ua{listen = {"udp:127.0.0.1:0"}, max_message = 1024}
      local sender = t.ua{listen = {"udp:127.0.0.1:0"}, timers = {t1 = 0.02}}
      local got = 0
      small:on("MESSAGE", function() got = got + 1 return 200 end)
      local host, port = small:address("udp")
      local uri = ("sip:s@%s:%d;transport=udp"):format(host, port)
      assert.is_not_nil(sender:request{method = "MESSAGE", uri = uri, body = ("x"):rep(100)})
      local res, code = sender:request{method = "MESSAGE", uri = uri, body = ("x"):rep(1200)}
      assert.is_nil(res)
      assert.equal(408, code)
      assert.equal(1, got)
    end)
  end)

  it("raises on a limit out of range", function()
    assert.has_error(function() sip.ua{max_message = 10} end)
    assert.has_error(function() sip.ua{max_message = "big"} end)
  end)
end)
