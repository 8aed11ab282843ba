-- The process library of the emscripten test module: a small aos-like shell around Lua 5.3,
-- speaking AO's `handle(msg, env)` protocol. `process.c` calls `Process.handle` with the two JSON
-- texts and returns what it answers: `{"ok": true, "response": {Output, Messages, Spawns,
-- Assignments, Error?}}`. Nothing here reads a clock or randomness except through the message.
local json = require('json')

Handlers = { list = {} }
Inbox = Inbox or {}
ao = { id = '', env = {}, outbox = {} }

local function reset_outbox()
  ao.outbox = { Messages = {}, Spawns = {}, Assignments = {}, Output = {} }
end
reset_outbox()

local function matches(pattern, msg)
  if type(pattern) == 'function' then return pattern(msg) end
  if type(pattern) == 'string' then return msg.Action == pattern end
  for k, v in pairs(pattern) do
    if msg[k] ~= v then return false end
  end
  return true
end

function Handlers.add(name, pattern, handler)
  for i, h in ipairs(Handlers.list) do
    if h.name == name then
      Handlers.list[i] = { name = name, pattern = pattern, handle = handler }
      return
    end
  end
  table.insert(Handlers.list, { name = name, pattern = pattern, handle = handler })
end

function Handlers.remove(name)
  for i, h in ipairs(Handlers.list) do
    if h.name == name then table.remove(Handlers.list, i) return end
  end
end

function Handlers.evaluate(msg)
  local handled = false
  for _, h in ipairs(Handlers.list) do
    if matches(h.pattern, msg) then
      h.handle(msg)
      handled = true
    end
  end
  if not handled then table.insert(Inbox, msg) end
end

local function tag_list(tags)
  local list = {}
  local names = {}
  for name in pairs(tags or {}) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do list[#list + 1] = { name = name, value = tostring(tags[name]) } end
  return list
end

function ao.send(m)
  local tags = {}
  for k, v in pairs(m) do
    if k ~= 'Target' and k ~= 'Data' and k ~= 'Tags' and type(v) ~= 'table' then tags[k] = v end
  end
  for k, v in pairs(m.Tags or {}) do tags[k] = v end
  local out = { Target = m.Target, Data = m.Data or '', Tags = tag_list(tags),
    Anchor = string.format('%032d', #ao.outbox.Messages + 1) }
  table.insert(ao.outbox.Messages, out)
  return out
end
Send = ao.send

function ao.spawn(module, m)
  local tags = {}
  for k, v in pairs(m or {}) do
    if k ~= 'Data' and type(v) ~= 'table' then tags[k] = v end
  end
  local out = { Module = module, Data = (m or {}).Data or '', Tags = tag_list(tags) }
  table.insert(ao.outbox.Spawns, out)
  return out
end
Spawn = ao.spawn

local printed = {}
print = function(...)
  local parts = {}
  for i = 1, select('#', ...) do parts[#parts + 1] = tostring((select(i, ...))) end
  printed[#printed + 1] = table.concat(parts, '\t')
end

-- Time is the message's, never the host's.
local now = 0
os.time = function() return now // 1000 end
os.clock = function() return 0 end
os.date = nil
os.getenv = function() return nil end
os.execute, os.remove, os.rename, os.tmpname, os.exit = nil, nil, nil, nil, nil
io = nil

local function lift(msg)
  for _, tag in ipairs(msg.Tags or {}) do
    if msg[tag.name] == nil then msg[tag.name] = tag.value end
  end
  return msg
end

local function show(v)
  if type(v) == 'table' then return json.encode(v) end
  return tostring(v)
end

Handlers.add('eval', function(msg) return msg.Action == 'Eval' and msg.From == ao.env.Process.Owner end,
  function(msg)
    local chunk, err = load('return ' .. msg.Data, 'eval', 't')
    if not chunk then chunk, err = load(msg.Data, 'eval', 't') end
    if not chunk then error(err, 0) end
    local value = chunk()
    if value ~= nil then printed[#printed + 1] = show(value) end
  end)

Process = {}

function Process.handle(msg_text, env_text)
  local msg = lift(json.decode(msg_text))
  local env = json.decode(env_text)
  ao.env = env
  ao.id = env.Process and env.Process.Id or ''
  now = tonumber(msg.Timestamp) or 0
  math.randomseed(#(msg['Hash-Chain'] or msg.Id or ''))
  reset_outbox()
  printed = {}
  local ok, err = pcall(Handlers.evaluate, msg)
  local response = {
    Messages = ao.outbox.Messages,
    Spawns = ao.outbox.Spawns,
    Assignments = ao.outbox.Assignments,
    Output = setmetatable({ data = table.concat(printed, '\n'), prompt = 'emcc> ' }, json.object),
  }
  if not ok then
    response.Error = tostring(err)
    response.Messages, response.Spawns, response.Assignments = {}, {}, {}
  end
  return json.encode(setmetatable({ ok = true, response = setmetatable(response, json.object) }, json.object))
end

return Process
