local json = require('json')
local bint = require('.bint')(256)
local utils = require('.utils')
local crypto = require('.crypto')
local base64 = require('.base64')

test("modules resolve under their aos names", function()
  for _, name in ipairs({ "json", ".json", ".bint", ".utils", ".handlers", ".handlers-utils", ".ao",
                          ".base64", ".pretty", ".stringify", ".crypto", ".process", ".chance", ".assignment",
                          ".eval", ".dump", "ao", "handlers", "utils" }) do
    assert(require(name), name)
  end
  assert(require("ao") == require(".ao") and require(".ao") == ao)
  assert(require("handlers") == Handlers and require(".utils") == Utils)
end)

test("json encodes with sorted keys and round-trips", function()
  eq(json.encode({ b = 1, a = { 3, 2, 1 }, c = { x = true, y = json.decode("null") } }),
    '{"a":[3,2,1],"b":1,"c":{"x":true}}')
  eq(json.encode({}), "[]")
  eq(json.encode(1.5), "1.5")
  eq(json.encode(2.0), "2")
  eq(json.encode("q\"\n\1"), '"q\\"\\n\\u0001"')
  local value = { name = "ü ✓", list = { 1, 2.5, "x", false }, nested = { deep = { deeper = "y" } } }
  eq(json.decode(json.encode(value)), value)
  eq(json.decode('"\\u00fc\\ud83d\\ude00"'), "ü😀")
  assert(not pcall(json.decode, "{bad"))
  assert(not pcall(json.decode, "[1,2] trailing"))
end)

test("bint arithmetic is exact beyond 2^64", function()
  local a = bint("123456789012345678901234567890")
  local b = bint("987654321098765432109876543210")
  eq(tostring(a + b), "1111111110111111111011111111100")
  eq(tostring(b - a), "864197532086419753208641975320")
  eq(tostring(a - b), "-864197532086419753208641975320")
  eq(tostring(a * b), "121932631137021795226185032733622923332237463801111263526900")
  eq(tostring(b // a), "8")
  eq(tostring(b % a), "9000000000900000000090")
  eq(tostring(bint(-7) // bint(2)), "-4")
  eq(tostring(bint(-7) % bint(2)), "1")
  eq(tostring(bint.ipow(10, 30)), "1" .. string.rep("0", 30))
  assert(a < b and b > a and a <= a and a == bint("123456789012345678901234567890"))
  assert(bint.__lt(0, bint("1")))
  eq(tostring(bint(2) ^ 100), "1267650600228229401496703205376")
  eq(bint.tonumber(bint("42")), 42)
  assert(not pcall(bint, "12abc"))
  assert(not pcall(bint, "1.5"))
  assert(not pcall(function() return bint(1) // bint(0) end))
end)

test("utils: functional helpers and balance strings", function()
  eq(utils.map(function(x) return x * 2 end, { 1, 2, 3 }), { 2, 4, 6 })
  eq(utils.map(function(x) return x + 1 end)({ 1 }), { 2 })
  eq(utils.filter(function(x) return x % 2 == 0 end, { 1, 2, 3, 4 }), { 2, 4 })
  eq(utils.reduce(function(a, b) return a + b end, 0, { 1, 2, 3 }), 6)
  eq(utils.find(utils.propEq("id", 2), { { id = 1 }, { id = 2 } }), { id = 2 })
  eq(utils.includes(3, { 1, 2, 3 }), true)
  eq(utils.keys({ b = 1, a = 2 }), { "a", "b" })
  eq(utils.values({ b = 1, a = 2 }), { 2, 1 })
  eq(utils.concat({ 1 }, { 2, 3 }), { 1, 2, 3 })
  eq(utils.compose(function(x) return x + 1 end, function(x) return x * 10 end)(2), 21)
  local add3 = utils.curry(function(a, b, c) return a + b + c end, 3)
  eq(add3(1)(2)(3), 6)
  eq(utils.add("99999999999999999999", "1"), "100000000000000000000")
  eq(utils.subtract("100000000000000000000", "1"), "99999999999999999999")
  eq(utils.toBalanceValue(12), "12")
end)

test("balance sums give bint's text whichever path computes them", function()
  local function by_bint(a, b, op)
    return tostring(op == "add" and bint(a) + bint(b) or bint(a) - bint(b))
  end
  local values = { "0", "1", "-1", "+7", "007", "-0", "1000000000000000000000", "999999999999999999999",
    string.rep("9", 38), "-" .. string.rep("9", 38), string.rep("9", 39), "1" .. string.rep("0", 60),
    " 12 ", "5.000", 42, -3 }
  for _, a in ipairs(values) do
    for _, b in ipairs(values) do
      eq(utils.add(a, b), by_bint(a, b, "add"), tostring(a) .. " + " .. tostring(b))
      eq(utils.subtract(a, b), by_bint(a, b, "sub"), tostring(a) .. " - " .. tostring(b))
    end
  end
  assert(not pcall(utils.add, "12x", "1"))
  assert(not pcall(utils.subtract, "1", ""))
end)

test("crypto sha256 and base64 vectors", function()
  eq(crypto.sha256(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
  eq(crypto.digest.sha2_256("abc").asHex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  eq(crypto.sha256(string.rep("a", 1000)), "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
  eq(base64.encode("hello world"), "aGVsbG8gd29ybGQ=")
  eq(base64.decode("aGVsbG8gd29ybGQ="), "hello world")
  eq(base64.decode(base64.encode("\0\1\2\255")), "\0\1\2\255")
end)

test("stringify and pretty render deterministically", function()
  eq(require('.stringify').plain({ z = 1, a = { 1, "two" } }), '{\n   a = {\n    1,\n    "two"\n   },\n   z = 1\n}')
  eq(plain(require('.stringify').format({ z = 1, a = { 1, "two" } })), require('.stringify').plain({ z = 1, a = { 1, "two" } }))
  eq(require('.pretty').tprint({}), "{}")
end)

return finish()
