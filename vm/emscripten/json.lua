-- A small JSON codec for the emscripten test process. Objects are written with sorted keys, so
-- the same table always gives the same text (no dependence on `pairs` order).
local json = {}

local escapes = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
  ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }

local function escape(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format('\\u%04x', c:byte())
  end) .. '"'
end

local function is_array(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  for i = 1, n do
    if t[i] == nil then return false end
  end
  return true, n
end

local encode

local function encode_table(t, depth)
  if depth > 100 then error('json: nesting too deep') end
  local array, n = is_array(t)
  local out = {}
  if array and (n > 0 or getmetatable(t) ~= json.object) then
    for i = 1, n do out[i] = encode(t[i], depth + 1) end
    return '[' .. table.concat(out, ',') .. ']'
  end
  local keys = {}
  for k in pairs(t) do
    if type(k) ~= 'string' and type(k) ~= 'number' then error('json: key of type ' .. type(k)) end
    keys[#keys + 1] = tostring(k)
  end
  table.sort(keys)
  for i, k in ipairs(keys) do
    local v = t[k]
    if v == nil then v = t[tonumber(k)] end
    out[i] = escape(k) .. ':' .. encode(v, depth + 1)
  end
  return '{' .. table.concat(out, ',') .. '}'
end

encode = function(v, depth)
  local kind = type(v)
  if kind == 'nil' then return 'null'
  elseif kind == 'boolean' then return tostring(v)
  elseif kind == 'number' then
    if v ~= v or v == math.huge or v == -math.huge then return 'null' end
    if math.type(v) == 'integer' then return tostring(v) end
    if v == math.floor(v) and math.abs(v) < 2^53 then return string.format('%d', v) end
    return string.format('%.17g', v)
  elseif kind == 'string' then return escape(v)
  elseif kind == 'table' then return encode_table(v, depth)
  end
  error('json: cannot encode a ' .. kind)
end

-- A marker metatable: an empty table with it encodes as {} instead of [].
json.object = {}

function json.encode(v) return encode(v, 0) end

function json.decode(text)
  local pos = 1
  local function fail(what) error(string.format('json: %s at byte %d', what, pos)) end
  local function skip() pos = text:find('[^ \t\r\n]', pos) or #text + 1 end
  local value
  local function str()
    local out = {}
    pos = pos + 1
    while true do
      local c = text:sub(pos, pos)
      if c == '' then fail('unterminated string') end
      if c == '"' then pos = pos + 1 break end
      if c == '\\' then
        local e = text:sub(pos + 1, pos + 1)
        local map = { b = '\b', f = '\f', n = '\n', r = '\r', t = '\t', ['"'] = '"', ['\\'] = '\\', ['/'] = '/' }
        if map[e] then out[#out + 1] = map[e] pos = pos + 2
        elseif e == 'u' then
          local code = tonumber(text:sub(pos + 2, pos + 5), 16) or fail('bad \\u escape')
          pos = pos + 6
          if code >= 0xd800 and code < 0xdc00 and text:sub(pos, pos + 1) == '\\u' then
            local low = tonumber(text:sub(pos + 2, pos + 5), 16) or fail('bad \\u escape')
            code = 0x10000 + (code - 0xd800) * 0x400 + (low - 0xdc00)
            pos = pos + 6
          end
          out[#out + 1] = utf8.char(code)
        else fail('bad escape') end
      else
        local stop = text:find('["\\]', pos) or #text + 1
        out[#out + 1] = text:sub(pos, stop - 1)
        pos = stop
      end
    end
    return table.concat(out)
  end
  value = function()
    skip()
    local c = text:sub(pos, pos)
    if c == '{' then
      local t = setmetatable({}, json.object)
      pos = pos + 1 skip()
      if text:sub(pos, pos) == '}' then pos = pos + 1 return t end
      while true do
        skip()
        if text:sub(pos, pos) ~= '"' then fail('expected a key') end
        local k = str() skip()
        if text:sub(pos, pos) ~= ':' then fail('expected :') end
        pos = pos + 1
        t[k] = value() skip()
        local d = text:sub(pos, pos) pos = pos + 1
        if d == '}' then return t end
        if d ~= ',' then fail('expected , or }') end
      end
    elseif c == '[' then
      local t = {}
      pos = pos + 1 skip()
      if text:sub(pos, pos) == ']' then pos = pos + 1 return t end
      while true do
        t[#t + 1] = value() skip()
        local d = text:sub(pos, pos) pos = pos + 1
        if d == ']' then return t end
        if d ~= ',' then fail('expected , or ]') end
      end
    elseif c == '"' then return str()
    elseif text:sub(pos, pos + 3) == 'true' then pos = pos + 4 return true
    elseif text:sub(pos, pos + 4) == 'false' then pos = pos + 5 return false
    elseif text:sub(pos, pos + 3) == 'null' then pos = pos + 4 return nil
    end
    local num = text:match('^-?%d+%.?%d*[eE]?[-+]?%d*', pos)
    if not num or num == '' then fail('unexpected character') end
    pos = pos + #num
    return math.tointeger(tonumber(num)) or tonumber(num)
  end
  local v = value() skip()
  if pos <= #text then fail('trailing text') end
  return v
end

return json
