--- The process entry: `handle(msg, env)` normalises a message, runs the handlers and returns the
--- result `{Output, Messages, Spawns, Assignments, Error}`. The wasm guest calls it for every
--- message (and rolls the state back when the result carries `Error`).
local json = require('json')
local ao = require('.ao')
local handlers = require('.handlers')
local stringify = require('.stringify')
local utils = require('.utils')

local process = { _version = "0.1.0" }

local INBOX_LIMIT = 10000

-- Globals every process has, as in aos.
Handlers = handlers
Utils = utils
Inbox = Inbox or {}
Name = Name or "aos"
Owner = Owner
Send = function(msg) return ao.send(msg) end
Spawn = function(module, msg) return ao.spawn(module, msg) end
Assign = function(assignment) return ao.assign(assignment) end
Receive = function(pattern) return handlers.receive(pattern) end
_G.ao = ao

--- The prompt the shell shows; a process may redefine it.
function Prompt()
  return Name .. "@aos-" .. process._version .. "[Inbox:" .. #Inbox .. "]> "
end

-- print is captured per message into Output.data.
local printed = {}
print = function(...)
  local parts = {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    parts[#parts + 1] = type(v) == "table" and stringify.format(v) or tostring(v)
  end
  printed[#printed + 1] = table.concat(parts, "\t")
end

local function short(id)
  id = tostring(id or "?")
  return #id > 10 and (id:sub(1, 6) .. "…" .. id:sub(-4)) or id
end

-- System handlers -------------------------------------------------------------

local function is_trusted_owner(msg)
  if msg.From == Owner then return true end
  for _, authority in ipairs(ao.authorities) do
    if msg.From == authority then return true end
  end
  return false
end

--- `return <Data>` first (so `1 + 1` shows 2), then `<Data>` as a statement.
local evaluated = false

local function eval(msg)
  evaluated = true
  local code = msg.Data or ""
  local fn, err = load("return " .. code, "=aos", "t", _G)
  if not fn then fn, err = load(code, "=aos", "t", _G) end
  if not fn then error(err, 0) end
  local results = table.pack(fn())
  local shown = {}
  for i = 1, results.n do
    local v = results[i]
    shown[#shown + 1] = type(v) == "table" and stringify.format(v) or tostring(v)
  end
  if results.n > 0 and not (results.n == 1 and results[1] == nil) then
    printed[#printed + 1] = table.concat(shown, "\t")
  end
end

local function default(msg)
  if msg.Cron then return end -- cron ticks nobody handles are not worth keeping
  table.insert(Inbox, msg)
  while #Inbox > INBOX_LIMIT do table.remove(Inbox, 1) end
  -- What the shell's live feed shows: sender, Action and the start of Data.
  local parts = {}
  if msg.Action then parts[#parts + 1] = "Action = " .. tostring(msg.Action) end
  if msg.Data ~= nil and msg.Data ~= "" then
    local data = tostring(msg.Data)
    if #data > 40 then data = data:sub(1, 40) .. "..." end
    parts[#parts + 1] = "Data = " .. data
  end
  if #parts == 0 then parts[1] = "(no Action, no Data)" end
  print("New Message From " .. short(msg.From) .. ": " .. table.concat(parts, ", "))
end

handlers.list = {
  { name = "_eval", pattern = function(msg) return msg.Action == "Eval" and is_trusted_owner(msg) end, handle = eval },
  { name = "_default", pattern = function() return true end, handle = default },
}

-- Replies ---------------------------------------------------------------------

local function attach_replies(msg)
  msg.reply = function(reply)
    if type(reply) == "string" then reply = { Data = reply } end
    reply = reply or {}
    reply.Target = msg["Reply-To"] or msg.From
    reply["X-Reference"] = msg.Reference or ""
    for name, value in pairs(msg.Tags) do
      if name:match("^X%-") and name ~= "X-Reference" and reply[name] == nil then reply[name] = value end
    end
    return ao.send(reply)
  end
  msg.forward = function(target, extra)
    local copy = ao.sanitize(msg)
    copy.Tags, copy.TagArray, copy.reply, copy.forward = nil, nil, nil, nil
    for k, v in pairs(extra or {}) do copy[k] = v end
    copy.Target = target
    copy.Data = msg.Data
    copy["X-Origin"] = msg.From
    copy.Id, copy.Timestamp, copy.Nonce, copy["Hash-Chain"], copy["Block-Height"], copy.Epoch, copy.Module =
      nil, nil, nil, nil, nil, nil, nil
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

function process.handle(msg, env)
  ao.init(env)
  ao.clearOutbox()
  printed = {}
  evaluated = false
  ao.normalize(msg)
  if msg.Tags["Content-Type"] == "application/json" and type(msg.Data) == "string" then
    local ok, decoded = pcall(json.decode, msg.Data)
    if ok then msg.Data = decoded end
  end
  attach_replies(msg)

  if Owner == nil and msg.Tags.Type == "Process" then
    -- The spawn (slot 0): whoever spawned the process owns it.
    Owner = msg.From
    Name = msg.Tags.Name or Name
    return ao.result({ Output = output() })
  end

  if not ao.isTrusted(msg) then
    print("Message " .. short(msg.Id) .. " is not trusted: From " .. short(msg.From)
      .. " was not forwarded by an authority (Owner " .. short(msg.Owner) .. ")")
    return ao.result({ Output = output() })
  end

  local ok, err = pcall(handlers.evaluate, msg, env)
  if not ok then
    return ao.result({ Error = tostring(err), Output = output() })
  end
  return ao.result({ Output = output() })
end

return process
