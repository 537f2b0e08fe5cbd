-- Checks of the option tables the API takes, and of the headers and
-- credentials of requests, shared by every part of the module.
local M = {}

function M.check_options(what, opts, allowed)
  if type(opts) ~= "table" then error(what .. ": expected a table of options", 3) end
  for k in pairs(opts) do
    if not allowed[k] then error(("%s: unknown option '%s'"):format(what, tostring(k)), 3) end
  end
end

-- The results of a pcall of sip.core: raises its error again at the line
-- of the script that called the API function (level 3: past the function
-- that calls this one). sip.core's errors already name that function
-- ("ua:call: from: ..."); the library's own position goes.
function M.checked(ok, ...)
  if ok then return ... end
  local e = ...
  if type(e) == "string" then e = e:gsub("^[^\n]-%.lua:%d+: ", "", 1) end
  error(e, 3)
end

function M.set(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end

-- Whether a header table names a header (long or compact form, any case).
function M.has_header(headers, long, compact)
  for k in pairs(headers or {}) do
    local n = type(k) == "string" and k:lower()
    if n == long or n == compact then return true end
  end
  return false
end

function M.auth_fields(what, auth, p)
  if auth == nil then return end
  if type(auth) ~= "table" or type(auth.user) ~= "string" or type(auth.password) ~= "string" then
    error(what .. ": auth must be {user = string, password = string}", 3)
  end
  p.user, p.password = auth.user, auth.password
end

-- The headers and body options of a request, checked; a body gets its type
-- (RFC 3261 §20.15): plain text unless told.
function M.request_headers(what, opts)
  if opts.headers ~= nil and type(opts.headers) ~= "table" then
    error(what .. ": headers must be a table", 3)
  end
  if opts.body ~= nil and type(opts.body) ~= "string" then
    error(what .. ": body must be a string", 3)
  end
  local headers = opts.headers
  if opts.body and #opts.body > 0 and not M.has_header(headers, "content-type", "c") then
    headers = { ["Content-Type"] = "text/plain" }
    for k, v in pairs(opts.headers or {}) do headers[k] = v end
  end
  return headers
end

return M
