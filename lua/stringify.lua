--- Renders any Lua value as text for Eval output, in aos's layout and colours (keys red, strings
--- green, other values blue), but with sorted keys and never a memory address, so the same value
--- always prints the same way. `stringify.plain` is the same layout without colours.
local stringify = { _version = "0.1.0" }

local COLORS = { red = "\27[31m", green = "\27[32m", blue = "\27[34m", reset = "\27[0m" }
local NONE = { red = "", green = "", blue = "", reset = "" }

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then return ta < tb end
    if ta == "number" or ta == "string" then return a < b end
    return tostring(a) < tostring(b)
  end)
  return keys
end

local function is_sequence(t, keys)
  for i, k in ipairs(keys) do
    if k ~= i then return false end
  end
  return true
end

local render

local function scalar(v, c)
  local kind = type(v)
  if kind == "string" then return c.green .. '"' .. v .. '"' .. c.reset end
  if kind == "function" or kind == "thread" or kind == "userdata" then
    return c.blue .. "<" .. kind .. ">" .. c.reset
  end
  return c.blue .. tostring(v) .. c.reset
end

render = function(v, indent, seen, c)
  if type(v) ~= "table" then return scalar(v, c) end
  local mt = getmetatable(v)
  if mt and mt.__tostring then return tostring(v) end
  if seen[v] then return c.blue .. "<cycle>" .. c.reset end
  local keys = sorted_keys(v)
  if #keys == 0 then return "{}" end
  seen[v] = true
  local pad = string.rep(" ", indent)
  local child = string.rep(" ", indent + 2)
  local items = {}
  local out
  if is_sequence(v, keys) then
    for i = 1, #keys do items[i] = child .. render(v[i], indent + 2, seen, c) end
    out = "{\n" .. table.concat(items, ",\n") .. "\n" .. pad .. " }"
  else
    for i, k in ipairs(keys) do
      items[i] = child .. c.red .. tostring(k) .. c.reset .. " = " .. render(v[k], indent + 2, seen, c)
    end
    out = "{\n " .. table.concat(items, ",\n ") .. "\n" .. pad .. "}"
  end
  seen[v] = nil
  return out
end

function stringify.format(v, indent)
  return render(v, indent or 0, {}, COLORS)
end

function stringify.plain(v)
  return render(v, 0, {}, NONE)
end

return stringify
