-- Tasks: the coroutines that scripts run in. A function that waits yields
-- its task; the C callback that ends the wait resumes it (never inside the
-- suspended coroutine's own stack: callbacks run on the main thread).
local M = {}

-- Live tasks: coroutine -> { on_end = function(ok, err) | nil }
local tasks = setmetatable({}, { __mode = "k" })

local function log_error(co, err)
  io.stderr:write("luasip: task failed: ", debug.traceback(co, tostring(err)), "\n")
end

-- Resumes a task and finishes it when it ends: an error is logged with its
-- traceback, its <close> variables run, and its owner hears how it ended.
local function resume(co, ...)
  local r = table.pack(coroutine.resume(co, ...))
  if not r[1] then
    log_error(co, r[2])
    coroutine.close(co)
  end
  if coroutine.status(co) == "dead" then
    local t = tasks[co]
    tasks[co] = nil
    if t and t.on_end then
      -- on_end(ok, results...) or on_end(false, err)
      local hok, herr = pcall(t.on_end, table.unpack(r, 1, r.n))
      if not hok then io.stderr:write("luasip: ", tostring(herr), "\n") end
    end
  end
end

function M.spawn_task(on_end, fn, ...)
  local co = coroutine.create(fn)
  tasks[co] = { on_end = on_end }
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
-- the yield) or later from the loop; a second call is ignored.
function M.wait(what, start)
  local co = M.current_task(what)
  local done, early = false, nil
  start(function(...)
    if done then return end
    done = true
    if coroutine.status(co) == "suspended" then
      resume(co, ...)
    else
      early = table.pack(...)
    end
  end)
  if early then return table.unpack(early, 1, early.n) end
  return coroutine.yield()
end

return M
