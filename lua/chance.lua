--- MT19937, the 32-bit Mersenne Twister of Matsumoto and Nishimura (1998), which aos's
--- `math.random` draws from. Written from the published algorithm; the reference outputs for the
--- default seed 5489 start 3499211612, 581869302, 3890346734.
local chance = { _version = "0.1.0" }

local N, M = 624, 397
local MASK32 = 0xffffffff
local UPPER, LOWER = 0x80000000, 0x7fffffff
local MATRIX_A = 0x9908b0df

local state = { mt = {}, index = N + 1 }

--- Seeds the generator (only the low 32 bits of `seed` count).
function chance.seed(seed)
  local mt = state.mt
  mt[0] = seed & MASK32
  for i = 1, N - 1 do
    local prev = mt[i - 1]
    mt[i] = (1812433253 * (prev ~ (prev >> 30)) + i) & MASK32
  end
  state.index = N
end

local function twist()
  local mt = state.mt
  for i = 0, N - 1 do
    local y = (mt[i] & UPPER) | (mt[(i + 1) % N] & LOWER)
    local next = mt[(i + M) % N] ~ (y >> 1)
    if y & 1 == 1 then next = next ~ MATRIX_A end
    mt[i] = next
  end
  state.index = 0
end

--- The next 32-bit output, in [0, 2^32).
function chance.int32()
  if state.index > N then chance.seed(5489) end
  if state.index >= N then twist() end
  local y = state.mt[state.index]
  state.index = state.index + 1
  y = y ~ (y >> 11)
  y = y ~ ((y << 7) & 0x9d2c5680)
  y = y ~ ((y << 15) & 0xefc60000)
  y = y ~ (y >> 18)
  return y & MASK32
end

--- A float in [0, 1).
function chance.random()
  return chance.int32() * (1.0 / 4294967296.0)
end

--- An integer in [min, max], both included.
function chance.integer(min, max)
  assert(max >= min, "max must bigger than min")
  return math.floor(chance.random() * (max - min + 1) + min)
end

return chance
