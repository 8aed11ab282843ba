-- math.random is aos's: MT19937, seeded once (on the first message) from Block-Height and the
-- bytes of Owner..Module..Id, one stream across messages.
local chance = require('.chance')

local function draws(n, fn)
  local out = {}
  for i = 1, n do out[i] = fn() end
  return out
end

-- Before anything reseeds the shared generator: the process's own stream.
local streamed = {}
Handlers.add("draw", "Draw", function() streamed[#streamed + 1] = math.random(1, 1000000) end)
send({ Action = "Draw" })
send({ Action = "Draw" })
eval("Drawn = { math.random(), math.random(6) }")
Handlers.remove("draw")

test("the stream continues across messages from the seed of the first message", function()
  -- The prelude's spawn: Block-Height 1000, Owner OWNER, Module MODULE, Id PID.
  local sum = 0
  for _, c in ipairs({ string.byte(OWNER .. "MODULE" .. PID, 1, -1) }) do sum = sum + c end
  chance.seed(math.tointeger(tonumber("1000" .. sum)))
  eq(streamed, { chance.integer(1, 1000000), chance.integer(1, 1000000) })
  eq(Drawn, { chance.random(), chance.integer(1, 6) })
  eq(Seeded, true)
end)

test("MT19937 gives the reference outputs", function()
  chance.seed(5489)
  eq(draws(5, chance.int32), { 3499211612, 581869302, 3890346734, 3586334585, 545404204 })
  chance.seed(5489)
  local last
  for _ = 1, 10000 do last = chance.int32() end
  eq(last, 4123659995)
  chance.seed(1)
  eq(draws(3, chance.int32), { 1791095845, 4282876139, 3093770124 })
end)

test("math.random's forms: [0,1), [1,m], [m,n]", function()
  for _ = 1, 200 do
    local x = math.random()
    assert(x >= 0 and x < 1, x)
    local d = math.random(6)
    assert(math.type(d) == "integer" and d >= 1 and d <= 6, d)
    local r = math.random(-3, 3)
    assert(r >= -3 and r <= 3, r)
  end
  assert(not pcall(math.random, 5, 1))
end)

return finish()
