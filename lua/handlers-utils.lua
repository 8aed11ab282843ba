--- Pattern and handle helpers for Handlers (aos's `Handlers.utils`).
local utils = require('.utils')

local hutils = { _version = "0.1.0" }

local function tag(msg, name)
  local tags = type(msg.Tags) == "table" and msg.Tags or {}
  local value = tags[name]
  if value == nil then value = tags[utils.normalize(name)] end
  return value
end

--- Matches messages whose tag `name` is exactly `value`.
function hutils.hasMatchingTag(name, value)
  assert(type(name) == "string" and type(value) == "string", "invalid arguments: (name : string, value : string)")
  return function(msg)
    return tag(msg, name) == value
  end
end

--- Matches messages whose tag `name` is one of `values`.
function hutils.hasMatchingTagOf(name, values)
  assert(type(name) == "string" and type(values) == "table", "invalid arguments: (name : string, values : string[])")
  return function(msg)
    for _, value in ipairs(values) do
      local verdict = hutils.hasMatchingTag(name, value)(msg)
      if verdict ~= 0 and verdict ~= false and verdict ~= "skip" then return verdict end
    end
    return 0
  end
end

--- Matches messages whose Data is exactly `value`.
function hutils.hasMatchingData(value)
  assert(type(value) == "string", "invalid arguments: (value : string)")
  return function(msg)
    return msg.Data == value
  end
end

--- A handle that replies with `input` (a string becomes Data, a table is a whole message).
function hutils.reply(input)
  assert(type(input) == "table" or type(input) == "string", "invalid arguments: (input : table or string)")
  return function(msg)
    local reply = type(input) == "string" and { Data = input } or input
    if msg.reply then
      msg.reply(reply)
    else
      reply.Target = msg.From
      Send(reply)
    end
  end
end

--- Wraps a pattern (any matchSpec) so that a match lets later handlers run too.
function hutils.continue(pattern)
  return function(msg)
    local match = utils.matchesSpec(msg, pattern)
    if not match or match == 0 or match == "skip" then return match end
    return 1
  end
end

return hutils
