--- Pattern and handle helpers for Handlers (aos's `Handlers.utils`).
local utils = require('.utils')

local hutils = {}

--- Matches messages whose tag (or field) `name` equals `value` (see utils.matchesPattern).
function hutils.hasMatchingTag(name, value)
  return function(msg)
    local actual = msg.Tags and msg.Tags[name]
    if actual == nil then actual = msg[name] end
    return utils.matchesPattern(value, actual, msg) and -1 or 0
  end
end

--- Matches messages whose tag `name` equals any of `values`.
function hutils.hasMatchingTagOf(name, values)
  return function(msg)
    for _, value in ipairs(values) do
      if hutils.hasMatchingTag(name, value)(msg) ~= 0 then return -1 end
    end
    return 0
  end
end

--- Matches messages whose Data equals `value`.
function hutils.hasMatchingData(value)
  return function(msg)
    return msg.Data == value and -1 or 0
  end
end

--- A handle that replies with `input` (a string becomes Data, a table is a whole message).
function hutils.reply(input)
  return function(msg)
    if type(input) == "string" then
      msg.reply({ Data = input })
    else
      msg.reply(input)
    end
  end
end

--- Wraps a pattern so that a match lets later handlers run too.
function hutils.continue(pattern)
  return function(msg)
    local match = pattern(msg)
    if match == -1 or match == true or match == "break" then return 1 end
    return match
  end
end

return hutils
