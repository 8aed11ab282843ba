-- Runs with REF = the pure-Lua reference codec. Every case must give the same text (encode), the
-- same value with the same number subtypes (decode), or fail in both.
local json = require('json')
local failures = {}

local function same(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) == "number" then return math.type(a) == math.type(b) and (a == b or (a ~= a and b ~= b)) end
  if type(a) ~= "table" then return a == b end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

local function check(kind, input, describe)
  local ok1, r1 = pcall(REF[kind], input)
  local ok2, r2 = pcall(json[kind], input)
  if ok1 ~= ok2 or (ok1 and not same(r1, r2)) then
    failures[#failures + 1] = kind .. " " .. describe .. ": reference " .. tostring(ok1) .. " "
      .. tostring(ok1 and (type(r1) == "table" and REF.encode(r1) or r1) or r1) .. ", native "
      .. tostring(ok2) .. " " .. tostring(ok2 and (type(r2) == "table" and REF.encode(r2) or r2) or r2)
  end
  if not ok1 and not ok2 and kind == "decode" then
    -- Both fail: the message (without json.lua's own position prefix) must agree too.
    local m1 = tostring(r1):gsub("^.-:%d+: ", "")
    local m2 = tostring(r2):gsub("^.-:%d+: ", "")
    if m1 ~= m2 then failures[#failures + 1] = "decode error " .. describe .. ": " .. m1 .. " vs " .. m2 end
  end
end

local bint = require('.bint')(256)
local cyclic = {} cyclic.self = cyclic
local encode_cases = {
  1, -7, 0, 1.5, 2.0, -0.0, 1e300, 1 / 3, 123456789012345.6, 2 ^ 53, 2 ^ 53 + 2, -2 ^ 60, 1e-5, 0.1,
  math.maxinteger, math.mininteger, 0 / 0, math.huge, -math.huge,
  "", "plain", "q\"\\/\n\r\t\b\f\1\31\127", "\xff\xfe bytes", "ü😀",
  true, false, {}, { 1, 2, 3 }, { 1, nil, 3 }, { [2] = 1 }, { [0] = 1 }, { [1.5] = 1 },
  { b = 1, a = { 3, 2, 1 }, c = { x = true } }, { [1] = "a", x = "b" }, { [10] = 1, [2] = 2 },
  { [true] = 1 }, { f = print }, print, cyclic, { bint("123456789012345678901234567890") },
  { nested = { deeper = { deepest = { 1, { 2, { 3 } } } } } }, { ["1"] = "s", [2] = "n" },
  { [-1] = 1 }, { [math.huge] = 1 }, { [1e300] = 1 }, { [2.0] = "two" }, { [""] = "" },
}
for i, v in ipairs(encode_cases) do check("encode", v, "case " .. i) end
check("encode", nil, "nil")

local decode_cases = {
  "1", "-1", "0", "-0", "1.5", "1.0", "1e2", "1E+2", "1e-2", "-0.0", "12345678901234567890",
  "9223372036854775807", "9223372036854775808", "-9223372036854775808", "1e400", "007", "1.",
  "1.e5", "-", "1e", "1e+", "1+", ".5", "+1", "0x10", "1ee",
  '""', '"abc"', '"\\u00fc\\ud83d\\ude00"', '"\\ud83d"', '"\\ude00"', '"\\u12"', '"\\uzzzz"',
  '"\\q"', '"a\nb"', '"\\/\\b\\f\\n\\r\\t\\"\\\\"', '"unterminated', '"\xff"',
  "true", "false", "null", "truex", "nul", " \t\r\n 1 \n", "",
  "[]", "{}", "[1,2,3]", "[1,null,3]", "[null]", '{"a":null}', '{"a":1,"a":2}', '{"b":[1,{"c":2}]}',
  "[1,]", "[1 2]", '{"a" 1}', '{"a":1,}', "{1:2}", "{", "[", '{"a":', "[1,2] trailing",
  '{\n  "a": [\n    1,\n    x\n  ]\n}', "  @",
  '{"records":[{"id":1,"name":"u","tags":["a","b"],"active":true}],"total":1}',
}
for i, text in ipairs(decode_cases) do check("decode", text, "case " .. i .. " " .. string.format("%q", text)) end
check("decode", 5, "a number")
check("decode", nil, "nil")

-- Round trips of both codecs on a document.
local doc = { records = {}, total = 0 }
for i = 1, 50 do doc.records[i] = { id = i, name = "user" .. i, x = i / 7, tags = { "a" } } end
local text = REF.encode(doc)
if json.encode(doc) ~= text then failures[#failures + 1] = "document encode differs" end
if not same(json.decode(text), REF.decode(text)) then failures[#failures + 1] = "document decode differs" end

if #failures > 0 then error(#failures .. " mismatches:\n" .. table.concat(failures, "\n"), 0) end
return "ok"
