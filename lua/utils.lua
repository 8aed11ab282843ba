--- Functional helpers in aos's style (most are curried: `utils.map(f)(list)` or `utils.map(f, list)`),
--- plus balance-string arithmetic for tokens.
local bint = require('.bint')(256)

local utils = { _version = "0.1.0" }

--- `curry(fn, arity)(a)(b)` = `curry(fn, arity)(a, b)` = `fn(a, b)`; nil arguments count.
function utils.curry(fn, arity)
  assert(type(fn) == "function", "function is required as first argument")
  arity = arity or 2
  if arity < 2 then return fn end
  local function collect(args)
    return function(...)
      local all = table.pack(table.unpack(args, 1, args.n))
      for i = 1, select("#", ...) do
        all.n = all.n + 1
        all[all.n] = select(i, ...)
      end
      if all.n >= arity then return fn(table.unpack(all, 1, all.n)) end
      return collect(all)
    end
  end
  return collect({ n = 0 })
end

utils.concat = utils.curry(function(a, b)
  assert(type(a) == "table", "first argument should be a table that is an array")
  assert(type(b) == "table", "second argument should be a table that is an array")
  local out = table.move(a, 1, #a, 1, {})
  return table.move(b, 1, #b, #out + 1, out)
end, 2)

--- `fn(acc, value, index)` over a list; a nil `initial` starts from the first value.
utils.reduce = utils.curry(function(fn, initial, list)
  assert(type(fn) == "function", "first argument should be a function that accepts (result, value, key)")
  assert(type(list) == "table", "third argument should be a table that is an array")
  local acc = initial
  for i, v in ipairs(list) do
    if acc == nil then acc = v else acc = fn(acc, v, i) end
  end
  return acc
end, 3)

utils.map = utils.curry(function(fn, list)
  assert(type(fn) == "function", "first argument should be a unary function")
  assert(type(list) == "table", "second argument should be an Array")
  local out = {}
  for i, v in ipairs(list) do out[i] = fn(v, i) end
  return out
end, 2)

utils.filter = utils.curry(function(fn, list)
  assert(type(fn) == "function", "first argument should be a unary function")
  assert(type(list) == "table", "second argument should be an Array")
  local out = {}
  for _, v in ipairs(list) do
    if fn(v) then out[#out + 1] = v end
  end
  return out
end, 2)

utils.find = utils.curry(function(fn, list)
  assert(type(fn) == "function", "first argument should be a unary function")
  assert(type(list) == "table", "second argument should be a table that is an array")
  for _, v in ipairs(list) do
    if fn(v) then return v end
  end
  return nil
end, 2)

utils.propEq = utils.curry(function(name, value, object)
  return object[name] == value
end, 3)

utils.prop = utils.curry(function(name, object)
  return object[name]
end, 2)

utils.includes = utils.curry(function(value, list)
  assert(type(list) == "table", "argument needs to be a table")
  for _, v in ipairs(list) do
    if v == value then return true end
  end
  return false
end, 2)

function utils.reverse(list)
  assert(type(list) == "table", "argument needs to be a table that is an array")
  local out = {}
  for i = #list, 1, -1 do out[#out + 1] = list[i] end
  return out
end

--- `compose(f, g, h)(x)` = f(g(h(x))); `compose(f)(g)` composes too, as in aos.
function utils.compose(...)
  local fns = table.pack(...)
  if fns.n == 1 then
    return function(...) return utils.compose(fns[1], ...) end
  end
  for i = 1, fns.n do assert(type(fns[i]) == "function", "each argument needs to be a function") end
  return function(...)
    local result = table.pack(...)
    for i = fns.n, 1, -1 do result = table.pack(fns[i](table.unpack(result, 1, result.n))) end
    return table.unpack(result, 1, result.n)
  end
end

--- "hELLO" → "Hello": the first character upper case, the rest lower case.
function utils.capitalize(str)
  if type(str) ~= "string" or str == "" then return str end
  return str:sub(1, 1):upper() .. str:sub(2):lower()
end

--- A tag name as aos normalises it (`data_PROTOCOL` → `Data-Protocol`).
function utils.normalize(name)
  local text = tostring(name):gsub("_", "-"):lower()
  return (text:gsub("^%l", string.upper):gsub("%-%l", string.upper))
end

--- Sorted keys (deterministic, unlike `pairs`).
local function by_text(a, b) return tostring(a) < tostring(b) end

function utils.keys(t)
  local out, n, strings = {}, 0, true
  for k in pairs(t) do
    n = n + 1
    out[n] = k
    if type(k) ~= "string" then strings = false end
  end
  -- Strings compare as their text already: the same order without a tostring per comparison.
  if strings then table.sort(out) else table.sort(out, by_text) end
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

--- Whether `value` matches `pattern`, as aos decides: `"_"` matches anything; a function by its
--- verdict on (value, msg); a string with Lua pattern characters (`^$()%.[]*+?`; a lone `-` is
--- not one) by `string.match` anywhere in the value, any other string by exact equality; a table
--- when any of its patterns matches. Anything else (nil, numbers…) never matches.
function utils.matchesPattern(pattern, value, msg)
  if not pattern then return false end
  if pattern == "_" then return true end
  if type(pattern) == "function" then return pattern(value, msg) and true or false end
  if type(pattern) == "string" then
    if type(value) ~= "string" and type(value) ~= "number" then return false end
    if pattern:find("[%^%$%(%)%%%.%[%]%*%+%?]") then
      -- A malformed Lua pattern matches nothing instead of failing the message.
      local ok, found = pcall(string.match, tostring(value), pattern)
      return ok and found ~= nil
    end
    return value == pattern
  end
  if type(pattern) == "table" then
    for _, alternative in ipairs(pattern) do
      if utils.matchesPattern(alternative, value, msg) then return true end
    end
  end
  return false
end

--- The field `key` of `msg`, else its tag; a key aos would normalise (`action`) finds `Action`.
local function field(msg, key)
  local value = msg[key]
  local tags = type(msg.Tags) == "table" and msg.Tags or {}
  if value == nil then value = tags[key] end
  if value == nil and type(key) == "string" then
    local normalized = utils.normalize(key)
    value = msg[normalized]
    if value == nil then value = tags[normalized] end
  end
  return value
end

--- Whether `msg` matches `spec`: a function's verdict, a string equal to `msg.Action`, or a table
--- whose every key must be present and match (see matchesPattern).
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
      local value = field(msg, key)
      if value == nil then return false end
      if not utils.matchesPattern(spec[key], value, msg) then return false end
    end
    return true
  end
  return false
end

-- Balance strings -----------------------------------------------------------

-- Plain decimal strings are summed natively (vm/glue/src/decimal.rs); anything else, and results
-- beyond 38 digits, take bint's path. Both give the same text.
local decimal = require('aos.decimal')
local native_add, native_sub = decimal.add, decimal.sub

function utils.add(a, b)
  if type(a) == "string" and type(b) == "string" then
    local sum = native_add(a, b)
    if sum then return sum end
  end
  return tostring(bint(a) + bint(b))
end

function utils.subtract(a, b)
  if type(a) == "string" and type(b) == "string" then
    local difference = native_sub(a, b)
    if difference then return difference end
  end
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
