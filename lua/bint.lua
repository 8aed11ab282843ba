--- Big integers for token amounts. `require('.bint')(bits)` returns the integer type (as aos's bint
--- does); values are exact at any size (the bit width is accepted for compatibility and never
--- wraps). Digits are kept in base 10^7 limbs, so products of two limbs fit a Lua integer.
local BASE, WIDTH = 10000000, 7

local bint = {}
bint.__index = bint
bint.__name = "bint"

local function normalize(x)
  local limbs = x.limbs
  while #limbs > 1 and limbs[#limbs] == 0 do limbs[#limbs] = nil end
  if #limbs == 1 and limbs[1] == 0 then x.sign = 1 end
  return x
end

local function make(sign, limbs)
  return normalize(setmetatable({ sign = sign, limbs = limbs }, bint))
end

--- Base-10^7 limbs of a digit string, least significant first.
local function limbs_of(digits)
  local limbs, n = {}, 0
  for stop = #digits, 1, -WIDTH do
    local start = stop - WIDTH + 1
    if start < 1 then start = 1 end
    n = n + 1
    limbs[n] = tonumber(digits:sub(start, stop))
  end
  return limbs
end

local function from_string(s)
  -- Plain digits (a balance, a quantity) need no trimming.
  local sign, digits = s:match("^([+-]?)(%d+)$")
  if digits then return make(sign == "-" and -1 or 1, limbs_of(digits)) end
  local text = s:gsub("^%s+", ""):gsub("%s+$", "")
  sign, digits = text:match("^([+-]?)(%d+)$")
  if not digits then
    local whole = text:match("^([+-]?%d+)%.0*$")
    if whole then return from_string(whole) end
    error("invalid integer string: '" .. s .. "'", 3)
  end
  return make(sign == "-" and -1 or 1, limbs_of(digits))
end

