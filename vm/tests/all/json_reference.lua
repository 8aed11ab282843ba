-- The pure-Lua JSON codec the native one replaced (lua/json.lua before the batteries), kept as
-- the reference the native codec is checked against in json_parity.rs.
--- JSON for processes: `encode` writes object keys in sorted order (so the same table always gives
--- the same bytes on every machine), `decode` reads any standard JSON.
local json = { _version = "0.1.0" }

local escapes = {
  ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
  ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t',
}

local function escape_char(c)
  return escapes[c] or string.format("\\u%04x", c:byte())
end

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', escape_char) .. '"'
end

local function encode_number(n)
  if n ~= n or n == math.huge or n == -math.huge then
    error("cannot encode " .. tostring(n) .. " as JSON")
  end
  if math.type(n) == "integer" then
    return string.format("%d", n)
  end
  if n == math.floor(n) and math.abs(n) < 2 ^ 53 then
    return string.format("%d", math.floor(n))
  end
  return string.format("%.14g", n)
end

--- Whether `t` is a sequence 1..n (an empty table counts as an array).
local function is_array(t)
  local n = 0
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 then return false end
    n = n + 1
  end
  for i = 1, n do
    if t[i] == nil then return false end
  end
  return true
end

local encode

local function encode_table(t, seen)
  if seen[t] then error("circular reference in JSON encode") end
  seen[t] = true
  local out = {}
  local mt = getmetatable(t)
  if mt and mt.__tostring and mt.__name == "bint" then
    seen[t] = nil
    return encode_string(tostring(t))
  end
  if is_array(t) then
    for i = 1, #t do out[i] = encode(t[i], seen) end
    seen[t] = nil
    return "[" .. table.concat(out, ",") .. "]"
  end
  local keys = {}
  for k in pairs(t) do
    local kind = type(k)
    if kind ~= "string" and kind ~= "number" then
      error("JSON object keys must be strings or numbers, not " .. kind)
    end
    keys[#keys + 1] = tostring(k)
  end
  table.sort(keys)
  for i, k in ipairs(keys) do
    local v = t[k]
    if v == nil then v = t[tonumber(k)] end
    out[i] = encode_string(k) .. ":" .. encode(v, seen)
  end
  seen[t] = nil
  return "{" .. table.concat(out, ",") .. "}"
end

encode = function(v, seen)
  local kind = type(v)
  if kind == "nil" then return "null"
  elseif kind == "boolean" then return tostring(v)
  elseif kind == "number" then return encode_number(v)
  elseif kind == "string" then return encode_string(v)
  elseif kind == "table" then return encode_table(v, seen or {})
  end
  error("cannot encode a " .. kind .. " as JSON")
end

function json.encode(v)
  return encode(v, {})
end

-- Decoding ------------------------------------------------------------------

local function decode_error(s, i, what)
  local line, col = 1, 1
  for j = 1, i - 1 do
    col = col + 1
    if s:sub(j, j) == "\n" then line, col = line + 1, 1 end
  end
  error(string.format("%s at line %d col %d", what, line, col), 0)
end

local function skip(s, i)
  return (s:find("[^ \t\r\n]", i)) or #s + 1
end

local decode_value

local function codepoint_to_utf8(n)
  return utf8.char(n)
end

local function decode_string(s, i)
  local out, j = {}, i + 1
  while true do
    local c = s:sub(j, j)
    if c == "" then decode_error(s, i, "unterminated string") end
    if c == '"' then return table.concat(out), j + 1 end
    if c == "\\" then
      local e = s:sub(j + 1, j + 1)
      local simple = ({ b = "\b", f = "\f", n = "\n", r = "\r", t = "\t", ['"'] = '"', ["\\"] = "\\", ["/"] = "/" })[e]
      if simple then
        out[#out + 1] = simple
        j = j + 2
      elseif e == "u" then
        local hex = s:sub(j + 2, j + 5)
        local n = tonumber(hex, 16)
        if not n or #hex ~= 4 then decode_error(s, j, "bad unicode escape") end
        j = j + 6
        if n >= 0xD800 and n <= 0xDBFF and s:sub(j, j + 1) == "\\u" then
          local low = tonumber(s:sub(j + 2, j + 5), 16)
          if low and low >= 0xDC00 and low <= 0xDFFF then
            n = 0x10000 + ((n - 0xD800) << 10) + (low - 0xDC00)
            j = j + 6
          end
        end
        out[#out + 1] = codepoint_to_utf8(n)
      else
        decode_error(s, j, "bad escape")
      end
    else
      local stop = s:find('["\\]', j) or #s + 1
      out[#out + 1] = s:sub(j, stop - 1)
      j = stop
    end
  end
end

local function decode_number(s, i)
  local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", i)
  if not num or num == "" or num == "-" then decode_error(s, i, "bad number") end
  local n = math.tointeger(tonumber(num)) or tonumber(num)
  if not n then decode_error(s, i, "bad number") end
  return n, i + #num
end

decode_value = function(s, i)
  i = skip(s, i)
  local c = s:sub(i, i)
  if c == "{" then
    local obj = {}
    i = skip(s, i + 1)
    if s:sub(i, i) == "}" then return obj, i + 1 end
    while true do
      i = skip(s, i)
      if s:sub(i, i) ~= '"' then decode_error(s, i, "expected a string key") end
      local key
      key, i = decode_string(s, i)
      i = skip(s, i)
      if s:sub(i, i) ~= ":" then decode_error(s, i, "expected ':'") end
      obj[key], i = decode_value(s, i + 1)
      i = skip(s, i)
      local d = s:sub(i, i)
      if d == "}" then return obj, i + 1 end
      if d ~= "," then decode_error(s, i, "expected ',' or '}'") end
      i = i + 1
    end
  elseif c == "[" then
    local arr, n = {}, 0
    i = skip(s, i + 1)
    if s:sub(i, i) == "]" then return arr, i + 1 end
    while true do
      n = n + 1
      arr[n], i = decode_value(s, i)
      i = skip(s, i)
      local d = s:sub(i, i)
      if d == "]" then return arr, i + 1 end
      if d ~= "," then decode_error(s, i, "expected ',' or ']'") end
      i = i + 1
    end
  elseif c == '"' then
    return decode_string(s, i)
  elseif s:sub(i, i + 3) == "true" then
    return true, i + 4
  elseif s:sub(i, i + 4) == "false" then
    return false, i + 5
  elseif s:sub(i, i + 3) == "null" then
    return nil, i + 4
  elseif c:match("[-%d]") then
    return decode_number(s, i)
  end
  decode_error(s, i, "unexpected character '" .. c .. "'")
end

function json.decode(s)
  if type(s) ~= "string" then error("json.decode expects a string, got " .. type(s)) end
  local value, i = decode_value(s, 1)
  i = skip(s, i)
  if i <= #s then decode_error(s, i, "trailing garbage") end
  return value
end

return json
