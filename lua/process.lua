--- The process entry: `handle(msg, env)` normalises a message, checks trust and assignments, runs
--- the handlers and returns the result `{Output, Messages, Spawns, Assignments, Patches?, Error?}`.
--- The wasm guest calls it for every message (and rolls the state back when the result carries
--- `Error`). What a process sees matches aos 2.0; lua/README.md lists where it deliberately differs.
local json = require('json')
local ao = require('.ao')
local handlers = require('.handlers')
local stringify = require('.stringify')
local utils = require('.utils')
local chance = require('.chance')
local eval = require('.eval')
local assignment = require('.assignment')

local process = { _version = "0.1.0" }

local INBOX_LIMIT = 10000

-- `require('ao')` and `require('.ao')` (and so on) must give the same tables, as in aos.
for name, module in pairs({ ao = ao, handlers = handlers, utils = utils, json = json }) do
  package.loaded[name], package.loaded["." .. name] = module, module
end

-- Globals every process has, as in aos.
Colors = Colors or {
  red = "\27[31m", green = "\27[32m", blue = "\27[34m", reset = "\27[0m", gray = "\27[90m",
}
Bell = "\x07"
Dump = require('.dump')
Handlers = handlers
Utils = utils
Inbox = Inbox or {}
Name = Name or "aos"
Owner = Owner
Seeded = Seeded or false
_G.ao = ao
assignment.init(ao)

local function color(name) return (Colors and Colors[name]) or "" end

--- The prompt the shell shows; a process may redefine it.
-- Built with every message's output: the colours are looked up once, not through `color`.
function Prompt()
  local c = Colors or {}
  local gray = c.gray or ""
  return (c.green or "") .. Name .. gray .. "@" .. (c.blue or "") .. "aos-" .. process._version
    .. gray .. "[Inbox:" .. (c.red or "") .. #Inbox .. gray .. "]" .. (c.reset or "") .. "> "
end

function Version()
  print("version: " .. process._version)
end

-- print is captured per message into Output.data, coloured as aos colours it.
local printed = {}

local function shown(v)
  local kind = type(v)
  if kind == "table" then return stringify.format(v) end
  if kind == "boolean" then return color("blue") .. tostring(v) .. color("reset") end
  if kind == "nil" then return color("red") .. "nil" .. color("reset") end
  if kind == "number" then return color("green") .. tostring(v) .. color("reset") end
  return tostring(v)
end

