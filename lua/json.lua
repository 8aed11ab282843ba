--- JSON for processes, native (vm/glue/src/json.rs): `encode` writes object keys in sorted order
--- (so the same table always gives the same bytes on every machine), `decode` reads any standard
--- JSON. Arrays are tables with keys exactly 1..n (an empty table is `[]`); integers stay
--- integers, floats with an integer value below 2^53 are written as integers, others as `%.14g`;
--- NaN, infinities, cycles and functions are errors; a bint is its decimal string; `null` decodes
--- to nil; a decode error names the line and column.
local native = require('aos.json')
local native_encode, native_decode = native.encode, native.decode

local json = { _version = "0.2.0" }

function json.encode(value)
  local text, err = native_encode(value)
  if err then error(err, 2) end
  return text
end

function json.decode(text)
  local value, err = native_decode(text)
  if err then error(err, 0) end
  return value
end

return json
