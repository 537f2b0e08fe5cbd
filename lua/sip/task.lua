-- Tasks: the coroutines that scripts run in. A function that waits yields
-- its task; the C callback that ends the wait resumes it (never inside the
-- suspended coroutine's own stack: callbacks run on the main thread).
local M = {}

-- Live tasks: coroutine -> function(ok, results...) to hear the end, or true
local tasks = setmetatable({}, { __mode = "k" })

local function log_error(co, err)
  io.stderr:write("luasip: task failed: ", debug.traceback(co, tostring(err)), "\n")
end

-- What a resume returned, passed on as it is (no table for it: every call
-- resumes its tasks several times).
local function finish(co, ok, ...)
  if not ok then
    log_error(co, (...))
    coroutine.close(co)
  end
  if coroutine.status(co) == "dead" then
    local on_end = tasks[co]
    tasks[co] = nil
    if on_end and on_end ~= true then
      -- on_end(ok, results...) or on_end(false, err)
      local hok, herr = pcall(on_end, ok, ...)
      if not hok then io.stderr:write("luasip: ", tostring(herr), "\n") end
    end
  end
end

-- Resumes a task and finishes it when it ends: an error is logged with its
-- traceback, its <close> variables run, and its owner hears how it ended.
local function resume(co, ...)
  finish(co, coroutine.resume(co, ...))
end

function M.spawn_task(on_end, fn, ...)
  local co = coroutine.create(fn)
  tasks[co] = on_end or true
  resume(co, ...)
  return co
end

-- The running task, or an error naming what needed one.
function M.current_task(what)
  local co, main = coroutine.running()
  if main or not tasks[co] then
    error(what .. " must be called inside a task (sip.run or sip.spawn)", 3)
  end
  return co
end

-- Waits inside a task until the callback handed to start is called, and
-- returns what it was called with. The callback may come at once (before
-- the yield) or later from the loop; a second call is ignored. start is a
-- function that gets the callback, or a table that gets it as field key
-- (a waiter that an event looks up: no closure to make for it).
function M.wait(what, start, key)
  local co = M.current_task(what)
  local done, early = false, nil
  local function k(...)
    if done then return end
    done = true
    if coroutine.status(co) == "suspended" then
      resume(co, ...)
    else
      early = table.pack(...)
    end
  end
  if key ~= nil then start[key] = k else start(k) end
  if early then return table.unpack(early, 1, early.n) end
  return coroutine.yield()
end

return M