local function from_integer(n)
  local sign = n < 0 and -1 or 1
  local limbs = {}
  if n == math.mininteger then return from_string(tostring(n)) end
  n = math.abs(n)
  repeat
    limbs[#limbs + 1] = n % BASE
    n = n // BASE
  until n == 0
  return make(sign, limbs)
end

--- A bint from a bint, an integer, an integral float, or a decimal string.
function bint.new(v)
  local kind = type(v)
  if kind == "table" and getmetatable(v) == bint then
    return make(v.sign, table.move(v.limbs, 1, #v.limbs, 1, {}))
  elseif kind == "number" then
    local i = math.tointeger(v)
    if not i then
      if v ~= v or v == math.huge or v == -math.huge or v ~= math.floor(v) then
        error("not an integer: " .. tostring(v), 2)
      end
      return from_string(string.format("%.0f", v))
    end
    return from_integer(i)
  elseif kind == "string" then
    return from_string(v)
  end
  error("cannot make a bint from a " .. kind, 2)
end

local function coerce(v)
  if getmetatable(v) == bint then return v end
  return bint.new(v)
end

function bint.zero() return make(1, { 0 }) end
function bint.one() return make(1, { 1 }) end
function bint.fromstring(s) return from_string(s) end
function bint.frominteger(n) return from_integer(n) end
function bint.iszero(x) x = coerce(x) return #x.limbs == 1 and x.limbs[1] == 0 end
function bint.isneg(x) x = coerce(x) return x.sign < 0 end
function bint.ispos(x) x = coerce(x) return x.sign > 0 and not bint.iszero(x) end
function bint.isbint(x) return getmetatable(x) == bint end

local function compare_abs(a, b)
  if #a.limbs ~= #b.limbs then return #a.limbs < #b.limbs and -1 or 1 end
  for i = #a.limbs, 1, -1 do
    if a.limbs[i] ~= b.limbs[i] then return a.limbs[i] < b.limbs[i] and -1 or 1 end
  end
  return 0
end

local function compare(a, b)
  if a.sign ~= b.sign then return a.sign < b.sign and -1 or 1 end
  local c = compare_abs(a, b)
  return a.sign > 0 and c or -c
end

local function add_abs(a, b)
  local out, carry = {}, 0
  for i = 1, math.max(#a.limbs, #b.limbs) do
    local s = (a.limbs[i] or 0) + (b.limbs[i] or 0) + carry
    out[i] = s % BASE
    carry = s // BASE
  end
  if carry > 0 then out[#out + 1] = carry end
  return out
end

-- |a| - |b| for |a| >= |b|
local function sub_abs(a, b)
  local out, borrow = {}, 0
  for i = 1, #a.limbs do
    local d = a.limbs[i] - (b.limbs[i] or 0) - borrow
    if d < 0 then d, borrow = d + BASE, 1 else borrow = 0 end
    out[i] = d
  end
  return out
end

function bint.__add(a, b)
  a, b = coerce(a), coerce(b)
  if a.sign == b.sign then return make(a.sign, add_abs(a, b)) end
  if compare_abs(a, b) >= 0 then return make(a.sign, sub_abs(a, b)) end
  return make(b.sign, sub_abs(b, a))
end

function bint.__unm(a)
  a = coerce(a)
  local r = bint.new(a)
  r.sign = -a.sign
  return normalize(r)
end

function bint.__sub(a, b)
  return bint.__add(a, bint.__unm(b))
end

function bint.__mul(a, b)
  a, b = coerce(a), coerce(b)
  local out = {}
  for i = 1, #a.limbs + #b.limbs do out[i] = 0 end
  for i = 1, #a.limbs do
    local carry, ai = 0, a.limbs[i]
    for j = 1, #b.limbs do
      local cur = out[i + j - 1] + ai * b.limbs[j] + carry
      out[i + j - 1] = cur % BASE
      carry = cur // BASE
    end
    local k = i + #b.limbs
    while carry > 0 do
      local cur = out[k] + carry
      out[k] = cur % BASE
      carry = cur // BASE
      k = k + 1
    end
  end
  return make(a.sign * b.sign, out)
end

-- Truncated division of magnitudes: returns |a| // |b|, |a| % |b|.
local function divmod_abs(a, b)
  if bint.iszero(b) then error("attempt to divide a bint by zero", 3) end
  local digits = tostring(make(1, a.limbs))
  local divisor = make(1, b.limbs)
  local q, r = {}, bint.zero()
  local ten = from_integer(10)
  for i = 1, #digits do
    r = bint.__add(bint.__mul(r, ten), from_integer(tonumber(digits:sub(i, i))))
    local count = 0
    while compare_abs(r, divisor) >= 0 do
      r = make(1, sub_abs(r, divisor))
      count = count + 1
    end
    q[#q + 1] = tostring(count)
  end
  return from_string(table.concat(q)), r
end

--- Floor division and modulo, as Lua's `//` and `%` on integers.
function bint.__idiv(a, b)
  a, b = coerce(a), coerce(b)
  local q, r = divmod_abs(a, b)
  if a.sign * b.sign < 0 then
    q = bint.__unm(q)
    if not bint.iszero(r) then q = bint.__sub(q, 1) end
  end
  return q
end

function bint.__mod(a, b)
  a, b = coerce(a), coerce(b)
  return bint.__sub(a, bint.__mul(bint.__idiv(a, b), b))
end

-- `/` on bints is integer (floor) division: token arithmetic never wants fractions.
bint.__div = bint.__idiv

function bint.ipow(base, exponent)
  base = coerce(base)
  local e = math.tointeger(exponent) or error("exponent must be an integer", 2)
  if e < 0 then error("negative exponent", 2) end
  local result = bint.one()
  while e > 0 do
    if e & 1 == 1 then result = bint.__mul(result, base) end
    base = bint.__mul(base, base)
    e = e >> 1
  end
  return result
end
bint.__pow = bint.ipow

function bint.__eq(a, b) return compare(coerce(a), coerce(b)) == 0 end
function bint.__lt(a, b) return compare(coerce(a), coerce(b)) < 0 end
function bint.__le(a, b) return compare(coerce(a), coerce(b)) <= 0 end
function bint.eq(a, b) return bint.__eq(a, b) end
function bint.lt(a, b) return bint.__lt(a, b) end
function bint.le(a, b) return bint.__le(a, b) end
function bint.ult(a, b) return bint.__lt(a, b) end
function bint.ule(a, b) return bint.__le(a, b) end
function bint.max(a, b) return bint.__lt(a, b) and coerce(b) or coerce(a) end
function bint.min(a, b) return bint.__lt(a, b) and coerce(a) or coerce(b) end
function bint.abs(a) a = coerce(a) return make(1, table.move(a.limbs, 1, #a.limbs, 1, {})) end

function bint.__tostring(x)
  local parts = { tostring(x.limbs[#x.limbs]) }
  for i = #x.limbs - 1, 1, -1 do
    parts[#parts + 1] = string.format("%07d", x.limbs[i])
  end
  return (x.sign < 0 and "-" or "") .. table.concat(parts)
end

function bint.tostring(x) return bint.__tostring(coerce(x)) end

--- A Lua number (an integer when it fits, else a float approximation).
function bint.tonumber(x)
  local s = bint.tostring(x)
  return math.tointeger(tonumber(s)) or tonumber(s)
end
bint.tointeger = bint.tonumber

function bint.__concat(a, b)
  return tostring(a) .. tostring(b)
end

setmetatable(bint, {
  __call = function(_, v) return bint.new(v) end,
})

-- aos code writes require('.bint')(256): any width gives the same exact type.
return function(_bits)
  return bint
end
