--- `.crypto` in aos's API shape over native, well-kept implementations (RustCrypto and
--- blake2b_simd, compiled into the module: vm/glue/src/crypto.rs). Inputs may be strings, aos
--- streams (functions returning one byte per call, then nil) or byte arrays; digests return an
--- object with `asBytes()` (array of byte values), `asHex()` (lowercase) and `asString()` (raw).
---
--- Differences from aos, on purpose: `mac.createHmac` is standard HMAC (RFC 2104; aos's uses a
--- 32-byte block for both SHA-1 and SHA-256, so its MACs match no other implementation);
--- `digest.blake2b(data, outlen, key)` returns the hex string as aos does. Ciphers (AES modes,
--- ISAAC, MORUS-1280, NORX64-4-1) are native too; their results' `asHex`/`asString`/`asBytes`
--- can be read any number of times (aos's AES results empty a queue on the first read),
--- `asBytes` is always an array of byte values, AES's ECB does not encrypt the IV as a first
--- block (aos's does, so its ECB matches no standard), and an unknown AES mode or key length
--- is an error instead of a silent CBC/128.
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

-- Ciphers -----------------------------------------------------------------------------------

crypto.cipher = { _version = "0.0.1" }

--- A block cipher's result: as aos's, its hex is in capitals.
local function block_result(raw)
  local r = result(raw)
  r.asHex = function() return hex.stringToHex(raw):upper() end
  return r
end

local function aes_mode(mode)
  return mode and tostring(mode):upper() or "CBC"
end

local aes = {}

--- AES of `data` (zero-padded to whole blocks) under `key` (its first keyLength/8 bytes);
--- `iv` defaults to 16 zero bytes, `mode` to "CBC" (ECB, CBC, CFB, OFB, CTR), `keyLength` to 128.
function aes.encrypt(data, key, iv, mode, keyLength)
  return block_result(native.aes(aes_mode(mode), true, keyLength or 128, bytes_of(key, "key"),
    iv and bytes_of(iv, "iv") or string.rep("\0", 16), bytes_of(data)))
end

--- The plaintext (with its zero padding) of the hex-encoded `cipher`.
function aes.decrypt(cipher, key, iv, mode, keyLength)
  return block_result(native.aes(aes_mode(mode), false, keyLength or 128, bytes_of(key, "key"),
    iv and bytes_of(iv, "iv") or string.rep("\0", 16), hex.hexToString(cipher)))
end

crypto.cipher.aes = aes

--- ISAAC: aos's one module-wide generator, reseeded by `seedIsaac`, `random` and the cipher.
local issac = {}
local generator

function issac.seedIsaac(seed, flag)
  generator = native.isaac(bytes_of(seed, "seed"), flag and true or false)
end

local function current()
  if not generator then issac.seedIsaac("", false) end
  return generator
end

function issac.getRandom() return current():next() end
function issac.getRandomChar() return current():char() end

--- A number in [min, max] (defaults 0 and 2^31-1); with a `seed` the generator is seeded from
--- it, otherwise (as aos) reset without a seed after drawing once from `math.random`.
function issac.random(min, max, seed)
  min = min or 0
  max = max or 2^31 - 1
  if seed then
    issac.seedIsaac(seed, true)
  else
    issac.seedIsaac(tostring(math.random(2147483647)), false)
  end
  return (issac.getRandom() % (max - min + 1)) + min
end

--- The Vigenère over printable ASCII keyed by ISAAC (Rosetta Code's "ISAAC cipher").
function issac.encrypt(msg, key)
  issac.seedIsaac(key, true)
  return result(current():caesar(bytes_of(msg, "message"), false))
end

function issac.decrypt(encrypted, key)
  issac.seedIsaac(key, true)
  return current():caesar(bytes_of(encrypted, "ciphertext"), true)
end

crypto.cipher.issac = issac
crypto.cipher.isaac = issac

--- MORUS-1280: `encrypt` gives `ad .. ciphertext .. tag`; `decrypt` takes that and #ad and gives
--- the message, or nil and "decrypt error" when the tag is wrong.
local morus = { key_size = 32, nonce_size = 16, variant = "Morus-1280" }

function morus.encrypt(key, iv, msg, ad)
  return result(native.morus_encrypt(bytes_of(key, "key"), bytes_of(iv, "iv"), bytes_of(msg),
    bytes_of(ad or "", "ad")))
end

function morus.decrypt(key, iv, sealed, adLen)
  local out = native.morus_decrypt(bytes_of(key, "key"), bytes_of(iv, "iv"),
    bytes_of(sealed, "ciphertext"), adLen or 0)
  if not out then return nil, "decrypt error" end
  return out
end

crypto.cipher.morus = morus

--- NORX64-4-1: `encrypt` gives `ciphertext .. tag` (32 bytes); header and trailer are
--- authenticated, not encrypted; `decrypt` gives the message, or nil and "auth failure".
local norx = { key_size = 32, nonce_size = 32, variant = "NORX 64-4-1" }

function norx.encrypt(key, nonce, plain, header, trailer)
  return result(native.norx_encrypt(bytes_of(key, "key"), bytes_of(nonce, "nonce"),
    bytes_of(plain), bytes_of(header or "", "header"), bytes_of(trailer or "", "trailer")))
end

function norx.decrypt(key, nonce, crypted, header, trailer)
  local out = native.norx_decrypt(bytes_of(key, "key"), bytes_of(nonce, "nonce"),
    bytes_of(crypted, "ciphertext"), bytes_of(header or "", "header"), bytes_of(trailer or "", "trailer"))
  if not out then return nil, "auth failure" end
  return out
end

crypto.cipher.norx = norx

-- Randomness --------------------------------------------------------------------------------

--- aos's `crypto.random(min, max, seed)` is ISAAC's `random`: deterministic like everything
--- here (without a seed it draws once from the process's `math.random` stream, seeded from the
--- message log). Not secret from anyone who can read the process's log.
crypto.random = issac.random

-- Short forms kept from the earlier library -------------------------------------------------

function crypto.sha256(data)
  return crypto.digest.sha2_256(data).asHex()
end

crypto.base64 = base64

return crypto
