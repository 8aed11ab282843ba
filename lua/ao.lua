--- `ao`: the process's view of the computer — its id and env, its outbox (messages, spawns and
--- assignments it sends), and who it trusts.
local json = require('json')

local ao = {
  _version = "0.1.0",
  id = "",
  _module = "",
  authorities = {},
  reference = 0,
  outbox = { Output = {}, Messages = {}, Spawns = {}, Assignments = {}, Patches = {} },
  env = { Process = { Tags = {} }, Module = {} },
}

--- Tags the node sets on what it forwards; a process may not set them.
ao.nonForwardableTags = {
  "Data-Protocol", "Variant", "From-Process", "From-Module", "Type", "Pushed-For", "Crank-Depth",
  "Ref_", "From", "Owner", "Anchor", "Target", "Data", "Tags", "Read-Only",
}

--- Message fields a tag can never overwrite when tags are lifted onto the message.
ao.nonExtractableTags = {
  "Data-Protocol", "Variant", "From-Process", "From-Module", "Type", "Pushed-For", "Crank-Depth",
  "Id", "From", "Owner", "Target", "Data", "Anchor", "Tags", "TagArray", "Timestamp", "Nonce",
  "Epoch", "Hash-Chain", "Block-Height", "Module", "Cron", "Read-Only", "Forwarded-By",
}

local function set_of(list)
  local out = {}
  for _, v in ipairs(list) do out[v] = true end
  return out
end
local NON_FORWARDABLE = set_of(ao.nonForwardableTags)
local NON_EXTRACTABLE = set_of(ao.nonExtractableTags)

local function tag_value(tags, name)
  for _, tag in ipairs(tags or {}) do
    if tag.name == name then return tag.value end
  end
  return nil
end

