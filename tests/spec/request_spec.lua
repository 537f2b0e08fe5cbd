-- Requests outside a call: ua:request and ua:on over UDP and TCP, handler answers, the
-- answers a UA gives by itself, 408 (Timer F), 503 (transport failure), the switch to TCP for
-- big requests (RFC 3261 18.1.1) and the trace events.
local h = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "helper.lua")
local sip = require "sip"

-- alice and bob, each listening on UDP and TCP on 127.0.0.1.
local function pair(t, alice_timers)
  local alice = t.ua{uri = "sip:alice@example.com",
    listen = {"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}, timers = alice_timers}
  local bob = t.ua{uri = "sip:bob@example.org", listen = {"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}}
  return alice, bob
end

local function failed(code, reason)
  return ("request failed: %s %s"):format(tostring(code), tostring(reason))
end

local TEXT = {["Content-Type"] = "text/plain"}

for _, tr in ipairs{"udp", "tcp"} do
  describe("requests over " .. tr, function()
    it("OPTIONS without a handler is answered 200 with Allow, Accept and Supported", function()
      h.run(function(t)
        local alice, bob = pair(t)
        for _, dir in ipairs{{alice, bob}, {bob, alice}} do
          local res, code, reason = dir[1]:request{method = "OPTIONS", uri = h.uri_of(dir[2], tr)}
          assert.is_not_nil(res, failed(code, reason))
          assert.equal(200, res.status)
          assert.equal("OK", res.reason)
          local allow = res:header("Allow")
          assert.is_string(allow)
          assert.truthy(allow:find("OPTIONS", 1, true), "Allow: " .. allow)
          assert.equal(allow, res:header("allow")) -- header names are case-insensitive
          assert.is_string(res:header("Accept"))
          assert.is_string(res:header("Supported"))
          assert.is_nil(res:header("X-Not-There"))
        end
      end)
    end)

    it("MESSAGE brings the body and headers to the handler, both ways", function()
      h.run(function(t)
        local alice, bob = pair(t)
        local seen = {}
        local function handler(name)
          return function(req)
            seen[name] = {method = req.method, uri = req.uri, from = req.from, to = req.to,
              call_id = req.call_id, body = req.body, subject = req:header("Subject"),
              subject_lc = req:header("subject"), ctype = req:header("Content-Type"),
              missing = req:header("X-Not-There")}
            return 200
          end
        end
        alice:on("MESSAGE", handler("alice"))
        bob:on("MESSAGE", handler("bob"))

        local to_bob, to_alice = h.uri_of(bob, tr, "bob"), h.uri_of(alice, tr, "alice")
        local res, code, reason = alice:request{method = "MESSAGE", uri = to_bob,
          headers = {["Content-Type"] = "text/plain", Subject = "greeting"}, body = "hello bob"}
        assert.is_not_nil(res, failed(code, reason))
        assert.equal(200, res.status)
        res, code, reason = bob:request{method = "MESSAGE", uri = to_alice,
          headers = {["Content-Type"] = "text/plain", Subject = "reply"}, body = "hello alice"}
        assert.is_not_nil(res, failed(code, reason))
        assert.equal(200, res.status)

        local s = seen.bob
        assert.is_table(s, "bob's handler did not run")
        assert.equal("MESSAGE", s.method)
        assert.equal(to_bob, s.uri)
        assert.truthy(s.from:find("alice@example.com", 1, true), "From: " .. tostring(s.from))
        assert.truthy(s.to:find("bob@", 1, true), "To: " .. tostring(s.to))
        assert.is_string(s.call_id)
        assert.is_true(#s.call_id > 0)
        assert.equal("hello bob", s.body)
        assert.equal("greeting", s.subject)
        assert.equal("greeting", s.subject_lc)
        assert.equal("text/plain", s.ctype)
        assert.is_nil(s.missing)

        s = seen.alice
        assert.is_table(s, "alice's handler did not run")
        assert.equal(to_alice, s.uri)
        assert.truthy(s.from:find("bob@example.org", 1, true), "From: " .. tostring(s.from))
        assert.equal("hello alice", s.body)
        assert.equal("reply", s.subject)
        assert.are_not.equal(seen.alice.call_id, seen.bob.call_id)
      end)
    end)

    it("a handler answers with its return values", function()
      h.run(function(t)
        local alice, bob = pair(t)
        bob:on("MESSAGE", function(req)
          if req.body == "plain" then return 200 end
          if req.body == "full" then return 202, "Accepted", {["X-Reply"] = "yes"}, "thanks" end
        end)
        local uri = h.uri_of(bob, tr)
        local res, code, reason = alice:request{method = "MESSAGE", uri = uri, headers = TEXT,
          body = "plain"}
        assert.is_not_nil(res, failed(code, reason))
        assert.equal(200, res.status)
        assert.equal("OK", res.reason)

        res, code, reason = alice:request{method = "MESSAGE", uri = uri, headers = TEXT,
          body = "full"}
        assert.is_not_nil(res, failed(code, reason))
        assert.equal(202, res.status)
        assert.equal("Accepted", res.reason)
        assert.equal("yes", res:header("X-Reply"))
        assert.equal("yes", res:header("x-reply"))
        assert.equal("thanks", res.body)
      end)
    end)

    it("a handler answers with req:respond(code, reason, headers, body)", function()
      h.run(function(t)
        local alice, bob = pair(t)
        bob:on("MESSAGE", function(req)
          req:respond(200, "Fine", {["X-R"] = "1"}, "body text")
        end)
        local res, code, reason = alice:request{method = "MESSAGE", uri = h.uri_of(bob, tr),
          headers = TEXT, body = "x"}
        assert.is_not_nil(res, failed(code, reason))
        assert.equal(200, res.status)
        assert.equal("Fine", res.reason)
        assert.equal("1", res:header("X-R"))
        assert.equal("body text", res.body)
      end)
    end)

    it("a 3xx-6xx final answer comes back as nil, status, reason", function()
      h.run(function(t)
        local alice, bob = pair(t)
        bob:on("MESSAGE", function(req)
          if req.body == "busy" then return 486, "Busy", {["X-A"] = "1"}, "body" end
          if req.body == "404" then return 404 end
          if req.body == "603" then req:respond(603) return end
          if req.body == "302" then
            return 302, "Moved Temporarily", {Contact = "<sip:carol@127.0.0.1>"}
          end
        end)
        local uri = h.uri_of(bob, tr)
        local expect = {
          {"busy", 486, "Busy"},
          {"404", 404, "Not Found"},
          {"603", 603, "Decline"},
          {"302", 302, "Moved Temporarily"},
        }
        for _, e in ipairs(expect) do
          local res, code, reason = alice:request{method = "MESSAGE", uri = uri, headers = TEXT,
            body = e[1]}
          assert.is_nil(res, e[1] .. ": got a response object for a failure")
          assert.equal(e[2], code)
          assert.equal(e[3], reason)
        end
      end)
    end)

    it("a handler that fails before answering gets the request answered 500", function()
      h.run(function(t)
        local alice, bob = pair(t)
        bob:on("MESSAGE", function(req)
          if req.body == "after" then
            req:respond(200)
          end
          error("planned failure in a MESSAGE handler (expected on stderr)")
        end)
        local uri = h.uri_of(bob, tr)
        local res, code, reason = alice:request{method = "MESSAGE", uri = uri, headers = TEXT,
          body = "before"}
        assert.is_nil(res)
        assert.equal(500, code)
        assert.is_string(reason)
        -- an error after the answer leaves the answer as it was
        res, code, reason = alice:request{method = "MESSAGE", uri = uri, headers = TEXT,
          body = "after"}
        assert.is_not_nil(res, failed(code, reason))
        assert.equal(200, res.status)
        -- and the endpoint still serves requests
        res, code, reason = alice:request{method = "OPTIONS", uri = uri}
        assert.is_not_nil(res, failed(code, reason))
      end)
    end)

    it("a handler may sleep before answering; it runs once however often the client resends", function()
      h.run(function(t)
        local alice, bob = pair(t, {t1 = 0.02})
        local events = t.trace()
        local runs = 0
        bob:on("MESSAGE", function(req)
          runs = runs + 1
          sip.sleep(0.3)
          return 200
        end)
        local t0 = sip.now()
        local res, code, reason = alice:request{method = "MESSAGE", uri = h.uri_of(bob, tr),
          headers = TEXT, body = "slow"}
        assert.is_not_nil(res, failed(code, reason))
        assert.equal(200, res.status)
        assert.is_true(sip.now() - t0 >= 0.28)
        assert.equal(1, runs)
        local sent = #h.events(events, "MESSAGE ", "out")
        if tr == "udp" then
          -- T1 = 20 ms: Timer E resends at 20, 60, 140 and 300 ms
          assert.is_true(sent >= 3, "MESSAGE sent " .. sent .. " times over UDP")
        else
          assert.equal(1, sent) -- no retransmission over a reliable transport
        end
      end)
    end)

    it("MESSAGE without a handler gets 405 with an Allow that does not list MESSAGE", function()
      h.run(function(t)
        local alice, bob = pair(t)
        local events = t.trace()
        local res, code, reason = alice:request{method = "MESSAGE", uri = h.uri_of(bob, tr),
          headers = TEXT, body = "anyone?"}
        assert.is_nil(res)
        assert.equal(405, code)
        assert.equal("Method Not Allowed", reason)
        local got = h.events(events, "SIP/2.0 405", "in")
        assert.equal(1, #got)
        local allow = h.header_of(got[1].text, "Allow")
        assert.is_string(allow, "405 without Allow:\n" .. got[1].text)
        assert.truthy(allow:find("OPTIONS", 1, true), "Allow: " .. allow)
        assert.falsy(allow:find("MESSAGE", 1, true), "Allow: " .. allow)
      end)
    end)

    it("SUBSCRIBE, which the endpoint does not handle, gets 405 with Allow", function()
      h.run(function(t)
        local alice, bob = pair(t)
        local events = t.trace()
        local res, code, reason = alice:request{method = "SUBSCRIBE", uri = h.uri_of(bob, tr),
          headers = {Event = "presence", Expires = "60"}}
        assert.is_nil(res)
        assert.equal(405, code)
        assert.equal("Method Not Allowed", reason)
        local got = h.events(events, "SIP/2.0 405", "in")
        assert.equal(1, #got)
        assert.is_string(h.header_of(got[1].text, "Allow"))
      end)
    end)

    it("an unknown method gets 501 Not Implemented", function()
      h.run(function(t)
        local alice, bob = pair(t)
        local res, code, reason = alice:request{method = "FOO", uri = h.uri_of(bob, tr)}
        assert.is_nil(res)
        assert.equal(501, code)
        assert.equal("Not Implemented", reason)
      end)
    end)

    it("serves ten concurrent requests", function()
      h.run(function(t)
        local alice, bob = pair(t)
        local got = {}
        bob:on("MESSAGE", function(req)
          sip.sleep(0.02)
          got[#got + 1] = req.body
          return 200, "OK", {["X-Echo"] = req.body}
        end)
        local uri, results, left = h.uri_of(bob, tr), {}, 10
        for i = 1, 10 do
          sip.spawn(function()
            local res, code = alice:request{method = "MESSAGE", uri = uri, headers = TEXT,
              body = "m" .. i}
            results[i] = res and res:header("X-Echo") or tostring(code)
            left = left - 1
          end)
        end
        assert.is_true(h.wait_until(function() return left == 0 end, 5))
        for i = 1, 10 do assert.equal("m" .. i, results[i]) end
        assert.equal(10, #got)
      end)
    end)
  end)
end

describe("requests", function()
  -- what one turn of the loop sends over UDP leaves in batches of at most
  -- 64 datagrams (csrc/sip/udp_batch.c): 300 at once need five of them
  it("a burst of 300 UDP requests in one turn of the loop all arrive, each once", function()
    h.run(function(t)
      -- a lost datagram would be resent only after T1 = 5 s, beyond the wait
      local alice, bob = pair(t, {t1 = 5, t2 = 8})
      local seen, answered = {}, 0
      bob:on("MESSAGE", function(req)
        seen[req.body] = (seen[req.body] or 0) + 1
        return 200
      end)
      local uri = h.uri_of(bob, "udp")
      for i = 1, 300 do
        sip.spawn(function()
          local res = alice:request{method = "MESSAGE", uri = uri, headers = TEXT, body = "b" .. i}
          if res and res.status == 200 then answered = answered + 1 end
        end)
      end
      assert.is_true(h.wait_until(function() return answered == 300 end, 4))
      for i = 1, 300 do assert.equal(1, seen["b" .. i], "b" .. i) end
    end)
  end)

  it("a handler adds its method to the Allow of the OPTIONS answer", function()
    h.run(function(t)
      local alice, bob = pair(t)
      bob:on("MESSAGE", function() return 200 end)
      local res, code, reason = alice:request{method = "OPTIONS", uri = h.uri_of(bob, "udp")}
      assert.is_not_nil(res, failed(code, reason))
      assert.truthy(res:header("Allow"):find("MESSAGE", 1, true), res:header("Allow"))
    end)
  end)

  it("an OPTIONS handler replaces the default answer", function()
    h.run(function(t)
      local alice, bob = pair(t)
      bob:on("OPTIONS", function(req) return 200, "Custom", {["X-Custom"] = "1"} end)
      local res, code, reason = alice:request{method = "OPTIONS", uri = h.uri_of(bob, "udp")}
      assert.is_not_nil(res, failed(code, reason))
      assert.equal("Custom", res.reason)
      assert.equal("1", res:header("X-Custom"))
    end)
  end)

  it("nobody answering gives nil, 408, 'Request Timeout' after Timer F = 64*T1", function()
    h.run(function(t)
      local alice, bob = pair(t, {t1 = 0.02}) -- Timer F = 1.28 s
      local timed_out = false
      bob:on("MESSAGE", function(req)
        -- no automatic 100 for non-INVITE; answers only once the client gave up
        h.wait_until(function() return timed_out end, 10)
        return 200
      end)
      local t0 = sip.now()
      local res, code, reason = alice:request{method = "MESSAGE", uri = h.uri_of(bob, "udp"),
        headers = TEXT, body = "too slow"}
      local dt = sip.now() - t0
      timed_out = true
      assert.is_nil(res)
      assert.equal(408, code)
      assert.equal("Request Timeout", reason)
      -- not before Timer F = 64*T1 = 1.28 s (less timer rounding); the upper bound, twice
      -- that, is only a guard that it did end, not a speed check
      assert.is_true(dt >= 1.27 and dt < 2 * 1.28, "Timer F fired after " .. dt .. " s")
    end)
  end)

  it("TCP to a closed port gives nil, 503 at once", function()
    h.run(function(t)
      local alice = pair(t, {t1 = 0.1}) -- Timer F = 6.4 s
      local port = h.free_tcp_port()
      local t0 = sip.now()
      local res, code, reason = alice:request{method = "OPTIONS",
        uri = ("sip:x@127.0.0.1:%d;transport=tcp"):format(port)}
      assert.is_nil(res)
      assert.equal(503, code)
      assert.is_string(reason)
      -- at once: on the refused connection, before Timer F (64*T1) would have ended it
      assert.is_true(sip.now() - t0 < 6.4, "took " .. (sip.now() - t0) .. " s")
    end)
  end)

  it("a request over 1300 bytes to a UDP target goes over TCP (RFC 3261 18.1.1)", function()
    h.run(function(t)
      local alice = pair(t)
      -- bob needs UDP and TCP on the same port: probe for a free TCP port, then take it for both
      local bob, port
      for _ = 1, 10 do
        port = h.free_tcp_port()
        bob = t.ua{listen = {"udp:127.0.0.1:" .. port, "tcp:127.0.0.1:" .. port}}
        if bob then break end
      end
      assert.is_not_nil(bob, "could not bind UDP and TCP to one port")
      local bodies = {}
      bob:on("MESSAGE", function(req) bodies[#bodies + 1] = req.body; return 200 end)
      local events = t.trace()
      local uri = ("sip:bob@127.0.0.1:%d"):format(port)
      local big = string.rep("0123456789", 150)
      local res, code, reason = alice:request{method = "MESSAGE", uri = uri, headers = TEXT,
        body = big}
      assert.is_not_nil(res, failed(code, reason))
      assert.equal(200, res.status)
      local res2, code2, reason2 = alice:request{method = "MESSAGE", uri = uri, headers = TEXT,
        body = "small"}
      assert.is_not_nil(res2, failed(code2, reason2))
      assert.equal(big, bodies[1])
      assert.equal("small", bodies[2])
      local sent = h.events(events, "MESSAGE ", "out")
      assert.equal(2, #sent)
      assert.is_true(#sent[1].text > 1300)
      assert.equal("tcp", sent[1].transport)
      assert.equal(port, sent[1].port)
      assert.equal("udp", sent[2].transport)
    end)
  end)
end)

describe("sip.trace(fn)", function()
  it("reports every message sent and received, with its fields", function()
    h.run(function(t)
      local alice, bob = pair(t)
      local _, aport = alice:address("udp")
      local _, bport = bob:address("udp")
      local events = t.trace()
      local res, code, reason = alice:request{method = "OPTIONS", uri = h.uri_of(bob, "udp")}
      assert.is_not_nil(res, failed(code, reason))

      local req_out = h.events(events, "OPTIONS ", "out")
      local req_in = h.events(events, "OPTIONS ", "in")
      local res_out = h.events(events, "SIP/2.0 200", "out")
      local res_in = h.events(events, "SIP/2.0 200", "in")
      assert.equal(1, #req_out)
      assert.equal(1, #req_in)
      assert.equal(1, #res_out)
      assert.equal(1, #res_in)
      assert.equal(4, #events)
      -- out: where it goes; in: where it came from (UDP is sent from the listening socket)
      assert.equal(bport, req_out[1].port)
      assert.equal(aport, req_in[1].port)
      assert.equal(aport, res_out[1].port)
      assert.equal(bport, res_in[1].port)
      for _, ev in ipairs(events) do
        assert.equal("udp", ev.transport)
        assert.equal("127.0.0.1", ev.addr)
        assert.is_number(ev.time)
        assert.truthy(ev.text:find("\r\n\r\n", 1, true), "not a whole message: " .. ev.text)
        assert.truthy(h.header_of(ev.text, "Call-ID"))
      end
      assert.is_true(req_out[1].time <= res_in[1].time)
      assert.truthy(req_out[1].text:find("^OPTIONS sip:bob@127%.0%.0%.1:" .. bport .. " SIP/2%.0\r\n"),
        req_out[1].text)
    end)
  end)

  it("names the transport tcp for TCP messages", function()
    h.run(function(t)
      local alice, bob = pair(t)
      local events = t.trace()
      local res, code, reason = alice:request{method = "OPTIONS", uri = h.uri_of(bob, "tcp")}
      assert.is_not_nil(res, failed(code, reason))
      assert.equal(4, #events)
      for _, ev in ipairs(events) do assert.equal("tcp", ev.transport) end
    end)
  end)

  it("stops with sip.trace(false)", function()
    h.run(function(t)
      local alice, bob = pair(t)
      local events = t.trace()
      assert.is_not_nil((alice:request{method = "OPTIONS", uri = h.uri_of(bob, "udp")}))
      local n = #events
      assert.is_true(n > 0)
      sip.trace(false)
      assert.is_not_nil((alice:request{method = "OPTIONS", uri = h.uri_of(bob, "udp")}))
      assert.equal(n, #events)
    end)
  end)
end)

describe("request bodies", function()
  it("a body sent without Content-Type goes out as text/plain; one with a type keeps it", function()
    h.run(function(t)
      local alice, bob = pair(t)
      local types = {}
      bob:on("MESSAGE", function(req)
        types[#types + 1] = req:header("Content-Type") or "(none)"
        return 200
      end)
      local uri = h.uri_of(bob, "udp", "bob")
      assert.is_not_nil(alice:request{method = "MESSAGE", uri = uri, body = "plain"})
      assert.is_not_nil(alice:request{method = "MESSAGE", uri = uri, body = "{}",
        headers = {["content-type"] = "application/json"}})
      assert.is_not_nil(alice:request{method = "MESSAGE", uri = uri})
      assert.same({"text/plain", "application/json", "(none)"}, types)
    end)
  end)
end)
