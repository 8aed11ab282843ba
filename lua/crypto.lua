--- `.crypto` in aos's API shape over native, well-kept implementations (RustCrypto and
--- blake2b_simd, compiled into the module: vm/glue/src/crypto.rs). Inputs may be strings, aos
--- streams (functions returning one byte per call, then nil) or byte arrays; digests return an
--- object with `asBytes()` (array of byte values), `asHex()` (lowercase) and `asString()` (raw).
---
--- Differences from aos, on purpose: `mac.createHmac` is standard HMAC (RFC 2104; aos's uses a
--- 32-byte block for both SHA-1 and SHA-256, so its MACs match no other implementation);
--- `digest.blake2b(data, outlen, key)` returns the hex string as aos does.
local base64 = require('.base64')

--- The native functions answer `nil, message` on failure: raise it at the caller's caller.
local native = {}
for name, f in pairs(require('aos.crypto')) do
  native[name] = function(...)
    local out, err = f(...)
    if err then error(err, 3) end
    return out
  end
end

local crypto = { _version = "0.1.0" }

-- Utilities ---------------------------------------------------------------------------------

local hex = {}

function hex.stringToHex(s, ln, sep)
  if #s == 0 then return "" end
  if not ln then
    return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
  end
  sep = sep or ""
  local parts = {}
  for i = 1, #s do
    parts[i] = string.format("%02x", s:byte(i))
    if i < #s then parts[i] = parts[i] .. ((i % ln == 0) and "\n" or sep) end
  end
  return table.concat(parts)
end

function hex.hexToString(h)
  return (h:gsub("%x%x", function(pair) return string.char(tonumber(pair, 16)) end))
end

function hex.ascii2hex(s)
  return hex.stringToHex(s):upper()
end

--- A FIFO of bytes, as aos's `crypto.utils.queue`.
local function Queue()
  local items, head, tail = {}, 0, 0
  local q = {}
  function q.push(v) tail = tail + 1; items[tail] = v end
  function q.pop()
    if head >= tail then return nil end
    head = head + 1
    local v = items[head]
    items[head] = nil
    return v
  end
  function q.size() return tail - head end
  function q.getHead() return head end
  function q.getTail() return tail end
  function q.reset() items, head, tail = {}, 0, 0 end
  return q
end

local array = {}

function array.size(a) return #a end

function array.fromString(s)
  local out = {}
  for i = 1, #s do out[i] = s:byte(i) end
  return out
end

function array.toString(a)
  local parts = {}
  for i = 1, #a, 4096 do
    parts[#parts + 1] = string.char(table.unpack(a, i, math.min(i + 4095, #a)))
  end
  return table.concat(parts)
end

function array.fromHex(h) return array.fromString(hex.hexToString(h)) end
function array.toHex(a) return hex.stringToHex(array.toString(a)) end

function array.concat(a, b)
  local out = {}
  for i = 1, #a do out[i] = a[i] end
  for i = 1, #b do out[#a + i] = b[i] end
  return out
end

function array.truncate(a, n)
  local out = {}
  for i = 1, math.min(n, #a) do out[i] = a[i] end
  return out
end

function array.slice(a, first, last)
  local out = {}
  for i = first, last do out[#out + 1] = a[i] end
  return out
end

function array.copy(a) return array.slice(a, 1, #a) end

function array.XOR(a, b)
  local out = {}
  for i = 1, #a do out[i] = a[i] ~ b[i] end
  return out
end

local stream = {}

function stream.fromString(s)
  local i = 0
  return function()
    i = i + 1
    return s:byte(i)
  end
end

function stream.fromArray(a)
  local i = 0
  return function()
    i = i + 1
    return a[i]
  end
end

function stream.fromHex(h) return stream.fromString(hex.hexToString(h)) end

function stream.toString(st)
  local bytes = {}
  for b in st do bytes[#bytes + 1] = b end
  return array.toString(bytes)
end

function stream.toArray(st)
  local bytes = {}
  for b in st do bytes[#bytes + 1] = b end
  return bytes
end

function stream.toHex(st) return hex.stringToHex(stream.toString(st)):upper() end

--- Any accepted input (string, stream, byte array) as a string of bytes.
local function bytes_of(data, what)
  local kind = type(data)
  if kind == "string" then return data end
  if kind == "function" then return stream.toString(data) end
  if kind == "table" then return array.toString(data) end
  if data == nil then return "" end
  error((what or "data") .. " must be a string, a stream or a byte array, not " .. kind, 3)
end

--- The aos result object over raw bytes.
local function result(raw)
  return {
    asBytes = function() return array.fromString(raw) end,
    asHex = function() return hex.stringToHex(raw) end,
    asString = function() return raw end,
    asBase64 = function() return base64.encode(raw) end,
  }
end

crypto.utils = { hex = hex, array = array, stream = stream, queue = Queue, Queue = Queue }

-- Digests -----------------------------------------------------------------------------------

crypto.digest = {}
for _, name in ipairs({ "md2", "md4", "md5", "sha1", "sha2_256", "sha2_512",
                        "sha3_256", "sha3_512", "keccak256", "keccak512" }) do
  crypto.digest[name] = function(data)
    return result(native.digest(name, bytes_of(data)))
  end
end

function crypto.digest.blake2b(data, outlen, key)
  return hex.stringToHex(native.blake2b(bytes_of(data), outlen or 64, key and bytes_of(key, "key")))
end

-- MAC and KDF -------------------------------------------------------------------------------

crypto.mac = {}

--- HMAC of `data` under `key`; `algorithm` is "sha1" (the default), "sha256", "sha512", "md5",
--- "sha3_256" or "sha3_512".
function crypto.mac.createHmac(data, key, algorithm)
  return result(native.hmac(algorithm or "sha1", bytes_of(key, "key"), bytes_of(data)))
end

crypto.kdf = {}

--- PBKDF2 with HMAC-`digest` ("sha1", the default, "sha256" or "sha512"); `keyLen` in bytes.
function crypto.kdf.pbkdf2(password, salt, iterations, keyLen, digest)
  return result(native.pbkdf2(digest or "sha1", bytes_of(password, "password"),
    bytes_of(salt, "salt"), iterations, keyLen))
end

-- Randomness --------------------------------------------------------------------------------

--- `n` pseudo-random bytes, drawn from `math.random`: aos's one Mersenne Twister stream, seeded
--- from the process's first message, so a replay draws the same bytes. Not secret from anyone
--- who can read the process's log.
function crypto.random(n)
  local out = {}
  for i = 1, n or 32 do out[i] = math.random(0, 255) end
  return array.toString(out)
end

-- Short forms kept from the earlier library -------------------------------------------------

function crypto.sha256(data)
  return crypto.digest.sha2_256(data).asHex()
end

crypto.base64 = base64

return crypto