local function split_authorities(tags)
  local out = {}
  for _, tag in ipairs(tags or {}) do
    if tag.name == "Authority" then
      for part in tostring(tag.value):gmatch("[^,%s]+") do out[#out + 1] = part end
    end
  end
  return out
end

function ao.init(env)
  ao.env = env or ao.env
  local process = ao.env.Process or {}
  if ao.id == "" then ao.id = process.Id or "" end
  if ao.env.Module then ao._module = ao.env.Module.Id or ao._module end
  if #ao.authorities == 0 then
    ao.authorities = split_authorities(process.Tags)
    if #ao.authorities == 0 then
      -- This node's messenger forwards process-to-process messages, signing them with the key
      -- whose address is also the scheduler id.
      ao.authorities = { tag_value(process.Tags, "Scheduler") }
    end
  end
end

--- A tag name as aos spells it: `_` becomes `-`, everything lower case, then the first letter and
--- each letter after a `-` upper case (`data_PROTOCOL` → `Data-Protocol`, `ACTION` → `Action`).
-- Names seen before are looked up: a message's few tag names repeat from message to message. The
-- cache is dropped whole when full, so it stays small whatever names arrive.
local normalized, cached = {}, 0

function ao.normalizeTag(name)
  local known = normalized[name]
  if known then return known end
  local text = tostring(name):gsub("_", "-"):lower()
  local out = text:gsub("^%l", string.upper):gsub("%-%l", string.upper)
  if type(name) == "string" then
    if cached >= 1024 then normalized, cached = {}, 0 end
    normalized[name], cached = out, cached + 1
  end
  return out
end
ao.titleCase = ao.normalizeTag

--- Tag list → `msg.Tags` (name → value, first wins), `msg.TagArray` (the list), and each tag lifted
--- onto the message as a field, except protocol tags and the message's own fields.
function ao.normalize(msg)
  local array = msg.TagArray or msg.Tags or {}
  if #array == 0 and next(array) ~= nil then
    -- Already a map (a dry-run caller may send one): turn it into a sorted list.
    local names = {}
    for name in pairs(array) do names[#names + 1] = name end
    table.sort(names)
    local list = {}
    for _, name in ipairs(names) do list[#list + 1] = { name = name, value = array[name] } end
    array = list
  end
  local map, titled = {}, {}
  -- The walk `ipairs` makes, without a call per tag; `rawget` only when `msg` has a metatable.
  local normalizeTag, plain = ao.normalizeTag, getmetatable(msg) == nil
  for i = 1, math.huge do
    local tag = array[i]
    if tag == nil then break end
    local name = normalizeTag(tag.name)
    local value = tag.value
    titled[i] = { name = name, value = value }
    if map[name] == nil then map[name] = value end
    if not NON_EXTRACTABLE[name] then
      if plain then
        if msg[name] == nil then msg[name] = value end
      elseif rawget(msg, name) == nil then
        msg[name] = value
      end
    end
  end
  msg.Tags, msg.TagArray = map, titled
  if map.Cron ~= nil and msg.Cron ~= true then msg.Cron = map.Cron == "true" or map.Cron == true end
  return msg
end

--- A copy of `msg` without the tags a process may not forward.
function ao.sanitize(msg)
  local out = {}
  for k, v in pairs(msg) do
    if not NON_FORWARDABLE[k] and type(v) ~= "function" then out[k] = v end
  end
  return out
end

function ao.clearOutbox()
  ao.outbox = { Output = {}, Messages = {}, Spawns = {}, Assignments = {}, Patches = {} }
end

local function padded(ref)
  return string.rep("0", 32 - #ref) .. ref
end

--- Builds {Target, Anchor, Tags, Data} from aos's message shape: every field that is not Target,
--- Data, Anchor or Tags becomes a tag (sorted by name), then the explicit Tags.
local NOT_TAGS = { Target = true, Data = true, Anchor = true, Tags = true, From = true }

-- `tostring` as the library found it, and the strings' metatable: while the global is still that
-- function and strings have no `__tostring`, a string is its own text, with no call to make.
local builtin_tostring = tostring
local STRINGS = getmetatable("")

-- The same loop in native code (vm/glue/src/outbox.rs), for a message it can be sure of: no
-- metatable (so `pairs` is `next`), the library's `tostring`. It answers nil for the rest.
local native_field_tags = require('aos.outbox').fieldTags

local function field_tags(msg, plain)
  local tags = {}
  local names, n = {}, 0
  for k, v in pairs(msg) do
    if type(k) == "string" and not NOT_TAGS[k] then
      local kind = type(v)
      if kind ~= "function" and kind ~= "table" then
        n = n + 1
        names[n] = k
      end
    end
  end
  table.sort(names)
  for i = 1, n do
    local k = names[i]
    local v = msg[k]
    if not (plain and type(v) == "string") then v = tostring(v) end
    tags[i] = { name = k, value = v }
  end
  return tags
end

local function build(msg, ref)
  local plain = tostring == builtin_tostring and STRINGS.__tostring == nil
  local tags = plain and getmetatable(msg) == nil and native_field_tags(msg, NOT_TAGS) or nil
  if tags == nil then tags = field_tags(msg, plain) end
  if type(msg.Tags) == "table" then
    if #msg.Tags > 0 then
      for _, tag in ipairs(msg.Tags) do tags[#tags + 1] = { name = tag.name, value = tostring(tag.value) } end
    else
      local keys = {}
      for k in pairs(msg.Tags) do keys[#keys + 1] = k end
      table.sort(keys)
      for _, k in ipairs(keys) do tags[#tags + 1] = { name = k, value = tostring(msg.Tags[k]) } end
    end
  end
  tags[#tags + 1] = { name = "Reference", value = ref }
  local data = msg.Data
  if type(data) == "table" then
    data = json.encode(data)
    tags[#tags + 1] = { name = "Content-Type", value = "application/json" }
  elseif data ~= nil then
    data = tostring(data)
  end
  return { Target = msg.Target, Anchor = padded(ref), Tags = tags, Data = data or "" }
end

--- A `patch@1.0` send (HyperBEAM's way to publish state): its fields but `device` and `Target`
--- become one entry of the result's `Patches`, values as given (tables stay tables).
local function patch_of(msg)
  local patch = {}
  for k, v in pairs(msg) do
    if k ~= "device" and k ~= "Target" and type(v) ~= "function" then patch[k] = v end
  end
  return patch
end

--- Sends a message (a message without Target is kept in the outbox; the messenger has nowhere to
--- deliver it). Returns the message with `receive([from])`, which waits for its reply, and
--- `onReply([from,] handle)`, which runs `handle` on the reply when it comes, in a later message.
function ao.send(msg)
  assert(type(msg) == "table", "msg should be a table")
  if msg.device == "patch@1.0" then
    local patch = patch_of(msg)
    table.insert(ao.outbox.Patches, patch)
    return patch
  end
  ao.reference = ao.reference + 1
  local ref = tostring(ao.reference)
  local message = build(msg, ref)
  table.insert(ao.outbox.Messages, message)
  local returned = {}
  for k, v in pairs(message) do returned[k] = v end
  returned.receive = function(from)
    return Handlers.receive({ From = from or msg.Target, ["X-Reference"] = ref })
  end
  returned.onReply = function(...)
    local from, handle = msg.Target, ...
    if select("#", ...) >= 2 then from, handle = ... end
    Handlers.once({ From = from, ["X-Reference"] = ref }, handle)
  end
  return returned
end

function ao.spawn(module, msg)
  msg = msg or {}
  ao.reference = ao.reference + 1
  local ref = tostring(ao.reference)
  local spawn = build(msg, ref)
  spawn.Target = nil
  if module and module ~= "" then
    table.insert(spawn.Tags, 1, { name = "Module", value = module })
  end
  table.insert(ao.outbox.Spawns, spawn)
  local returned = {}
  for k, v in pairs(spawn) do returned[k] = v end
  local pattern = { Action = "Spawned", ["X-Reference"] = ref }
  returned.receive = function() return Handlers.receive(pattern) end
  returned.onReply = function(handle) Handlers.once(pattern, handle) end
  returned.after = returned.onReply
  return returned
end

function ao.assign(assignment)
  assert(type(assignment.Processes) == "table", "Processes (a list of ids) is required")
  assert(type(assignment.Message) == "string", "Message (an id) is required")
  table.insert(ao.outbox.Assignments, { Processes = assignment.Processes, Message = assignment.Message })
end

--- Signed by its sender directly, or forwarded by an authority.
function ao.isTrusted(msg)
  if msg.From == msg.Owner then return true end
  for _, authority in ipairs(ao.authorities) do
    if msg.Owner == authority then return true end
  end
  return false
end

function ao.result(result)
  local out = {
    Output = result.Output or ao.outbox.Output,
    Messages = ao.outbox.Messages,
    Spawns = ao.outbox.Spawns,
    Assignments = ao.outbox.Assignments,
  }
  if #ao.outbox.Patches > 0 then out.Patches = ao.outbox.Patches end
  if result.Error ~= nil then out.Error = result.Error end
  return out
end

return ao
