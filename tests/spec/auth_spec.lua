-- Digest authentication (RFC 2617 as used by RFC 3261 22) for ua:request and ua:register,
-- and registration: 423 Interval Too Brief, refresh before expiry, unregister (Expires: 0).
-- The spec plays server and registrar with ua:on and checks each digest with its own MD5.
local h = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "helper.lua")
local sip = require "sip"

-- MD5 (RFC 1321) in plain Lua 5.4, lowercase hex.
local md5
do
  local S = {7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21}
  local K = {}
  for i = 1, 64 do K[i] = math.floor(math.abs(math.sin(i)) * 2 ^ 32) & 0xffffffff end
  local M32 = 0xffffffff
  function md5(msg)
    local len = #msg
    msg = msg .. "\128" .. string.rep("\0", (55 - len) % 64) .. string.pack("<I8", len * 8)
    local a0, b0, c0, d0 = 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476
    for chunk = 1, #msg, 64 do
      local X = {string.unpack("<" .. string.rep("I4", 16), msg, chunk)}
      local A, B, C, D = a0, b0, c0, d0
      for i = 0, 63 do
        local F, g
        if i < 16 then F, g = (B & C) | (~B & D), i
        elseif i < 32 then F, g = (D & B) | (~D & C), (5 * i + 1) % 16
        elseif i < 48 then F, g = B ~ C ~ D, (3 * i + 5) % 16
        else F, g = C ~ (B | ~D), (7 * i) % 16 end
        F = (F + A + K[i + 1] + X[g + 1]) & M32
        local s = S[(i // 16) * 4 + i % 4 + 1]
        A, D, C = D, C, B
        B = (B + (((F << s) | (F >> (32 - s))) & M32)) & M32
      end
      a0, b0 = (a0 + A) & M32, (b0 + B) & M32
      c0, d0 = (c0 + C) & M32, (d0 + D) & M32
    end
    return (string.pack("<I4I4I4I4", a0, b0, c0, d0):gsub(".", function(c)
      return ("%02x"):format(c:byte())
    end))
  end
end

-- 'Digest k=v, k2="v2"' -> "Digest", {k = "v", k2 = "v2"} (keys in lowercase).
local function parse_digest(value)
  local scheme, rest = value:match("^%s*(%S+)%s*(.*)$")
  local params, i = {}, 1
  while true do
    local key, j = rest:match("^[%s,]*([%w_%-]+)%s*=%s*()", i)
    if not key then break end
    local v
    if rest:sub(j, j) == '"' then
      local close = rest:find('"', j + 1, true) or (#rest + 1)
      v, i = rest:sub(j + 1, close - 1), close + 1
    else
      local stop = rest:find("[,%s]", j) or (#rest + 1)
      v, i = rest:sub(j, stop - 1), stop
    end
    params[key:lower()] = v
  end
  return scheme, params
end

-- The response a client must send for digest params p (RFC 2617 3.2.2).
local function expected_response(p, method, password)
  local ha1 = md5(p.username .. ":" .. p.realm .. ":" .. password)
  local ha2 = md5(method .. ":" .. p.uri)
  if p.qop then
    return md5(table.concat({ha1, p.nonce, p.nc, p.cnonce, p.qop, ha2}, ":"))
  end
  return md5(ha1 .. ":" .. p.nonce .. ":" .. ha2)
end

-- Server side of digest auth. cfg: user, password, realm, nonce, qop (bool), proxy (bool: 407).
local function check(req, cfg)
  local value = req:header(cfg.proxy and "Proxy-Authorization" or "Authorization")
  if not value then return false, nil end
  local scheme, p = parse_digest(value)
  local ok = scheme:lower() == "digest" and p.username == cfg.user and p.realm == cfg.realm
    and p.nonce == cfg.nonce and p.uri ~= nil and p.response ~= nil
    and (p.algorithm == nil or p.algorithm:upper() == "MD5")
    and p.response == expected_response(p, req.method, cfg.password)
  return ok, p
end

local function challenge(cfg)
  local value = ('Digest realm="%s", nonce="%s", algorithm=MD5'):format(cfg.realm, cfg.nonce)
  if cfg.qop then value = value .. ', qop="auth"' end
  if cfg.proxy then
    return 407, "Proxy Authentication Required", {["Proxy-Authenticate"] = value}
  end
  return 401, "Unauthorized", {["WWW-Authenticate"] = value}
end

local function cseq_of(req)
  return tonumber((req:header("CSeq") or ""):match("^%s*(%d+)"))
end

-- The expiry a REGISTER asks for: the Contact's expires parameter, else Expires, else 3600.
local function requested_expires(req)
  local contact = req:header("Contact") or ""
  local e = contact:lower():match(";%s*expires%s*=%s*(%d+)") or req:header("Expires")
  return tonumber(e) or 3600
end

-- Plays registrar on ua. cfg: as for check (no password: no auth), min_expires (423 below
-- it), max_expires (grants at most this), status (refuses every REGISTER with it).
-- Returns the log: one entry per REGISTER received.
local function registrar(ua, cfg)
  local log = {}
  ua:on("REGISTER", function(req)
    local e = {uri = req.uri, to = req.to, call_id = req.call_id, cseq = cseq_of(req),
      contact = req:header("Contact"), expires = requested_expires(req), time = sip.now()}
    log[#log + 1] = e
    if cfg.password then
      local ok, p = check(req, cfg)
      e.auth = p
      if not ok then
        e.answer = cfg.proxy and 407 or 401
        return challenge(cfg)
      end
    end
    if cfg.status then
      e.answer = cfg.status
      return cfg.status
    end
    if e.expires > 0 and cfg.min_expires and e.expires < cfg.min_expires then
      e.answer = 423
      return 423, "Interval Too Brief", {["Min-Expires"] = tostring(cfg.min_expires)}
    end
    e.answer = 200
    if e.expires == 0 then return 200 end
    e.granted = math.min(e.expires, cfg.max_expires or e.expires)
    local contact = (e.contact or ""):gsub(";%s*[eE][xX][pP][iI][rR][eE][sS]%s*=%s*%d+", "")
    return 200, "OK", {Contact = contact .. ";expires=" .. e.granted,
      Expires = tostring(e.granted)}
  end)
  return log
end

local function endpoints(t)
  local alice = t.ua{uri = "sip:alice@example.com",
    listen = {"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}}
  local bob = t.ua{uri = "sip:bob@example.org", listen = {"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}}
  return alice, bob
end

local function registrar_uri(ua, transport)
  local host, port = ua:address(transport)
  local uri = ("sip:%s:%d"):format(host, port)
  if transport == "tcp" then uri = uri .. ";transport=tcp" end
  return uri
end

local function failed(code, reason)
  return ("failed: %s %s"):format(tostring(code), tostring(reason))
end

-- Checks the fields of an Authorization the client sent with qop=auth.
local function assert_digest_fields(p, cfg, request_uri)
  assert.is_table(p, "no Authorization header in the retried request")
  assert.equal(cfg.user, p.username)
  assert.equal(cfg.realm, p.realm)
  assert.equal(cfg.nonce, p.nonce)
  assert.equal(request_uri, p.uri)
  assert.truthy(p.response and p.response:match("^%x+$") and #p.response == 32,
    "response: " .. tostring(p.response))
  if cfg.qop then
    assert.equal("auth", p.qop)
    assert.truthy(p.nc and p.nc:match("^%x%x%x%x%x%x%x%x$"), "nc: " .. tostring(p.nc))
    assert.truthy(p.cnonce and #p.cnonce > 0, "no cnonce")
  else
    assert.is_nil(p.qop, "qop sent although the challenge offered none")
  end
end

describe("the spec's MD5", function()
  it("matches the RFC 1321 test vectors", function()
    assert.equal("d41d8cd98f00b204e9800998ecf8427e", md5(""))
    assert.equal("900150983cd24fb0d6963f7d28e17f72", md5("abc"))
    assert.equal("f96b697d7cb7938d525a2f31aaf161d0", md5("message digest"))
    assert.equal("57edf4a22be3c955ac49da2e2107b67a", md5(string.rep("1234567890", 8)))
    assert.equal("9e107d9d372bb6826bd81d3542a419d6",
      md5("The quick brown fox jumps over the lazy dog"))
  end)
end)

describe("digest auth for ua:request", function()
  it("answers a 401 challenge with qop=auth and a correct digest", function()
    h.run(function(t)
      local alice, bob = endpoints(t)
      local cfg = {user = "alice", password = "secret", realm = "x", nonce = "abc", qop = true}
      local log = {}
      bob:on("MESSAGE", function(req)
        local ok, p = check(req, cfg)
        log[#log + 1] = {ok = ok, auth = p, uri = req.uri, body = req.body,
          call_id = req.call_id, cseq = cseq_of(req)}
        if not ok then return challenge(cfg) end
        return 200, "OK", nil, "welcome"
      end)
      local res, code, reason = alice:request{method = "MESSAGE", uri = h.uri_of(bob, "udp"),
        headers = {["Content-Type"] = "text/plain"}, body = "hi",
        auth = {user = "alice", password = "secret"}}
      assert.is_not_nil(res, failed(code, reason))
      assert.equal(200, res.status)
      assert.equal("welcome", res.body)
      assert.equal(2, #log)
      assert.is_nil(log[1].auth)
      assert_digest_fields(log[2].auth, cfg, log[2].uri)
      assert.is_true(log[2].ok, "the digest does not verify")
      assert.equal("hi", log[2].body)
      assert.equal(log[1].call_id, log[2].call_id)
      assert.equal(log[1].cseq + 1, log[2].cseq)
    end)
  end)

  it("answers a 407 challenge without qop (RFC 2069 digest) over TCP", function()
    h.run(function(t)
      local alice, bob = endpoints(t)
      local cfg = {user = "alice", password = "pw2", realm = "proxy.example", nonce = "n-407",
        proxy = true}
      local log = {}
      bob:on("MESSAGE", function(req)
        local ok, p = check(req, cfg)
        log[#log + 1] = {ok = ok, auth = p, uri = req.uri}
        if not ok then return challenge(cfg) end
        return 200
      end)
      local res, code, reason = alice:request{method = "MESSAGE", uri = h.uri_of(bob, "tcp"),
        headers = {["Content-Type"] = "text/plain"}, body = "hi",
        auth = {user = "alice", password = "pw2"}}
      assert.is_not_nil(res, failed(code, reason))
      assert.equal(200, res.status)
      assert.equal(2, #log)
      assert_digest_fields(log[2].auth, cfg, log[2].uri)
      assert.is_true(log[2].ok, "the digest does not verify")
    end)
  end)

  it("gives up with nil, 401 after one retry when the password is wrong", function()
    h.run(function(t)
      local alice, bob = endpoints(t)
      local cfg = {user = "alice", password = "secret", realm = "x", nonce = "abc", qop = true}
      local n = 0
      bob:on("MESSAGE", function(req)
        n = n + 1
        if not check(req, cfg) then return challenge(cfg) end
        return 200
      end)
      local res, code, reason = alice:request{method = "MESSAGE", uri = h.uri_of(bob, "udp"),
        headers = {["Content-Type"] = "text/plain"}, body = "hi",
        auth = {user = "alice", password = "wrong"}}
      assert.is_nil(res)
      assert.equal(401, code)
      assert.equal("Unauthorized", reason)
      assert.equal(2, n)
    end)
  end)

  it("returns nil, 401, 'Unauthorized' to a challenge when no auth was given", function()
    h.run(function(t)
      local alice, bob = endpoints(t)
      local cfg = {user = "alice", password = "secret", realm = "x", nonce = "abc", qop = true}
      local n = 0
      bob:on("MESSAGE", function(req) n = n + 1; return challenge(cfg) end)
      local res, code, reason = alice:request{method = "MESSAGE", uri = h.uri_of(bob, "udp"),
        headers = {["Content-Type"] = "text/plain"}, body = "hi"}
      assert.is_nil(res)
      assert.equal(401, code)
      assert.equal("Unauthorized", reason)
      assert.equal(1, n)
    end)
  end)
end)

describe("ua:register", function()
  it("registers through a 401 challenge, then unregisters with expires 0", function()
    h.run(function(t)
      local alice, bob = endpoints(t)
      local _, aport = alice:address("udp")
      local cfg = {user = "alice", password = "secret", realm = "example.com",
        nonce = "reg-nonce", qop = true}
      local log = registrar(bob, cfg)
      local reg, code, reason = alice:register{registrar = registrar_uri(bob, "udp"),
        user = "alice", password = "secret", expires = 600}
      assert.is_not_nil(reg, failed(code, reason))
      assert.equal(600, reg.expires)
      assert.equal(2, #log)
      assert.equal(401, log[1].answer)
      assert.equal(200, log[2].answer)
      local e = log[2]
      assert_digest_fields(e.auth, cfg, e.uri)
      assert.equal(registrar_uri(bob, "udp"), e.uri)
      assert.truthy(e.to and e.to:find("alice@", 1, true), "To: " .. tostring(e.to))
      assert.truthy(e.contact and e.contact:find(":" .. aport, 1, true),
        "Contact does not name alice's UDP port " .. aport .. ": " .. tostring(e.contact))
      assert.equal(600, e.expires)

      assert.is_true(reg:unregister())
      local last = log[#log]
      assert.equal(0, last.expires, "the last REGISTER did not ask for expires 0")
      assert.equal(200, last.answer)
      for i = 2, #log do
        assert.equal(log[1].call_id, log[i].call_id, "REGISTER " .. i .. " changed the Call-ID")
        assert.is_true(log[i].cseq > log[i - 1].cseq, "CSeq did not rise at REGISTER " .. i)
      end
    end)
  end)

  it("reports the expiry the registrar granted", function()
    h.run(function(t)
      local alice, bob = endpoints(t)
      registrar(bob, {max_expires = 60})
      local reg, code, reason = alice:register{registrar = registrar_uri(bob, "udp"),
        user = "alice", expires = 600}
      assert.is_not_nil(reg, failed(code, reason))
      assert.equal(60, reg.expires)
      assert.is_true(reg:unregister())
    end)
  end)

  it("retries with Min-Expires after 423 Interval Too Brief", function()
    h.run(function(t)
      local alice, bob = endpoints(t)
      local log = registrar(bob, {min_expires = 120})
      local reg, code, reason = alice:register{registrar = registrar_uri(bob, "udp"),
        user = "alice", expires = 60}
      assert.is_not_nil(reg, failed(code, reason))
      assert.equal(120, reg.expires)
      assert.equal(2, #log)
      assert.equal(60, log[1].expires)
      assert.equal(423, log[1].answer)
      assert.equal(120, log[2].expires)
      assert.equal(200, log[2].answer)
      assert.is_true(reg:unregister())
    end)
  end)

  it("refreshes before expiry, keeping the Call-ID, until unregistered", function()
    h.run(function(t)
      local alice, bob = endpoints(t)
      local cfg = {user = "alice", password = "secret", realm = "example.com",
        nonce = "refresh-nonce", qop = true}
      local log = registrar(bob, cfg)
      local reg, code, reason = alice:register{registrar = registrar_uri(bob, "udp"),
        user = "alice", password = "secret", expires = 2}
      assert.is_not_nil(reg, failed(code, reason))
      assert.equal(2, reg.expires)
      local t0 = sip.now()
      local granted
      local function count_granted()
        granted = {}
        for _, e in ipairs(log) do
          if e.answer == 200 and e.expires > 0 then granted[#granted + 1] = e end
        end
        return #granted
      end
      -- waits for the refresh itself; the limit (twice the expiry) is a guard that it came
      h.wait_until(function() return count_granted() >= 2 end, 4)
      assert.is_true(#granted >= 2, "no refresh of a 2 s registration")
      -- not refreshing in a loop: a refresh does not follow the previous one at once
      for i = 2, #granted do
        assert.is_true(granted[i].time - granted[i - 1].time > 0.5,
          "refresh " .. (i - 1) .. " came right after the previous registration: in a loop?")
      end
      -- every refresh came before the previous registration expired
      for i = 2, #granted do
        assert.is_true(granted[i].time - granted[i - 1].time < 2,
          "refresh " .. (i - 1) .. " came after expiry")
      end
      assert.is_true(granted[1].time < t0)
      for i = 2, #log do
        assert.equal(log[1].call_id, log[i].call_id, "REGISTER " .. i .. " changed the Call-ID")
        assert.is_true(log[i].cseq > log[i - 1].cseq, "CSeq did not rise at REGISTER " .. i)
      end

      assert.is_true(reg:unregister())
      assert.equal(0, log[#log].expires)
      local n = #log
      sip.sleep(1.2)
      assert.equal(n, #log, "REGISTER sent after unregister")
    end)
  end)

  it("returns nil, code, reason when the registrar refuses", function()
    h.run(function(t)
      local alice, bob = endpoints(t)
      registrar(bob, {status = 403})
      local reg, code, reason = alice:register{registrar = registrar_uri(bob, "udp"),
        user = "alice", password = "secret", expires = 600}
      assert.is_nil(reg)
      assert.equal(403, code)
      assert.equal("Forbidden", reason)
    end)
  end)

  it("returns nil, 401 with a wrong password", function()
    h.run(function(t)
      local alice, bob = endpoints(t)
      local log = registrar(bob, {user = "alice", password = "secret", realm = "example.com",
        nonce = "n", qop = true})
      local reg, code = alice:register{registrar = registrar_uri(bob, "udp"),
        user = "alice", password = "wrong", expires = 600}
      assert.is_nil(reg)
      assert.equal(401, code)
      assert.equal(2, #log)
    end)
  end)

  it("registers over TCP with a TCP Contact", function()
    h.run(function(t)
      local alice, bob = endpoints(t)
      local _, tport = alice:address("tcp")
      local cfg = {user = "alice", password = "secret", realm = "example.com",
        nonce = "tcp-nonce", qop = true}
      local log = registrar(bob, cfg)
      local events = t.trace()
      local reg, code, reason = alice:register{registrar = registrar_uri(bob, "tcp"),
        user = "alice", password = "secret", expires = 300}
      assert.is_not_nil(reg, failed(code, reason))
      assert.equal(300, reg.expires)
      local e = log[#log]
      assert.truthy(e.contact and e.contact:find(":" .. tport, 1, true),
        "Contact does not name alice's TCP port " .. tport .. ": " .. tostring(e.contact))
      assert.truthy(e.contact:lower():find("transport=tcp", 1, true), "Contact: " .. e.contact)
      for _, ev in ipairs(h.events(events, "REGISTER ", "out")) do
        assert.equal("tcp", ev.transport)
      end
      assert.is_true(reg:unregister())
    end)
  end)
end)
