--- Functional helpers in aos's style (most are curried: `utils.map(f)(list)` or `utils.map(f, list)`),
--- plus balance-string arithmetic for tokens.
local bint = require('.bint')(256)

local utils = { _version = "0.1.0" }

function utils.curry(fn, arity)
  assert(type(fn) == "function", "function is required as first argument")
  arity = arity or 2
  if arity < 2 then return fn end
  return function(...)
    local args = { ... }
    if #args >= arity then return fn(table.unpack(args, 1, arity)) end
    return utils.curry(function(...)
      local rest = { ... }
      local all = table.move(args, 1, #args, 1, {})
      table.move(rest, 1, #rest, #all + 1, all)
      return fn(table.unpack(all))
    end, arity - #args)
  end
end

function utils.concat(a, b)
  if b == nil then return function(b2) return utils.concat(a, b2) end end
  local out = table.move(a, 1, #a, 1, {})
  return table.move(b, 1, #b, #out + 1, out)
end

function utils.reduce(fn, initial, list)
  if list == nil then return function(l) return utils.reduce(fn, initial, l) end end
  local acc = initial
  for i, v in ipairs(list) do
    if i == 1 and acc == nil then acc = v else acc = fn(acc, v) end
  end
  return acc
end

function utils.map(fn, list)
  if list == nil then return function(l) return utils.map(fn, l) end end
  local out = {}
  for i, v in ipairs(list) do out[i] = fn(v, i) end
  return out
end

function utils.filter(fn, list)
  if list == nil then return function(l) return utils.filter(fn, l) end end
  local out = {}
  for _, v in ipairs(list) do
    if fn(v) then out[#out + 1] = v end
  end
  return out
end

function utils.find(fn, list)
  if list == nil then return function(l) return utils.find(fn, l) end end
  for _, v in ipairs(list) do
    if fn(v) then return v end
  end
  return nil
end

function utils.propEq(name, value, object)
  if object == nil then return function(o) return utils.propEq(name, value, o) end end
  return object[name] == value
end

function utils.prop(name, object)
  if object == nil then return function(o) return utils.prop(name, o) end end
  return object[name]
end

function utils.includes(value, list)
  if list == nil then return function(l) return utils.includes(value, l) end end
  for _, v in ipairs(list) do
    if v == value then return true end
  end
  return false
end

function utils.reverse(list)
  local out = {}
  for i = #list, 1, -1 do out[#out + 1] = list[i] end
  return out
end

--- `compose(f, g, h)(x)` = f(g(h(x))).
function utils.compose(...)
  local fns = { ... }
  return function(...)
    local result = table.pack(...)
    for i = #fns, 1, -1 do result = table.pack(fns[i](table.unpack(result, 1, result.n))) end
    return table.unpack(result, 1, result.n)
  end
end

--- Sorted keys (deterministic, unlike `pairs`).
function utils.keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out, function(a, b) return tostring(a) < tostring(b) end)
  return out
end

--- Values in the order of `utils.keys`.
function utils.values(t)
  local out = {}
  for _, k in ipairs(utils.keys(t)) do out[#out + 1] = t[k] end
  return out
end

function utils.isArray(t)
  if type(t) ~= "table" then return false end
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  for i = 1, n do if t[i] == nil then return false end end
  return true
end

--- Deep equality.
function utils.isEqual(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then return a == b end
  for k, v in pairs(a) do
    if not utils.isEqual(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

--- Whether `value` matches `spec` (the pattern language of Handlers, see handlers.lua).
function utils.matchesPattern(spec, value, msg)
  if spec == "_" then return value ~= nil end
  if type(spec) == "function" then return spec(value, msg) end
  if type(spec) == "table" then
    for _, alternative in ipairs(spec) do
      if utils.matchesPattern(alternative, value, msg) then return true end
    end
    return false
  end
  if type(spec) == "string" then
    if value == nil then return false end
    value = tostring(value)
    if spec:find("[%^%$%(%)%%%.%[%]%*%+%-%?]") then
      -- A Lua pattern; a string with magic characters that fails to parse as one is compared as text.
      local ok, found = pcall(string.match, value, "^" .. spec .. "$")
      if ok and found ~= nil then return true end
      return spec == value
    end
    return spec:lower() == value:lower()
  end
  return spec == value
end

--- Whether `msg` matches `spec`: a function's verdict, a string equal to `msg.Action`, or a table
--- whose every key must match the message's field of that name.
function utils.matchesSpec(msg, spec)
  if type(spec) == "function" then return spec(msg) end
  if type(spec) == "string" then return msg.Action == spec end
  if type(spec) == "table" then
    -- Keys in sorted order: which check runs first (and may fail or raise) must not depend on
    -- the hash order of the table.
    local keys = {}
    for key in pairs(spec) do keys[#keys + 1] = key end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for _, key in ipairs(keys) do
      local pattern = spec[key]
      local value = msg[key]
      if value == nil and type(msg.Tags) == "table" then value = msg.Tags[key] end
      if not utils.matchesPattern(pattern, value, msg) then return false end
    end
    return true
  end
  return false
end

-- Balance strings -----------------------------------------------------------

function utils.add(a, b)
  return tostring(bint(a) + bint(b))
end

function utils.subtract(a, b)
  return tostring(bint(a) - bint(b))
end

function utils.multiply(a, b)
  return tostring(bint(a) * bint(b))
end

--- A balance as a canonical digit string.
function utils.toBalanceValue(a)
  return tostring(bint(a))
end

function utils.toNumber(a)
  return bint.tonumber(bint(a))
end

return utils
