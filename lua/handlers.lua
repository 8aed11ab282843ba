--- Handlers: an ordered list of (name, pattern, handle). For each message, matching handlers run in
--- order; a pattern's verdict says whether to stop (true, -1, "break"), go on (1, "continue") or
--- skip (false, 0, "skip"). Only a stop counts as handled: a message that no handler stopped at
--- (even one that "continue" handlers saw) goes to the default handler (the Inbox), as in aos.
---
--- System handlers ("_eval" first, "_default" last) keep their places: `prepend` inserts after
--- "_eval", and everything is added before "_default".
local utils = require('.utils')

local handlers = { _version = "0.1.0" }
handlers.utils = require('.handlers-utils')
handlers.list = {}
handlers.onceNonce = 0

local SYSTEM_FIRST = { _eval = true }

-- Walks the list as ipairs does (up to the first nil), without a C call per step: this runs
-- for every handler of every message.
local function find_index(name)
  local list = handlers.list
  local i = 1
  local h = list[1]
  while h ~= nil do
    if h.name == name then return i end
    i = i + 1
    h = list[i]
  end
  return nil
end

local function default_index()
  local i = find_index("_default")
  return i or #handlers.list + 1
end

local function first_user_index()
  local i = 1
  while handlers.list[i] and SYSTEM_FIRST[handlers.list[i].name] do i = i + 1 end
  return i
end

--- `maxRuns` may be a number or "inf".
local function make(name, pattern, handle, maxRuns)
  assert(type(name) == "string", "handler name must be a string")
  assert(type(pattern) == "function" or type(pattern) == "string" or type(pattern) == "table",
    "pattern must be a function, a string or a table")
  assert(type(handle) == "function" or type(handle) == "table", "handle must be a function or a table of resolvers")
  if maxRuns == "inf" then maxRuns = nil end
  return { name = name, pattern = pattern, handle = handle, maxRuns = maxRuns }
end

local function upsert(entry, position)
  local existing = find_index(entry.name)
  if existing then
    handlers.list[existing] = entry -- re-adding a name updates it in place
    return #handlers.list
  end
  table.insert(handlers.list, position(), entry)
  return #handlers.list
end

function handlers.add(name, pattern, handle, maxRuns)
  if type(pattern) ~= "nil" and handle == nil and type(pattern) == "function" then
    -- add(name, handle): a handle that runs for messages whose Action is `name`
    pattern, handle = name, pattern
  end
  return upsert(make(name, pattern, handle, maxRuns), default_index)
end

handlers.append = handlers.add

function handlers.prepend(name, pattern, handle, maxRuns)
  return upsert(make(name, pattern, handle, maxRuns), first_user_index)
end

function handlers.before(target)
  return {
    add = function(name, pattern, handle, maxRuns)
      local at = find_index(target)
      if not at then return handlers.add(name, pattern, handle, maxRuns) end
      return upsert(make(name, pattern, handle, maxRuns), function()
        return math.max(find_index(target) or at, first_user_index())
      end)
    end,
  }
end

function handlers.after(target)
  return {
    add = function(name, pattern, handle, maxRuns)
      local at = find_index(target)
      if not at then return handlers.add(name, pattern, handle, maxRuns) end
      return upsert(make(name, pattern, handle, maxRuns), function()
        return math.min((find_index(target) or at) + 1, default_index())
      end)
    end,
  }
end

function handlers.remove(name)
  local i = find_index(name)
  if i then table.remove(handlers.list, i) end
  return #handlers.list
end

--- A handler that runs once: `once(name, pattern, handle)` or `once(pattern, handle)`.
function handlers.once(name, pattern, handle)
  if handle == nil then
    name, pattern, handle = nil, name, pattern
  end
  if name == nil then
    name = "_once_" .. handlers.onceNonce
    handlers.onceNonce = handlers.onceNonce + 1
  end
  return handlers.prepend(name, pattern, handle, 1)
end

--- The last handler failure of this message: its error and the stack of the coroutine it
--- was raised in (handlers run in coroutines, so the stack is gone once the error leaves it).
local failure = {}

--- Raises a failed coroutine's error again, remembering where it was raised (the innermost
--- coroutine's stack wins: a Receive's resumed handler fails inside the once-handler's).
local function rethrow(err, co)
  if failure.err ~= err then failure.err, failure.stack = err, debug.traceback(co) end
  error(err, 0)
end

--- The traceback of the handler whose error `err` is, if it was raised in one.
function handlers.failureTraceback(err)
  if failure.stack and failure.err == err then return failure.stack end
end

--- Suspends the running handler until a message matching `pattern` arrives, and returns it.
function handlers.receive(pattern)
  local self = coroutine.running()
  local _, main = coroutine.running()
  if main then error("Receive must be called inside a handler", 2) end
  handlers.once(pattern, function(msg)
    local ok, err = coroutine.resume(self, msg)
    if not ok then rethrow(err, self) end
  end)
  return coroutine.yield(pattern)
end

--- A table {[spec] = fn} turned into one handle: the first spec that matches runs.
function handlers.generateResolver(spec)
  return function(msg, env)
    local keys = {}
    for pattern in pairs(spec) do keys[#keys + 1] = pattern end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for _, pattern in ipairs(keys) do
      local verdict = utils.matchesSpec(msg, pattern)
      if verdict and verdict ~= 0 then return spec[pattern](msg, env) end
    end
  end
end

--- -1 (run, stop), 1 (run, go on) or 0 (skip).
local function verdict_of(result)
  if result == true or result == "break" then return -1 end
  if result == false or result == nil or result == "skip" then return 0 end
  if result == "continue" then return 1 end
  if result == -1 or result == 0 or result == 1 then return result end
  error("a pattern returned " .. tostring(result) .. ": expected true/false, -1/0/1, 'break', 'continue' or 'skip'", 0)
end

local function run(handle, msg, env)
  if type(handle) == "table" then handle = handlers.generateResolver(handle) end
  local co = coroutine.create(handle)
  local ok, err = coroutine.resume(co, msg, env)
  if not ok then rethrow(err, co) end
end

function handlers.evaluate(msg, env)
  failure = {}
  local handled = false
  local snapshot = table.move(handlers.list, 1, #handlers.list, 1, {})
  for i = 1, math.huge do
    local h = snapshot[i]
    if h == nil then break end
    if h.name ~= "_default" and find_index(h.name) then
      local verdict = verdict_of(utils.matchesSpec(msg, h.pattern))
      if verdict ~= 0 then
        if verdict < 0 then handled = true end
        if h.maxRuns then
          h.maxRuns = h.maxRuns - 1
          if h.maxRuns <= 0 then handlers.remove(h.name) end
        end
        run(h.handle, msg, env)
        if verdict < 0 then break end
      end
    end
  end
  if not handled then
    local i = find_index("_default")
    if i then run(handlers.list[i].handle, msg, env) end
  end
  return handled
end

return handlers
