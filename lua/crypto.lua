--- Cryptographic helpers for processes, in pure Lua: SHA-256, and hex/base64 encodings.
--- `crypto.digest.sha2_256(data).asHex()` follows aos's `.crypto` shape; `crypto.sha256(s)`
--- is the short form (hex).
local base64 = require('.base64')

local crypto = { digest = {}, utils = { hex = {}, stream = {} } }

local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

local MASK = 0xffffffff

local function rotr(x, n)
  return ((x >> n) | (x << (32 - n))) & MASK
end

--- The 32-byte SHA-256 digest of `s`.
local function sha256_bytes(s)
  local h = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 }
  local bit_len = #s * 8
  s = s .. "\128" .. string.rep("\0", (55 - #s) % 64) .. string.pack(">I8", bit_len)
  local w = {}
  for chunk = 1, #s, 64 do
    for i = 0, 15 do
      w[i] = string.unpack(">I4", s, chunk + i * 4)
    end
    for i = 16, 63 do
      local s0 = rotr(w[i - 15], 7) ~ rotr(w[i - 15], 18) ~ (w[i - 15] >> 3)
      local s1 = rotr(w[i - 2], 17) ~ rotr(w[i - 2], 19) ~ (w[i - 2] >> 10)
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) & MASK
    end
    local a, b, c, d, e, f, g, hh = table.unpack(h)
    for i = 0, 63 do
      local S1 = rotr(e, 6) ~ rotr(e, 11) ~ rotr(e, 25)
      local ch = (e & f) ~ ((~e) & g)
      local t1 = (hh + S1 + ch + K[i + 1] + w[i]) & MASK
      local S0 = rotr(a, 2) ~ rotr(a, 13) ~ rotr(a, 22)
      local maj = (a & b) ~ (a & c) ~ (b & c)
      local t2 = (S0 + maj) & MASK
      hh, g, f, e, d, c, b, a = g, f, e, (d + t1) & MASK, c, b, a, (t1 + t2) & MASK
    end
    h[1] = (h[1] + a) & MASK; h[2] = (h[2] + b) & MASK; h[3] = (h[3] + c) & MASK
    h[4] = (h[4] + d) & MASK; h[5] = (h[5] + e) & MASK; h[6] = (h[6] + f) & MASK
    h[7] = (h[7] + g) & MASK; h[8] = (h[8] + hh) & MASK
  end
  return string.pack(">I4I4I4I4I4I4I4I4", table.unpack(h))
end

function crypto.utils.hex.stringToHex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

function crypto.utils.hex.hexToString(hex)
  return (hex:gsub("%x%x", function(pair) return string.char(tonumber(pair, 16)) end))
end

--- aos passes streams; a string is its own stream here.
function crypto.utils.stream.fromString(s)
  return s
end

local function digest_object(bytes)
  return {
    asBytes = function() return bytes end,
    asString = function() return bytes end,
    asHex = function() return crypto.utils.hex.stringToHex(bytes) end,
    asBase64 = function() return base64.encode(bytes) end,
  }
end

function crypto.digest.sha2_256(data)
  return digest_object(sha256_bytes(data))
end

function crypto.sha256(data)
  return crypto.utils.hex.stringToHex(sha256_bytes(data))
end

crypto.base64 = base64

return crypto
