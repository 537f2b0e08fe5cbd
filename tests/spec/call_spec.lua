-- Calls: ua:call and incoming calls (ua:on("INVITE")) between endpoints of one process on
-- loopback, over UDP and TCP: set-up, provisional responses (reliable ones too) and early
-- media, busy, reject, redirect, digest challenges, no answer (CANCEL, 487; 480 after
-- 64*T1), nobody there (408, 503), release from either side, session changes by re-INVITE
-- and UPDATE and both at once (491), INFO and other requests in a call, failing handlers,
-- max_calls, misuse, closing an endpoint with a call up, RTP ports, late offers, and the
-- collection of ended calls.
local h = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "helper.lua")
local sip = require "sip"

local function errmsg(e)
  if type(e) == "table" and e.message then return tostring(e.message) end
  return tostring(e)
end

local function failed(code, reason)
  return ("call failed: %s %s"):format(tostring(code), tostring(reason))
end

-- alice and bob, each listening on UDP and TCP on 127.0.0.1; extra options per side.
local function pair(t, aopts, bopts)
  local function make(uri, extra)
    local o = {uri = uri, listen = {"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}}
    for k, v in pairs(extra or {}) do o[k] = v end
    local ua, code, reason = t.ua(o)
    assert(ua, ("sip.ua failed: %s %s"):format(tostring(code), tostring(reason)))
    return ua
  end
  return make("sip:alice@example.com", aopts), make("sip:bob@example.org", bopts)
end

-- The audio port of an SDP's m= line and the version of its o= line.
local function sdp_port(sdp)
  return tonumber(sdp:match("\nm=audio (%d+) "))
end
local function sdp_version(sdp)
  return tonumber(sdp:match("^v=0\r\no=%S+ %d+ (%d+) "))
end

-- The direction attribute of an SDP (sendrecv when none is given, RFC 3264 5.1).
local function sdp_dir(sdp)
  for _, d in ipairs{"sendonly", "recvonly", "inactive", "sendrecv"} do
    if sdp:find("a=" .. d .. "\r\n", 1, true) then return d end
  end
  return "sendrecv"
end

-- Trace events of messages starting with `prefix` that the endpoint listening on `ports`
-- (a set) sent, told apart by the sent-by port of their top Via.
local function sent_by(events, prefix, ports)
  local found = {}
  for _, ev in ipairs(events) do
    if ev.dir == "out" and ev.text:sub(1, #prefix) == prefix then
      local via = h.header_of(ev.text, "Via") or ""
      local port = tonumber(via:match("^SIP/2%.0/%a+ [^:;]+:(%d+)"))
      if ports == nil or ports[port] then found[#found + 1] = ev end
    end
  end
  return found
end

local function ports_of(ua)
  local s = {}
  for _, tr in ipairs{"udp", "tcp"} do
    local _, p = ua:address(tr)
    if p then s[p] = true end
  end
  return s
end

-- The CSeq method of a raw message.
local function cseq_method(text)
  return (h.header_of(text, "CSeq") or ""):match("^%d+%s+(%S+)")
end

-- Responses with `status` to requests of `method`, from the trace, optionally by direction.
local function responses(events, status, method, dir)
  local found = {}
  for _, ev in ipairs(h.events(events, "SIP/2.0 " .. status .. " ", dir)) do
    if cseq_method(ev.text) == method then found[#found + 1] = ev end
  end
  return found
end

-- A UDP port that was free a moment ago: nothing listens there.
local function free_udp_port()
  local probe = sip.ua{listen = {"udp:127.0.0.1:0"}}
  local _, port = probe:address("udp")
  probe:close()
  return port
end

-- Whether a local UDP port is bound (by this process or another): binding it fails.
local function udp_bound(port)
  local probe, code = sip.ua{listen = {"udp:127.0.0.1:" .. port}}
  if probe then probe:close() return false end
  return code == "EADDRINUSE"
end

-- The callee side of a test: bob's INVITE handler stores each incoming call in `got`
-- (got.call, got.calls) and runs `script(call)` in the handler's task.
local function callee(bob, script)
  local got = {calls = {}}
  bob:on("INVITE", function(call)
    got.call = call
    got.calls[#got.calls + 1] = call
    return script(call, got)
  end)
  return got
end

-- Answers, then waits for the end; records what answer and wait returned.
local function answer_and_wait(call, got)
  got.answer = table.pack(call:answer())
  got.state_after_answer = call.state
  got.wait = call:wait()
end

-- In a task: whether the call ends within `limit` seconds (the far end's doing, so a
-- plain call:wait() could hang until the watchdog).
local function ends(call, limit)
  return h.wait_until(function() return call.state == "ended" end, limit or 3)
end

for _, tr in ipairs{"udp", "tcp"} do
  describe("a call over " .. tr, function()
    it("is set up: confirmed on both sides, one Call-ID, negotiated G.711, real RTP ports", function()
      h.run(function(t)
        local alice, bob = pair(t)
        local events = t.trace()
        local got = callee(bob, function(call, g)
          g.state_before = call.state
          g.direction = call.direction
          answer_and_wait(call, g)
        end)
        local target = h.uri_of(bob, tr)
        local call, code, reason = alice:call(target, {headers = {Subject = "basic " .. tr}})
        assert.is_not_nil(call, failed(code, reason))
        assert.equal("confirmed", call.state)
        assert.equal("outgoing", call.direction)
        assert.is_true(h.wait_until(function() return got.answer ~= nil end),
          "bob's call:answer() did not return")
        local bc = got.call
        assert.same({true, n = 1}, got.answer)
        assert.equal("incoming", got.state_before)
        assert.equal("incoming", got.direction)
        assert.equal("confirmed", got.state_after_answer)
        assert.equal("confirmed", bc.state)

        -- one dialog: the same Call-ID (the URIs have a spec of their own below)
        assert.is_string(call.id)
        assert.is_true(#call.id > 0)
        assert.equal(call.id, bc.id)
        assert.equal("INVITE", bc.request.method)
        assert.equal(call.id, bc.request.call_id)
        assert.equal("basic " .. tr, bc.request:header("Subject"))
        assert.equal(target, bc.request.uri)
        assert.equal(tr, bc.request.transport)

        -- offer and answer: what one sent is what the other received
        assert.is_string(call.local_sdp)
        assert.is_string(bc.local_sdp)
        assert.truthy(call.local_sdp:find("^v=0\r\n"), call.local_sdp)
        assert.truthy(bc.local_sdp:find("^v=0\r\n"), bc.local_sdp)
        assert.equal(call.local_sdp, bc.remote_sdp)
        assert.equal(bc.local_sdp, call.remote_sdp)

        -- the media each side sends to: the other's m= port, PCMU first as both offer it
        for _, side in ipairs{{call, bc}, {bc, call}} do
          local m, other = side[1].media, side[2]
          assert.is_table(m, "no call.media")
          assert.equal("PCMU", m.codec)
          assert.equal(0, m.pt)
          assert.equal(101, m.dtmf_pt)
          assert.equal("sendrecv", m.dir)
          assert.equal("127.0.0.1", m.addr)
          assert.equal(sdp_port(other.local_sdp), m.port)
        end
        for _, sdp in ipairs{call.local_sdp, bc.local_sdp} do
          local port = sdp_port(sdp)
          assert.equal("integer", math.type(port))
          assert.equal(0, port % 2, "RTP port " .. port .. " is odd")
          assert.is_true(port >= 16384 and port <= 32767, "RTP port " .. port)
          assert.is_true(udp_bound(port), "RTP port " .. port .. " is not bound")
          assert.is_true(udp_bound(port + 1), "RTCP port " .. (port + 1) .. " is not bound")
        end
        assert.are_not.equal(sdp_port(call.local_sdp), sdp_port(bc.local_sdp))

        -- every request alice sent went over the transport of the target
        local aports = ports_of(alice)
        local invites = sent_by(events, "INVITE ", aports)
        assert.equal(1, #invites)
        assert.equal(tr, invites[1].transport)
        assert.equal(call.local_sdp, invites[1].text:match("\r\n\r\n(.*)$"))
        local acks = sent_by(events, "ACK ", aports)
        assert.equal(1, #acks)
        assert.equal(tr, acks[1].transport)
        assert.equal(1, #responses(events, 100, "INVITE", "out"))

        -- alice hangs up: BYE, bob's wait() returns "hangup"
        local ended = {}
        call:on("ended", function(c, why) ended.alice = {c == call, why} end)
        bc:on("ended", function(c, why) ended.bob = {c == bc, why} end)
        call:hangup()
        assert.equal("local", call:wait())
        assert.equal("ended", call.state)
        assert.equal("local", call.end_reason)
        assert.is_true(h.wait_until(function() return got.wait ~= nil end),
          "bob's call:wait() did not return")
        assert.equal("hangup", got.wait)
        assert.equal("ended", bc.state)
        assert.equal("hangup", bc.end_reason)
        assert.is_true(h.wait_until(function() return ended.alice and ended.bob end),
          "on('ended') did not run on both sides")
        assert.same({true, "local"}, ended.alice)
        assert.same({true, "hangup"}, ended.bob)
        local byes = sent_by(events, "BYE ", aports)
        assert.equal(1, #byes)
        assert.equal(tr, byes[1].transport)
        assert.equal(call.id, h.header_of(byes[1].text, "Call-ID"))
        assert.is_true(h.wait_until(function() return #responses(events, 200, "BYE", "in") == 1 end),
          "the BYE was not answered 200")
        -- waiting on a call that is over returns at once
        assert.equal("local", call:wait())
        assert.equal("hangup", bc:wait())
      end)
    end)

    it("has the same URIs at both ends: the caller's remote URI is the To URI it sent", function()
      h.run(function(t)
        local alice, bob = pair(t)
        local events = t.trace()
        local got = callee(bob, answer_and_wait)
        local target = h.uri_of(bob, tr)
        local call, code, reason = alice:call(target)
        assert.is_not_nil(call, failed(code, reason))
        assert.is_true(h.wait_until(function() return got.answer ~= nil end))
        local bc = got.call
        local to = h.header_of(sent_by(events, "INVITE ", ports_of(alice))[1].text, "To")
        assert.equal("<" .. target .. ">", to)
        assert.equal("sip:alice@example.com", call.local_uri)
        assert.equal(call.local_uri, bc.remote_uri)
        assert.equal(target, bc.local_uri)
        assert.equal(target, call.remote_uri) -- RFC 3261 12.1.2: the remote URI is the To URI
        call:hangup()
        assert.is_true(h.wait_until(function() return got.wait ~= nil end))
      end)
    end)

    it("takes its From and To from the from and to options, at both ends", function()
      h.run(function(t)
        local alice, bob = pair(t)
        local events = t.trace()
        local got = callee(bob, answer_and_wait)
        local call, code, reason = alice:call(h.uri_of(bob, tr), {from = "sip:boss@example.com",
          to = "<sip:reception@example.org>"})
        assert.is_not_nil(call, failed(code, reason))
        assert.is_true(h.wait_until(function() return got.answer ~= nil end))
        local invite = sent_by(events, "INVITE ", ports_of(alice))[1].text
        assert.equal("<sip:reception@example.org>", h.header_of(invite, "To"))
        assert.truthy(h.header_of(invite, "From"):find("^<sip:boss@example%.com>;tag="),
          h.header_of(invite, "From"))
        assert.equal("sip:boss@example.com", call.local_uri)
        assert.equal("sip:reception@example.org", call.remote_uri)
        assert.equal("sip:boss@example.com", got.call.remote_uri)
        assert.equal("sip:reception@example.org", got.call.local_uri)
        assert.equal("sip:boss@example.com", got.call.request.from)
        call:hangup()
        assert.is_true(h.wait_until(function() return got.wait ~= nil end))
      end)
    end)

    it("is released by the callee: the caller's wait() returns 'hangup'", function()
      h.run(function(t)
        local alice, bob = pair(t)
        local events = t.trace()
        local got = callee(bob, function(call, g)
          g.answer = table.pack(call:answer())
          sip.sleep(0.1)
          call:hangup()
          g.wait = call:wait()
        end)
        local call, code, reason = alice:call(h.uri_of(bob, tr))
        assert.is_not_nil(call, failed(code, reason))
        assert.is_true(ends(call, 2), "the callee's BYE did not end the call")
        assert.equal("hangup", call:wait())
        assert.equal("ended", call.state)
        assert.equal("hangup", call.end_reason)
        assert.is_true(h.wait_until(function() return got.wait ~= nil end))
        assert.equal("local", got.wait)
        assert.equal("local", got.call.end_reason)
        local byes = sent_by(events, "BYE ", ports_of(bob))
        assert.equal(1, #byes)
        assert.equal(tr, byes[1].transport)
        assert.is_true(h.wait_until(function() return #responses(events, 200, "BYE", "out") == 1 end),
          "the BYE was not answered 200")
      end)
    end)

    it("reports 180 and 183 to on_progress and early media to on_early", function()
      h.run(function(t)
        local alice, bob = pair(t)
        local got = callee(bob, function(call, g)
          call:ring()
          sip.sleep(0.05)
          call:progress()
          g.progress_sdp = call.local_sdp
          sip.sleep(0.05)
          answer_and_wait(call, g)
        end)
        local progress, early = {}, {}
        local call, code, reason = alice:call(h.uri_of(bob, tr), {
          on_progress = function(c, status, why)
            -- 100 Trying is hop by hop and not reported: only what the callee said
            progress[#progress + 1] = {status, why, c.state}
          end,
          on_early = function(c)
            early[#early + 1] = {state = c.state, sdp = c.remote_sdp, media = c.media,
              after = #progress}
          end,
        })
        assert.is_not_nil(call, failed(code, reason))
        assert.same({{180, "Ringing", "early"}, {183, "Session Progress", "early"}}, progress)
        assert.equal(1, #early)
        assert.equal(2, early[1].after) -- on_early comes with the 183, not the 180
        assert.equal("early", early[1].state)
        assert.is_string(got.progress_sdp)
        assert.equal(got.progress_sdp, early[1].sdp)
        assert.is_table(early[1].media)
        assert.equal("PCMU", early[1].media.codec)
        assert.equal(sdp_port(got.progress_sdp), early[1].media.port)
        assert.equal("confirmed", call.state)
        assert.is_true(h.wait_until(function() return got.answer ~= nil end))
        assert.same({true, n = 1}, got.answer)
        -- the 200 repeats the SDP of the 183 (one answer per offer, RFC 3264)
        assert.equal(got.progress_sdp, call.remote_sdp)
        call:hangup()
        assert.is_true(h.wait_until(function() return got.wait ~= nil end))
        assert.equal("hangup", got.wait)
      end)
    end)

    it("answered right after a reliable 180: the PRACK that crosses the 200 gets 200", function()
      -- RFC 3262 3: the 180 (no SDP) may be followed by the 2xx before its PRACK came; the
      -- PRACK still matches an unacknowledged reliable provisional, so no 481
      h.run(function(t)
        local alice, bob = pair(t)
        local events = t.trace()
        local got = callee(bob, function(call, g)
          call:ring()
          answer_and_wait(call, g)
        end)
        local call, code, reason = alice:call(h.uri_of(bob, tr))
        assert.is_not_nil(call, failed(code, reason))
        local ringing = h.events(events, "SIP/2.0 180 ", "out")
        assert.equal(1, #ringing)
        assert.equal("100rel", h.header_of(ringing[1].text, "Require"))
        local pracks = sent_by(events, "PRACK ", ports_of(alice))
        assert.equal(1, #pracks)
        assert.is_true(h.wait_until(function()
          for _, ev in ipairs(events) do
            if ev.dir == "out" and ev.text:find("^SIP/2%.0 ") and cseq_method(ev.text) == "PRACK" then
              return true
            end
          end
        end), "the PRACK was not answered")
        assert.equal(1, #responses(events, 200, "PRACK", "out"))
        assert.equal(0, #responses(events, 481, "PRACK", "out"))
        assert.equal("confirmed", call.state)
        call:hangup()
        assert.is_true(h.wait_until(function() return got.wait ~= nil end))
      end)
    end)

    it("to a busy callee fails with nil, 486, 'Busy Here' and the response", function()
      h.run(function(t)
        local alice, bob = pair(t)
        local got = callee(bob, function(call, g)
          call:ring()
          call:reject(486)
          g.done = {state = call.state, reason = call.end_reason, status = call.end_status}
        end)
        local call, code, reason, res = alice:call(h.uri_of(bob, tr))
        assert.is_nil(call)
        assert.equal(486, code)
        assert.equal("Busy Here", reason)
        assert.is_not_nil(res, "no response as 4th value")
        assert.equal(486, res.status)
        assert.equal("Busy Here", res.reason)
        assert.is_true(h.wait_until(function() return got.done ~= nil end))
        assert.same({state = "ended", reason = "rejected", status = 486}, got.done)
      end)
    end)
  end)
end

describe("a call that is not answered", function()
  it("is rejected with the code, reason and headers the callee chose", function()
    h.run(function(t)
      local alice, bob = pair(t)
      callee(bob, function(call)
        local case = call.request:header("X-Case")
        if case == "default" then call:reject()
        elseif case == "603" then call:reject(603)
        elseif case == "480" then call:reject(480)
        elseif case == "404" then call:reject(404, "Nobody Here", {["X-Why"] = "test"})
        elseif case == "500" then call:reject(500, "Out Of Order")
        end
      end)
      local cases = {
        {"default", 486, "Busy Here"},
        {"603", 603, "Decline"},
        {"480", 480, "Temporarily Unavailable"},
        {"404", 404, "Nobody Here", "test"},
        {"500", 500, "Out Of Order"},
      }
      for _, c in ipairs(cases) do
        local call, code, reason, res = alice:call(h.uri_of(bob, "udp"),
          {headers = {["X-Case"] = c[1]}})
        assert.is_nil(call, c[1])
        assert.equal(c[2], code, c[1])
        assert.equal(c[3], reason, c[1])
        assert.equal(c[2], res.status, c[1])
        assert.equal(c[4], res:header("X-Why"), c[1])
      end
    end)
  end)

  it("is redirected: nil, 302, 'Moved Temporarily' and a response with the Contact", function()
    h.run(function(t)
      local alice, bob = pair(t)
      local got = callee(bob, function(call, g)
        call:redirect("sip:carol@127.0.0.1:5080")
        g.done = {state = call.state, reason = call.end_reason, status = call.end_status}
      end)
      local call, code, reason, res = alice:call(h.uri_of(bob, "udp"))
      assert.is_nil(call)
      assert.equal(302, code)
      assert.equal("Moved Temporarily", reason)
      assert.is_not_nil(res, "no response as 4th value")
      assert.equal(302, res.status)
      assert.equal("<sip:carol@127.0.0.1:5080>", res:header("Contact"))
      assert.is_true(h.wait_until(function() return got.done ~= nil end))
      assert.same({state = "ended", reason = "rejected", status = 302}, got.done)
    end)
  end)

  it("is rejected with what the INVITE handler returns", function()
    h.run(function(t)
      local alice, bob = pair(t)
      bob:on("INVITE", function(call)
        if call.request:header("X-Case") == "busy" then return 486 end
        return 603, "Go Away", {["X-Why"] = "returned"}
      end)
      local call, code, reason = alice:call(h.uri_of(bob, "udp"), {headers = {["X-Case"] = "busy"}})
      assert.is_nil(call)
      assert.equal(486, code)
      assert.equal("Busy Here", reason)
      local res
      call, code, reason, res = alice:call(h.uri_of(bob, "tcp"), {headers = {["X-Case"] = "go"}})
      assert.is_nil(call)
      assert.equal(603, code)
      assert.equal("Go Away", reason)
      assert.equal("returned", res:header("X-Why"))
    end)
  end)

  it("is challenged with 401: auth resends the INVITE with credentials, without it the 401 is the end", function()
    h.run(function(t)
      local alice, bob = pair(t)
      local events = t.trace()
      local seen = {}
      callee(bob, function(call, g)
        local authz = call.request:header("Authorization")
        seen[#seen + 1] = authz or false
        if not authz or not authz:find('response="', 1, true) then
          return 401, "Unauthorized",
            {["WWW-Authenticate"] = 'Digest realm="calls", nonce="5e3c91ab", algorithm=MD5'}
        end
        answer_and_wait(call, g)
      end)
      local uri = h.uri_of(bob, "udp")
      local call, code, reason, res = alice:call(uri)
      assert.is_nil(call)
      assert.equal(401, code)
      assert.equal("Unauthorized", reason)
      assert.equal(401, res.status)
      assert.same({false}, seen)

      seen = {}
      call, code, reason = alice:call(uri, {auth = {user = "alice", password = "secret"}})
      assert.is_not_nil(call, failed(code, reason))
      assert.equal(2, #seen)
      assert.is_false(seen[1])
      local a = seen[2]
      assert.truthy(a:find("^Digest "), a)
      for _, want in ipairs{'username="alice"', 'realm="calls"', 'nonce="5e3c91ab"',
                            'uri="' .. uri .. '"'} do
        assert.truthy(a:find(want, 1, true), want .. " not in: " .. a)
      end
      -- the second INVITE is a new transaction in the same call: CSeq one up, same Call-ID
      local invites = sent_by(events, "INVITE ", ports_of(alice))
      assert.equal(3, #invites)
      local c2, c3 = h.header_of(invites[2].text, "CSeq"), h.header_of(invites[3].text, "CSeq")
      assert.equal(tonumber(c2:match("^%d+")) + 1, tonumber(c3:match("^%d+")))
      assert.equal(h.header_of(invites[2].text, "Call-ID"), h.header_of(invites[3].text, "Call-ID"))
      assert.equal(call.id, h.header_of(invites[3].text, "Call-ID"))
      call:hangup()
    end)
  end)

  it("to an endpoint without an INVITE handler fails with nil, 405 and its Allow", function()
    h.run(function(t)
      local alice, bob = pair(t)
      bob:on("MESSAGE", function() return 200 end)
      local call, code, reason, res = alice:call(h.uri_of(bob, "udp"))
      assert.is_nil(call)
      assert.equal(405, code)
      assert.equal("Method Not Allowed", reason)
      local allow = res:header("Allow")
      assert.truthy(allow:find("MESSAGE", 1, true), "Allow: " .. allow)
      assert.falsy(allow:find("INVITE", 1, true), "Allow: " .. allow)
    end)
  end)

  it("call:hangup() by the callee before answering rejects it with 480", function()
    h.run(function(t)
      local alice, bob = pair(t)
      local got = callee(bob, function(call, g)
        call:ring()
        call:hangup()
        g.done = {state = call.state, reason = call.end_reason}
      end)
      local call, code, reason = alice:call(h.uri_of(bob, "udp"))
      assert.is_nil(call)
      assert.equal(480, code)
      assert.equal("Temporarily Unavailable", reason)
      assert.is_true(h.wait_until(function() return got.done ~= nil end))
      assert.same({state = "ended", reason = "local"}, got.done)
    end)
  end)

  for _, tr in ipairs{"udp", "tcp"} do
    it("is cancelled after the caller's timeout (" .. tr .. "): nil, 487; the callee's wait() says 'cancelled'", function()
      h.run(function(t)
        local alice, bob = pair(t)
        local events = t.trace()
        local got = callee(bob, function(call, g)
          call:ring()
          g.wait = call:wait()
          g.done = {state = call.state, reason = call.end_reason, status = call.end_status}
        end)
        local t0 = sip.now()
        local call, code, reason, res = alice:call(h.uri_of(bob, tr), {timeout = 0.3})
        local dt = sip.now() - t0
        assert.is_nil(call)
        assert.equal(487, code)
        assert.equal("Request Terminated", reason)
        assert.equal(487, res.status)
        -- not before the timeout (the loop's timers count whole milliseconds from the
        -- loop's cached time); the upper bound is only a guard that it did end by the
        -- timeout rather than by some later timer, not a speed check
        assert.is_true(dt >= 0.295 and dt < 5, "gave up after " .. dt .. " s")
        assert.is_true(h.wait_until(function() return got.wait ~= nil end))
        assert.equal("cancelled", got.wait)
        assert.same({state = "ended", reason = "cancelled", status = 487}, got.done)
        local cancels = sent_by(events, "CANCEL ", ports_of(alice))
        assert.equal(1, #cancels)
        assert.equal(tr, cancels[1].transport)
        assert.equal(1, #responses(events, 200, "CANCEL", "in"))
        assert.equal(1, #responses(events, 487, "INVITE", "out"))
        -- the 487 is acknowledged by the caller's transaction (RFC 3261 17.1.1.3)
        assert.is_true(h.wait_until(function()
          return #sent_by(events, "ACK ", ports_of(alice)) == 1
        end))
      end)
    end)
  end

  it("answered by the callee after the CANCEL came: call:answer() returns nil, 'cancelled'", function()
    h.run(function(t)
      local alice, bob = pair(t)
      local got = callee(bob, function(call, g)
        call:ring()
        -- answers once the CANCEL has ended the call, whenever that is
        h.wait_until(function() return call.state == "ended" end, 5)
        g.answer = table.pack(call:answer())
        g.state = call.state
      end)
      local call, code = alice:call(h.uri_of(bob, "udp"), {timeout = 0.2})
      assert.is_nil(call)
      assert.equal(487, code)
      assert.is_true(h.wait_until(function() return got.answer ~= nil end))
      assert.same({nil, "cancelled", n = 2}, got.answer)
      assert.equal("ended", got.state)
    end)
  end)

  it("to where nothing listens fails with nil, 408 after Timer B = 64*T1 (UDP)", function()
    h.run(function(t)
      local alice = t.ua{listen = {"udp:127.0.0.1:0"}, timers = {t1 = 0.05}} -- Timer B = 3.2 s
      local events = t.trace()
      local port = free_udp_port()
      local t0 = sip.now()
      local call, code, reason = alice:call(("sip:nobody@127.0.0.1:%d"):format(port))
      local dt = sip.now() - t0
      assert.is_nil(call)
      assert.equal(408, code)
      assert.equal("Request Timeout", reason)
      -- not before Timer B = 64*T1 = 3.2 s (less a millisecond of timer rounding); the
      -- upper bound, twice that, is only a guard that it did end, not a speed check
      assert.is_true(dt >= 3.15 and dt < 2 * 3.2, "Timer B fired after " .. dt .. " s")
      -- Timer A: sent at 0, T1, 3T1, 7T1 ... 63T1: seven times within 64*T1
      assert.equal(7, #h.events(events, "INVITE ", "out"))
    end, 10)
  end)

  it("to a TCP port where nothing listens fails with nil, 503 at once", function()
    h.run(function(t)
      local alice = t.ua{listen = {"tcp:127.0.0.1:0"}, timers = {t1 = 0.05}} -- Timer B = 3.2 s
      local port = h.free_tcp_port()
      local t0 = sip.now()
      local call, code, reason = alice:call(("sip:nobody@127.0.0.1:%d;transport=tcp"):format(port))
      assert.is_nil(call)
      assert.equal(503, code)
      assert.is_string(reason)
      -- at once: on the refused connection, before Timer B (64*T1) would have ended it
      assert.is_true(sip.now() - t0 < 3.2, "took " .. (sip.now() - t0) .. " s")
    end)
  end)

  it("nobody answering or rejecting within 64*T1 of the handler's end gets 480", function()
    h.run(function(t)
      local alice, bob = pair(t, nil, {timers = {t1 = 0.05}}) -- 64*T1 = 3.2 s
      local got = callee(bob, function(call, g) call:ring() g.ended_at = sip.now() end)
      local t0 = sip.now()
      local call, code, reason = alice:call(h.uri_of(bob, "udp"))
      local dt = sip.now() - t0
      assert.is_nil(call)
      assert.equal(480, code)
      assert.equal("Temporarily Unavailable", reason)
      -- not before 64*T1 = 3.2 s (less a millisecond of timer rounding); the upper
      -- bound, twice that, is only a guard that it did end, not a speed check
      assert.is_true(dt >= 3.15 and dt < 2 * 3.2, "480 after " .. dt .. " s")
      assert.equal("ended", got.call.state)
    end, 10)
  end)
end)

describe("a call in progress", function()
  -- Sets up a call from alice to bob over tr; bob's handler answers and holds the call
  -- until it ends. Returns alice's call, bob's call, and the got table of the callee.
  local function connect(t, alice, bob, tr)
    local got = callee(bob, answer_and_wait)
    local call, code, reason = alice:call(h.uri_of(bob, tr or "udp"))
    assert(call, failed(code, reason))
    assert(h.wait_until(function() return got.answer ~= nil end), "bob did not answer")
    return call, got.call, got
  end

  local function record(call, list)
    for _, ev in ipairs{"modified", "hold", "unhold"} do
      call:on(ev, function(c)
        assert(c == call, "handler got another call object")
        list[#list + 1] = ev
      end)
    end
  end

  for _, how in ipairs{
    {who = "caller", method = "INVITE", tr = "udp"},
    {who = "caller", method = "UPDATE", tr = "udp"},
    {who = "callee", method = "INVITE", tr = "tcp"},
    {who = "callee", method = "UPDATE", tr = "tcp"},
  } do
    it(("is modified by the %s with %s (%s): sendonly holds the far end, sendrecv resumes it")
        :format(how.who, how.method, how.tr), function()
      h.run(function(t)
        local alice, bob = pair(t)
        local events = t.trace()
        local acall, bcall, got = connect(t, alice, bob, how.tr)
        local mine, theirs, my_ua = acall, bcall, alice
        if how.who == "callee" then mine, theirs, my_ua = bcall, acall, bob end
        local seen, own = {}, {}
        record(theirs, seen)
        record(mine, own)
        local v0 = sdp_version(mine.local_sdp)
        local opts = {direction = "sendonly"}
        if how.method == "UPDATE" then opts.method = "UPDATE" end

        local ok, code, reason = mine:modify(opts)
        assert.is_true(ok, failed(code, reason))
        assert.is_true(h.wait_until(function() return #seen == 2 end), "far end saw: "
          .. table.concat(seen, ", "))
        table.sort(seen)
        assert.same({"hold", "modified"}, seen)
        assert.equal("sendonly", mine.media.dir)
        assert.equal("recvonly", theirs.media.dir)
        assert.equal("sendonly", sdp_dir(mine.local_sdp))
        assert.equal("recvonly", sdp_dir(theirs.local_sdp))
        assert.equal(mine.local_sdp, theirs.remote_sdp)
        assert.equal(theirs.local_sdp, mine.remote_sdp)
        assert.equal(v0 + 1, sdp_version(mine.local_sdp)) -- a changed SDP, RFC 3264 8
        assert.equal("confirmed", mine.state)
        assert.equal("confirmed", theirs.state)

        seen = {}
        record(theirs, seen)
        ok, code, reason = mine:modify{direction = "sendrecv", method = opts.method}
        assert.is_true(ok, failed(code, reason))
        assert.is_true(h.wait_until(function() return #seen == 2 end), "far end saw: "
          .. table.concat(seen, ", "))
        table.sort(seen)
        assert.same({"modified", "unhold"}, seen)
        assert.equal("sendrecv", mine.media.dir)
        assert.equal("sendrecv", theirs.media.dir)
        assert.equal(v0 + 2, sdp_version(mine.local_sdp))
        assert.same({}, own) -- our own changes are not reported to us

        -- on the wire: the requests in the dialog, and no new INVITE for UPDATE
        local sent = sent_by(events, how.method .. " ", ports_of(my_ua))
        local expected = how.method == "INVITE" and (how.who == "caller" and 3 or 2) or 2
        assert.equal(expected, #sent)
        for _, ev in ipairs(sent) do
          assert.equal(acall.id, h.header_of(ev.text, "Call-ID"))
          assert.equal(how.tr, ev.transport)
        end
        assert.equal(how.method == "INVITE" and 2 or 0,
          #sent_by(events, "ACK ", ports_of(my_ua)) - (how.who == "caller" and 1 or 0))

        acall:hangup()
        assert.is_true(h.wait_until(function() return got.wait ~= nil end))
        assert.equal("hangup", got.wait)
      end)
    end)
  end

  it("when both sides offer at once, one gets 491 and retries; both changes succeed", function()
    -- RFC 3261 14.1: the retry comes after 2.1-4 s (Call-ID owner) or 0-2 s (the other)
    h.run(function(t)
      local alice, bob = pair(t)
      local events = t.trace()
      local acall, bcall, got = connect(t, alice, bob)
      local results = {}
      for name, c in pairs{alice = acall, bob = bcall} do
        sip.spawn(function() results[name] = table.pack(c:modify{direction = "sendonly"}) end)
      end
      assert.is_true(h.wait_until(function() return results.alice and results.bob end, 6),
        "the offers did not both complete")
      assert.same({true, n = 1}, results.alice)
      assert.same({true, n = 1}, results.bob)
      assert.is_true(#h.events(events, "SIP/2.0 491 ", "out") >= 1, "no 491 was sent")
      assert.equal("confirmed", acall.state)
      assert.equal("confirmed", bcall.state)
      -- both want to send only: neither receives, so both are inactive
      assert.equal("inactive", acall.media.dir)
      assert.equal("inactive", bcall.media.dir)
      acall:hangup()
      assert.is_true(h.wait_until(function() return got.wait ~= nil end))
    end, 15)
  end)

  it("brings an INFO to call:on('info') with the request, answered by the handler", function()
    h.run(function(t)
      local alice, bob = pair(t)
      local events = t.trace()
      local acall, bcall, got = connect(t, alice, bob)
      local infos = {}
      bcall:on("info", function(c, req)
        infos[#infos + 1] = {same = c == bcall, method = req.method, body = req.body,
          ctype = req:header("Content-Type"), call_id = req.call_id}
        if req:header("Content-Type") ~= "application/dtmf-relay" then return 415 end
        return 200
      end)
      local ok, code, reason = acall:info{headers = {["Content-Type"] = "application/dtmf-relay"},
        body = "Signal=5\r\nDuration=160\r\n"}
      assert.is_true(ok, failed(code, reason))
      assert.equal(1, #infos)
      assert.same({same = true, method = "INFO", body = "Signal=5\r\nDuration=160\r\n",
        ctype = "application/dtmf-relay", call_id = acall.id}, infos[1])
      assert.equal(1, #responses(events, 200, "INFO", "out"))
      -- what the handler refuses comes back as nil, status, reason; the call stays up
      ok, code, reason = acall:info{headers = {["Content-Type"] = "text/plain"}, body = "x"}
      assert.is_nil(ok)
      assert.equal(415, code)
      assert.equal("Unsupported Media Type", reason)
      assert.equal(2, #infos)
      assert.equal("confirmed", acall.state)
      assert.equal("confirmed", bcall.state)
      -- without a handler INFO gets 200, and so does OPTIONS in the call
      bcall:on("info", nil)
      local res
      ok, res = acall:info{body = "no handler"}
      assert.is_true(ok)
      assert.equal(200, res.status)
      assert.equal(2, #infos)
      ok, res = acall:send{method = "OPTIONS"}
      assert.is_true(ok)
      assert.equal(200, res.status)
      local options = sent_by(events, "OPTIONS ", ports_of(alice))
      assert.equal(1, #options)
      assert.equal(acall.id, h.header_of(options[1].text, "Call-ID"))
      acall:hangup()
      assert.is_true(h.wait_until(function() return got.wait ~= nil end))
    end)
  end)

  it("the callee sends requests in the call with call:send", function()
    h.run(function(t)
      local alice, bob = pair(t)
      local events = t.trace()
      local acall, bcall, got = connect(t, alice, bob)
      local heard
      acall:on("info", function(c, req) heard = req.body return 200 end)
      local ok, res = bcall:send{method = "INFO", headers = {["Content-Type"] = "text/plain"},
        body = "from bob"}
      assert.is_true(ok)
      assert.equal(200, res.status)
      assert.equal("from bob", heard)
      ok, res = bcall:send{method = "OPTIONS"}
      assert.is_true(ok)
      assert.equal(200, res.status)
      local options = sent_by(events, "OPTIONS ", ports_of(bob))
      assert.equal(1, #options)
      assert.equal(acall.id, h.header_of(options[1].text, "Call-ID"))
      acall:hangup()
      assert.is_true(h.wait_until(function() return got.wait ~= nil end))
    end)
  end)

  it("two calls at once, from one caller to two callees and to one callee twice", function()
    h.run(function(t)
      local alice, bob = pair(t)
      local carol = t.ua{uri = "sip:carol@example.net", listen = {"udp:127.0.0.1:0"}}
      local gb = callee(bob, answer_and_wait)
      local gc = callee(carol, answer_and_wait)
      local calls, done = {}, 0
      for i, target in ipairs{h.uri_of(bob, "udp"), h.uri_of(carol, "udp", "carol"),
                              h.uri_of(bob, "tcp")} do
        sip.spawn(function()
          calls[i] = table.pack(alice:call(target))
          done = done + 1
        end)
      end
      assert.is_true(h.wait_until(function() return done == 3 end, 5))
      local ids = {}
      for i = 1, 3 do
        assert.is_not_nil(calls[i][1], failed(calls[i][2], calls[i][3]))
        assert.equal("confirmed", calls[i][1].state)
        ids[calls[i][1].id] = true
      end
      local n = 0
      for _ in pairs(ids) do n = n + 1 end
      assert.equal(3, n)
      assert.equal(2, #gb.calls)
      assert.equal(1, #gc.calls)
      -- ending one leaves the others up
      calls[2][1]:hangup()
      assert.is_true(h.wait_until(function() return gc.wait ~= nil end))
      assert.equal("confirmed", calls[1][1].state)
      assert.equal("confirmed", calls[3][1].state)
      for _, i in ipairs{1, 3} do calls[i][1]:hangup() end
      for _, bc in ipairs(gb.calls) do
        assert.is_true(ends(bc))
        assert.equal("hangup", bc:wait())
      end
    end)
  end)

  it("an endpoint that takes calls says so in OPTIONS: the Allow of its 200 to INVITE", function()
    -- RFC 3261 11.2 and 20.5: Allow lists what the endpoint supports, in either answer
    h.run(function(t)
      local alice, bob = pair(t)
      local events = t.trace()
      local acall, _, got = connect(t, alice, bob)
      local ok_invite = responses(events, 200, "INVITE", "out")[1]
      local in_call = {}
      for m in h.header_of(ok_invite.text, "Allow"):gmatch("[%w%-]+") do in_call[#in_call + 1] = m end
      table.sort(in_call)
      local res, code, reason = alice:request{method = "OPTIONS", uri = h.uri_of(bob, "udp")}
      assert.is_not_nil(res, failed(code, reason))
      local options = {}
      for m in res:header("Allow"):gmatch("[%w%-]+") do options[#options + 1] = m end
      table.sort(options)
      assert.same(in_call, options)
      acall:hangup()
      assert.is_true(h.wait_until(function() return got.wait ~= nil end))
    end)
  end)

  it("beyond the callee's max_calls gets 503; a call that ended frees its place", function()
    h.run(function(t)
      local alice, bob = pair(t, nil, {max_calls = 1})
      local first, _, got = connect(t, alice, bob)
      local runs = #got.calls
      local call, code = alice:call(h.uri_of(bob, "udp"))
      assert.is_nil(call)
      assert.equal(503, code)
      assert.equal(runs, #got.calls) -- refused before the handler
      first:hangup()
      assert.is_true(h.wait_until(function() return got.wait ~= nil end))
      local again, c2, r2 = alice:call(h.uri_of(bob, "udp"))
      assert.is_not_nil(again, failed(c2, r2))
      again:hangup()
    end)
  end)

  it("ends with 'closed' when the endpoint closes; the far end gets a BYE", function()
    h.run(function(t)
      local alice, bob = pair(t)
      local acall, bcall, got = connect(t, alice, bob)
      local events = t.trace()
      alice:close()
      assert.is_true(ends(acall, 1), "closing the endpoint did not end its call")
      assert.equal("closed", acall:wait())
      assert.equal("ended", acall.state)
      assert.equal("closed", acall.end_reason)
      assert.is_true(h.wait_until(function() return got.wait ~= nil end),
        "bob's call did not end after alice closed")
      assert.equal("hangup", got.wait)
      assert.equal(1, #h.events(events, "BYE ", "out"))
    end)
  end)

  it("a callee's endpoint that closes ends its calls with 'closed'", function()
    h.run(function(t)
      local alice, bob = pair(t)
      local acall, bcall, got = connect(t, alice, bob)
      bob:close()
      assert.is_true(h.wait_until(function() return got.wait ~= nil end))
      assert.equal("closed", got.wait)
      assert.equal("closed", bcall.end_reason)
      assert.is_true(ends(acall), "alice's call did not end after bob closed")
      assert.equal("hangup", acall:wait())
    end)
  end)

  it("an outgoing call still ringing when its endpoint closes returns nil, 'closed'", function()
    h.run(function(t)
      local alice, bob = pair(t)
      local got = callee(bob, function(call, g) call:ring() g.wait = call:wait() end)
      local ringing = false
      sip.spawn(function()
        -- closes once the 180 reached alice: her call is ringing, not still trying
        h.wait_until(function() return ringing end, 5)
        alice:close()
      end)
      local call, code = alice:call(h.uri_of(bob, "udp"), {
        on_progress = function(_, status) if status == 180 then ringing = true end end})
      assert.is_true(ringing)
      assert.is_nil(call)
      assert.equal("closed", code)
      -- the callee hears a CANCEL (sent before the transports closed)
      assert.is_true(h.wait_until(function() return got.wait ~= nil end))
      assert.equal("cancelled", got.wait)
    end)
  end)
end)

describe("a failing INVITE handler", function()
  it("rejects an unanswered call with 500, hangs up an answered one, and other calls go on", function()
    h.run(function(t)
      local alice, bob = pair(t)
      local got = {}
      bob:on("INVITE", function(call)
        local case = call.request:header("X-Case")
        if case == "fail" then
          error("planned failure in an INVITE handler (expected on stderr)")
        elseif case == "fail-after" then
          call:answer()
          sip.sleep(0.1)
          error("planned failure after answering (expected on stderr)")
        end
        got.answer = table.pack(call:answer())
        got.wait = call:wait()
      end)
      local uri = h.uri_of(bob, "udp")
      local up, code, reason = alice:call(uri, {headers = {["X-Case"] = "ok"}})
      assert.is_not_nil(up, failed(code, reason))

      local call
      call, code, reason = alice:call(uri, {headers = {["X-Case"] = "fail"}})
      assert.is_nil(call)
      assert.equal(500, code)
      assert.equal("Handler Failed", reason) -- as for a failing request handler

      call, code, reason = alice:call(uri, {headers = {["X-Case"] = "fail-after"}})
      assert.is_not_nil(call, failed(code, reason))
      assert.is_true(ends(call), "the failed handler did not hang up its answered call")
      assert.equal("hangup", call:wait())

      -- the first call is still up and the endpoint still takes calls
      assert.equal("confirmed", up.state)
      local again
      again, code, reason = alice:call(h.uri_of(bob, "tcp"), {headers = {["X-Case"] = "ok"}})
      assert.is_not_nil(again, failed(code, reason))
      again:hangup()
      up:hangup()
      assert.equal("local", up:wait())
      assert.is_true(h.wait_until(function() return got.wait ~= nil end))
      assert.equal("hangup", got.wait)
    end)
  end)
end)

describe("call misuse raises a clear error:", function()
  local function raises(fn, words, what)
    local ok, e = pcall(fn)
    assert.is_false(ok, what .. " did not raise")
    local msg = errmsg(e)
    local named = false
    for _, w in ipairs(words) do named = named or msg:find(w, 1, true) ~= nil end
    assert.is_true(named, what .. ": message names none of '" .. table.concat(words, "', '")
      .. "': " .. msg)
  end

  it("ua:call outside a task", function()
    local ua = sip.ua{listen = {"udp:127.0.0.1:0"}}
    local ok, e = pcall(ua.call, ua, "sip:bob@127.0.0.1:5070")
    ua:close()
    sip.run()
    assert.is_false(ok)
    assert.truthy(errmsg(e):find("task", 1, true), errmsg(e))
  end)

  it("ua:call with wrong arguments or unknown options", function()
    h.run(function(t)
      local alice, bob = pair(t)
      local uri = h.uri_of(bob, "udp")
      local cases = {
        {"no target", function() alice:call() end, {"uri", "string", "target"}},
        {"a number as target", function() alice:call(42) end, {"uri", "string", "target"}},
        {"options that are not a table", function() alice:call(uri, "fast") end, {"table"}},
        {"an unknown option", function() alice:call(uri, {bogus_option = 1}) end, {"bogus_option"}},
        {"timeout that is not a number", function() alice:call(uri, {timeout = "soon"}) end,
          {"timeout"}},
        {"on_progress that is not a function", function() alice:call(uri, {on_progress = 1}) end,
          {"on_progress"}},
        {"on_early that is not a function", function() alice:call(uri, {on_early = "x"}) end,
          {"on_early"}},
        {"headers that is not a table", function() alice:call(uri, {headers = "X-A: 1"}) end,
          {"headers"}},
        {"auth without a password", function() alice:call(uri, {auth = {user = "a"}}) end,
          {"auth"}},
      }
      for _, c in ipairs(cases) do raises(c[2], c[3], "ua:call with " .. c[1]) end
    end)
  end)

  it("call methods with wrong arguments, unknown options or events", function()
    h.run(function(t)
      local alice, bob = pair(t)
      local checked, problem = false, nil
      bob:on("INVITE", function(call)
        -- a failed check must not fail the handler (that would only show as a 500)
        local ok, e = pcall(function()
          raises(function() call:reject(200) end, {"200", "3xx", "300"}, "call:reject(200)")
          raises(function() call:reject("busy") end, {"busy", "number", "status"},
            "call:reject('busy')")
          raises(function() call:redirect(42) end, {"uri", "string", "redirect"}, "call:redirect(42)")
          raises(function() call:on("bogus_event", function() end) end, {"bogus_event"},
            "call:on('bogus_event')")
          raises(function() call:on("ended", 42) end, {"function"}, "call:on('ended', 42)")
          raises(function() call:info("Signal=5") end, {"table"}, "call:info('Signal=5')")
          raises(function() call:info{bogus_option = 1} end, {"bogus_option"},
            "call:info{bogus_option=1}")
          assert.equal("incoming", call.state) -- misuse changed nothing
          call:answer()
          raises(function() call:modify("sendonly") end, {"table"}, "call:modify('sendonly')")
          raises(function() call:modify{direction = "sideways"} end, {"sideways", "direction"},
            "call:modify{direction='sideways'}")
          raises(function() call:modify{method = "BYE"} end, {"BYE", "method"},
            "call:modify{method='BYE'}")
          raises(function() call:modify{bogus_option = 1} end, {"bogus_option"},
            "call:modify{bogus_option=1}")
        end)
        problem = not ok and errmsg(e) or nil
        checked = true
        if call.state == "incoming" then call:answer() end
        call:wait()
      end)
      local call, code, reason = alice:call(h.uri_of(bob, "udp"))
      assert.is_not_nil(call, failed(code, reason))
      assert.is_true(h.wait_until(function() return checked end), "bob's checks did not end")
      assert.is_nil(problem)
      assert.equal("confirmed", call.state)
      -- requests in the call from the caller (the spec above has the callee's)
      raises(function() call:send("INFO") end, {"table"}, "call:send('INFO')")
      raises(function() call:send{body = "x"} end, {"method"}, "call:send without method")
      raises(function() call:send{method = "MESSAGE", headers = "X: 1"} end, {"headers"},
        "call:send{headers='X: 1'}")
      raises(function() call:send{method = "MESSAGE", bogus_option = 1} end, {"bogus_option"},
        "call:send{bogus_option=1}")
      -- the session's own requests are not for call:send
      for _, m in ipairs{"INVITE", "ACK", "CANCEL", "BYE"} do
        raises(function() call:send{method = m} end, {m}, "call:send{method='" .. m .. "'}")
      end
      assert.equal("confirmed", call.state)
      call:hangup()
    end)
  end)
end)

describe("call media ports", function()
  it("come from the endpoint's rtp_ports range", function()
    h.run(function(t)
      -- ranges chosen at run time, from ports that were free a moment ago
      local function range()
        local p = free_udp_port()
        p = math.min(p - p % 2, 65500)
        return {p, p + 19}
      end
      local ar, br = range(), range()
      while br[1] <= ar[2] and br[2] >= ar[1] do br = range() end -- apart, to tell them apart
      local alice, bob = pair(t, {rtp_ports = ar}, {rtp_ports = br})
      local got = callee(bob, answer_and_wait)
      local call, code, reason = alice:call(h.uri_of(bob, "udp"))
      assert.is_not_nil(call, failed(code, reason))
      assert.is_true(h.wait_until(function() return got.answer ~= nil end))
      local ap, bp = sdp_port(call.local_sdp), sdp_port(got.call.local_sdp)
      assert.is_true(ap >= ar[1] and ap <= ar[2], ("alice's RTP port %d, range %d-%d"):format(ap,
        ar[1], ar[2]))
      assert.is_true(bp >= br[1] and bp <= br[2], ("bob's RTP port %d, range %d-%d"):format(bp,
        br[1], br[2]))
      assert.equal(bp, call.media.port)
      call:hangup()
      call:wait()
      assert.is_true(h.wait_until(function() return got.call.state == "ended" end))
      -- kept for the endpoint's next call, which gets the same pair
      local again
      again, code, reason = alice:call(h.uri_of(bob, "udp"))
      assert.is_not_nil(again, failed(code, reason))
      assert.equal(ap, sdp_port(again.local_sdp))
      again:hangup()
      again:wait()
      -- and released when the endpoint closes
      alice:close()
      assert.is_true(h.wait_until(function() return not udp_bound(ap) end),
        "RTP port " .. ap .. " still bound after the endpoint closed")
    end)
  end)

  it("late offer (offer = false): no SDP in the INVITE, the answer goes in the ACK", function()
    h.run(function(t)
      local alice, bob = pair(t)
      local events = t.trace()
      local got = callee(bob, answer_and_wait)
      local call, code, reason = alice:call(h.uri_of(bob, "udp"), {offer = false})
      assert.is_not_nil(call, failed(code, reason))
      assert.is_true(h.wait_until(function() return got.answer ~= nil end))
      assert.same({true, n = 1}, got.answer)
      local invite = sent_by(events, "INVITE ", ports_of(alice))[1]
      assert.equal("", invite.text:match("\r\n\r\n(.*)$"))
      local ack = sent_by(events, "ACK ", ports_of(alice))[1]
      assert.equal(call.local_sdp, ack.text:match("\r\n\r\n(.*)$"))
      assert.equal(call.local_sdp, got.call.remote_sdp)
      assert.equal(got.call.local_sdp, call.remote_sdp)
      assert.equal("PCMU", got.call.media.codec)
      call:hangup()
    end)
  end)
end)

describe("ended calls", function()
  it("count the C they hold as the collector's debt: collected with no Lua allocation to pace it", function()
    -- Each call holds kilobytes of C (its session, its INVITE) until its Lua
    -- object is collected, memory the collector does not see. Each end adds it to
    -- the collector's debt. Here the collector is stopped, which leaves it only
    -- those steps: without them no collection completes and no call is collected.
    collectgarbage("collect")
    -- a finalised object that leaves a new one behind counts the collections
    local collections, counting = 0, true
    local function sentinel()
      setmetatable({}, {__gc = function()
        collections = collections + 1
        if counting then sentinel() end
      end})
    end
    sentinel()
    local uncollected = setmetatable({}, {__mode = "k"})
    local ended = 0
    h.run(function(t)
      local alice, bob = pair(t)
      bob:on("INVITE", function(call)
        uncollected[call.core] = true
        if call:answer() then call:wait() end
      end)
      collectgarbage("stop")
      for _ = 1, 300 do
        local call, code, reason = alice:call(h.uri_of(bob, "udp"))
        assert.is_not_nil(call, failed(code, reason))
        uncollected[call.core] = true
        call:hangup()
        assert.is_true(ends(call))
        ended = ended + 2
      end
    end, 60)
    collectgarbage("restart")
    counting = false
    local left = 0
    for _ in pairs(uncollected) do left = left + 1 end
    assert.equal(600, ended)
    -- paced by the debt, not a collection per end (that was 700 us a call under load)
    assert.is_true(collections >= 1 and collections <= 60,
      collections .. " collections for 600 ended calls")
    assert.is_true(left <= 450, left .. " of 600 ended calls still uncollected")
  end)
end)
