--- Renders any Lua value as readable text for Eval output: tables with sorted keys, nested and
--- indented, never a memory address, so the same value always prints the same way.
local stringify = {}

local function key_text(k)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") then return k end
  if type(k) == "string" then return string.format("[%q]", k) end
  return "[" .. tostring(k) .. "]"
end

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

local function render(v, indent, seen)
  local kind = type(v)
  if kind == "string" then return string.format("%q", v):gsub("\\\n", "\\n") end
  if kind ~= "table" then
    if kind == "function" or kind == "thread" or kind == "userdata" then return "<" .. kind .. ">" end
    return tostring(v)
  end
  local mt = getmetatable(v)
  if mt and mt.__tostring then return tostring(v) end
  if seen[v] then return "<cycle>" end
  seen[v] = true
  local n = #v
  local keys = sorted_keys(v)
  if #keys == 0 then
    seen[v] = nil
    return "{}"
  end
  local pad = string.rep("  ", indent + 1)
  local lines = {}
  for i = 1, n do lines[#lines + 1] = pad .. render(v[i], indent + 1, seen) end
  for _, k in ipairs(keys) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then
      lines[#lines + 1] = pad .. key_text(k) .. " = " .. render(v[k], indent + 1, seen)
    end
  end
  seen[v] = nil
  return "{\n" .. table.concat(lines, ",\n") .. "\n" .. string.rep("  ", indent) .. "}"
end

function stringify.format(v)
  return (render(v, 0, {}))
end

return stringify