print = function(...)
  local parts = {}
  for i = 1, math.max(select("#", ...), 1) do parts[i] = shown((select(i, ...))) end
  printed[#printed + 1] = table.concat(parts, "\t")
end

local function show(text) printed[#printed + 1] = text end

-- aos's math.random: one Mersenne Twister stream for the process's whole life, seeded on its
-- first message (see `seed`), so a process draws the same numbers here as on aos.
math.random = function(...)
  local n = select("#", ...)
  if n == 0 then return chance.random() end
  if n == 1 then return chance.integer(1, (...)) end
  if n == 2 then return chance.integer(...) end
  return chance.random()
end

local function seed(msg)
  if Seeded then return end
  local height = msg["Block-Height"] or 0
  if math.type(height) == "float" and height == math.floor(height) then height = math.tointeger(height) end
  local sum = 0
  local text = tostring(msg.Owner or "") .. tostring(msg.Module or "") .. tostring(msg.Id or "")
  for i = 1, #text do sum = sum + text:byte(i) end
  local value = tonumber(tostring(height) .. tostring(sum)) or sum
  chance.seed(math.tointeger(value) or math.floor(value % 4294967296.0))
  Seeded = true
end

-- Send, Spawn and Assign answer in aos's short form; the REPL shows `Message added to outbox`.
local SHORT = { __tostring = function(t) return t.output end }

function Send(msg)
  if msg.Target == nil and msg.device ~= "patch@1.0" then
    print("WARN: No target specified for message. Data will be stored, but no process will receive it.")
  end
  local sent = ao.send(msg)
  return setmetatable({ output = "Message added to outbox", receive = sent.receive, onReply = sent.onReply }, SHORT)
end

function Spawn(...)
  local module, msg = ...
  if select("#", ...) == 1 then module, msg = ao._module, ... end
  local spawned = ao.spawn(module, msg or {})
  return setmetatable({ output = "Spawn process request added to outbox", after = spawned.after,
    receive = spawned.receive, onReply = spawned.onReply }, SHORT)
end

function Assign(request)
  ao.assign(request)
  print("Assignment added to outbox.")
  return "Assignment added to outbox."
end

function Receive(pattern) return handlers.receive(pattern) end

-- System handlers -------------------------------------------------------------

local function is_trusted_owner(msg)
  if msg.From == Owner then return true end
  for _, authority in ipairs(ao.authorities) do
    if msg.From == authority then return true end
  end
  return false
end

local evaluated = false

local function insert_inbox(msg)
  table.insert(Inbox, msg)
  while #Inbox > INBOX_LIMIT do table.remove(Inbox, 1) end
end

--- aos's notice of a message nobody handled, e.g. `New Message From abc...xyz: Action = Ping`.
local function default(msg)
  if msg.Cron then return end -- cron ticks nobody handles are not worth keeping
  insert_inbox(msg)
  local from = msg.From and (msg.From:sub(1, 3) .. "..." .. msg.From:sub(-3)) or "unknown"
  local text = color("gray") .. "New Message From " .. color("green") .. from .. color("gray") .. ": "
  if msg.Action then
    text = text .. color("gray") .. "Action = " .. color("blue") .. tostring(msg.Action):sub(1, 20) .. color("reset")
  else
    local data = msg.Data
    if type(data) == "table" then
      local ok, encoded = pcall(json.encode, data)
      data = ok and encoded or stringify.plain(data)
    end
    text = text .. color("gray") .. "Data = " .. color("blue") .. tostring(data or ""):sub(1, 20) .. color("reset")
  end
  print(text)
end

handlers.list = {
  { name = "_eval", pattern = function(msg) return msg.Action == "Eval" and is_trusted_owner(msg) end,
    handle = function(msg) evaluated = true; eval.run(msg.Data, show) end },
  { name = "_default", pattern = function() return true end, handle = default },
}

-- Replies ---------------------------------------------------------------------

local function attach_replies(msg)
  msg.reply = function(reply)
    if type(reply) == "string" then reply = { Data = reply } end
    reply = reply or {}
    reply.Target = msg["Reply-To"] or reply.Target or msg.From
    -- Always present (empty when the message had no Reference), as aos's legacy reply did: clients
    -- look for the tag on every reply.
    reply["X-Reference"] = msg["X-Reference"] or msg.Reference or ""
    reply["X-Origin"] = msg["X-Origin"]
    return ao.send(reply)
  end
  msg.forward = function(target, extra)
    local copy = ao.sanitize(msg)
    copy.Tags, copy.TagArray, copy.reply, copy.forward = nil, nil, nil, nil
    for k, v in pairs(extra or {}) do copy[k] = v end
    copy.Target = target
    copy.Data = msg.Data
    copy["Reply-To"] = msg["Reply-To"] or msg.From
    copy["X-Reference"] = msg["X-Reference"] or msg.Reference
    copy["X-Origin"] = msg["X-Origin"] or msg.From
    copy.Id, copy.Timestamp, copy.Nonce, copy["Hash-Chain"], copy["Block-Height"], copy.Epoch, copy.Module =
      nil, nil, nil, nil, nil, nil, nil
    copy.Reference = nil
    return ao.send(copy)
  end
end

-- The entry ---------------------------------------------------------------------

--- Output of this message; `print` marks output the shell's live feed should show (anything but
--- the owner's own Eval).
local function output()
  local data = table.concat(printed, "\n")
  return { data = data, prompt = Prompt(), print = not evaluated and #printed > 0 }
end

--- Any error value as a non-empty text: `error("")`, `error(nil)` and `error({})` must still fail
--- the message (the runtime treats a non-empty Error as failure).
local function error_text(err)
  local text
  if type(err) == "string" then
    text = err
  elseif type(err) == "table" and not (getmetatable(err) and getmetatable(err).__tostring) then
    text = stringify.plain(err)
  else
    text = tostring(err)
  end
  if text == "" then text = "error (with an empty message)" end
  return text
end

--- A handler's error with the stack where it was raised, from `debug.traceback` (the
--- runtime's: names and lines only): the failed handler coroutine's stack, or for an error
--- outside the handlers (a pattern's) the raising stack without this file's own frames.
--- Memory errors skip the message handler and arrive bare.
local traced = {}

local function trace(err)
  local stack = handlers.failureTraceback(err)
  if not stack then
    stack = debug.traceback(nil, 2)
    local cut = stack:find("\n\t[C]: in function 'xpcall'", 1, true)
    if cut then stack = stack:sub(1, cut - 1) end
  end
  return setmetatable({ err = err, stack = stack }, traced)
end

--- aos's error shape: what was printed, then `error:` and the message. A handler's error also
--- prints aos's `Error handling message …` line, the message and the traceback.
local function failed(msg, err)
  local stack
  if getmetatable(err) == traced then err, stack = err.err, err.stack end
  local text = error_text(err)
  if msg.Action ~= "Eval" then
    if msg.Action then
      print(color("red") .. "Error" .. color("gray") .. " handling message with Action = " .. tostring(msg.Action) .. color("reset"))
    else
      print(color("red") .. "Error" .. color("gray") .. " handling message " .. color("reset"))
    end
    print(color("green") .. text .. color("reset"))
    if stack then print("\n" .. color("gray") .. stack .. color("reset")) end
  end
  local out = output()
  ao.clearOutbox() -- a failed message sends nothing
  return ao.result({
    Error = table.concat(printed, "\n") .. "\n\n" .. color("red") .. "error:\n" .. color("reset") .. text,
    Output = out,
  })
end

--- A refusal: tell the sender (unless it is this process) and print why; nothing else runs.
local function refuse(msg, notice, line)
  if msg.From ~= ao.id then ao.send({ Target = msg.From, Data = notice }) end
  print(line .. " From: " .. tostring(msg.From) .. " - Owner: " .. tostring(msg.Owner))
  return ao.result({ Output = output() })
end

function process.handle(msg, env)
  ao.init(env)
  ao.clearOutbox()
  printed = {}
  evaluated = false
  ao.normalize(msg)
  seed(msg)
  if msg.Tags["Content-Type"] == "application/json" and type(msg.Data) == "string" then
    local ok, decoded = pcall(json.decode, msg.Data)
    if ok then msg.Data = decoded end
  end
  attach_replies(msg)

  if Owner == nil and msg.Tags.Type == "Process" then
    -- The spawn (slot 0): whoever spawned the process owns it; it is Inbox[1], as in aos.
    Owner = msg.From
    Name = msg.Tags.Name or Name
    insert_inbox(msg)
    local ok, err = pcall(eval.boot, msg, show)
    if not ok then return failed(msg, err) end
    return ao.result({ Output = output() })
  end

  if not ao.isTrusted(msg) then
    return refuse(msg, "Message is not trusted by this process!", "Message is not trusted!")
  end
  if ao.isAssignment(msg) and not ao.isAssignable(msg) then
    return refuse(msg, "Assignment is not trusted by this process!", "Assignment is not trusted!")
  end

  local ok, err = xpcall(handlers.evaluate, trace, msg, env)
  if not ok then return failed(msg, err) end
  return ao.result({ Output = output() })
end

return process
