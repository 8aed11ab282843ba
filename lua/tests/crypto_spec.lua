-- Known-answer tests of `.crypto` from the standards: RFC 1319/1320/1321 (MD2/MD4/MD5),
-- FIPS 180-4 (SHA-1, SHA-2), FIPS 202 (SHA-3), the Keccak team's original padding (Keccak),
-- RFC 7693 and the BLAKE2 KAT (BLAKE2b), RFC 2202/4231 (HMAC), RFC 6070/7914 (PBKDF2).
local crypto = require('.crypto')
local digest, utils = crypto.digest, crypto.utils

local function unhex(h) return utils.hex.hexToString(h) end

local vectors = {
  md2 = { [""] = "8350e5a3e24c153df2275c9f80692773", abc = "da853b0d3f88d99b30283a69e6ded6bb",
          ["message digest"] = "ab4f496bfb2a530b219ff33031fe06b0" },
  md4 = { [""] = "31d6cfe0d16ae931b73c59d7e0c089c0", abc = "a448017aaf21d8525fc10ae87aa6729d",
          ["message digest"] = "d9130a8164549fe818874806e1c7014b" },
  md5 = { [""] = "d41d8cd98f00b204e9800998ecf8427e", abc = "900150983cd24fb0d6963f7d28e17f72",
          ["message digest"] = "f96b697d7cb7938d525a2f31aaf161d0" },
  sha1 = { [""] = "da39a3ee5e6b4b0d3255bfef95601890afd80709", abc = "a9993e364706816aba3e25717850c26c9cd0d89d",
           ["abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"] = "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
  sha2_256 = { abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
               ["abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"] = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
  sha2_512 = { abc = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f" },
  sha3_256 = { [""] = "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a",
               abc = "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532" },
  sha3_512 = { abc = "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0" },
  keccak256 = { [""] = "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
                abc = "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45" },
  keccak512 = { [""] = "0eab42de4c3ceb9235fc91acffe746b29c29a8c366b7c60e4e67c466f36a4304c00fa9caf9d87976ba469bcbe06713b435f091ef2769fb160cdab33d3670680e",
                abc = "18587dc2ea106b9a1563e32b3312421ca164c7f1f07bc922a9c83d77cea3a1e5d0c69910739025372dc14ac9642629379540c17e2a65b19d77aa511a9d00bb96" },
}

test("every digest matches its standard's vectors", function()
  local names = {}
  for name in pairs(vectors) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local cases = {}
    for input in pairs(vectors[name]) do cases[#cases + 1] = input end
    table.sort(cases)
    for _, input in ipairs(cases) do
      eq(digest[name](input).asHex(), vectors[name][input], name .. "(" .. input .. ")")
    end
  end
end)

test("sha-256 of a million a's (FIPS 180-4)", function()
  eq(digest.sha2_256(string.rep("a", 1000000)).asHex(),
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
end)

test("digests take strings, aos streams and byte arrays alike", function()
  local want = vectors.md5.abc
  eq(digest.md5(utils.stream.fromString("abc")).asHex(), want)
  eq(digest.md5({ 97, 98, 99 }).asHex(), want)
  eq(digest.md5(utils.stream.fromHex("616263")).asHex(), want)
  local d = digest.sha1("abc")
  eq(utils.hex.stringToHex(d.asString()), vectors.sha1.abc)
  eq(#d.asBytes(), 20)
  eq(d.asBytes()[1], 0xa9)
end)

test("blake2b (RFC 7693 appendix A, BLAKE2 keyed KAT)", function()
  eq(digest.blake2b("abc"), "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923")
  eq(digest.blake2b(""), "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce")
  local key = {}
  for i = 0, 63 do key[#key + 1] = string.char(i) end
  eq(digest.blake2b("", 64, table.concat(key)), "10ebb67700b1868efb4417987acf4690ae9d972fb7a590c2f02871799aaa4786b5e996e8f0f4eb981fc214b005f42d2ff4233499391653df7aefcbc13fc51568")
  eq(#digest.blake2b("abc", 32), 64)
  assert(not pcall(digest.blake2b, "abc", 65), "an output over 64 bytes is refused")
end)

test("hmac (RFC 2202, RFC 4231)", function()
  local mac = crypto.mac.createHmac
  local key = string.rep("\x0b", 20)
  eq(mac("Hi There", key, "sha256").asHex(), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
  eq(mac("Hi There", key, "sha512").asHex(), "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854")
  eq(mac("Hi There", key).asHex(), "b617318655057264e28bc0b6fb378c8ef146be00", "sha1 is the default")
  eq(mac("Hi There", string.rep("\x0b", 16), "md5").asHex(), "9294727a3638bb1c13f48ef8158bfc9d")
  eq(mac(utils.stream.fromString("what do ya want for nothing?"), utils.array.fromString("Jefe"), "sha256").asHex(),
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
  -- RFC 4231 case 6: a key longer than the block is hashed first.
  eq(mac("Test Using Larger Than Block-Size Key - Hash Key First", string.rep("\xaa", 131), "sha256").asHex(),
    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
  local ok, err = pcall(mac, "x", "k", "sha7")
  assert(not ok and err:find("unknown HMAC digest 'sha7'", 1, true), tostring(err))
end)

test("pbkdf2 (RFC 6070 for HMAC-SHA1, RFC 7914 for HMAC-SHA256)", function()
  local pbkdf2 = crypto.kdf.pbkdf2
  eq(pbkdf2("password", "salt", 1, 20).asHex(), "0c60c80f961f0e71f3a9b524af6012062fe037a6")
  eq(pbkdf2("password", "salt", 2, 20, "sha1").asHex(), "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957")
  eq(pbkdf2("password", "salt", 4096, 20).asHex(), "4b007901b765489abead49d926f721d065a429c1")
  eq(pbkdf2("passwordPASSWORDpassword", "saltSALTsaltSALTsaltSALTsaltSALTsalt", 4096, 25).asHex(),
    "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038")
  eq(pbkdf2(utils.array.fromString("passwd"), utils.array.fromString("salt"), 1, 64, "sha256").asHex(),
    "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")
  assert(not pcall(pbkdf2, "p", "s", 0, 20), "zero iterations are refused")
end)

test("utils: hex, arrays, streams, queue", function()
  eq(utils.hex.stringToHex("\0\1\255"), "0001ff")
  eq(utils.hex.hexToString("0001ff"), "\0\1\255")
  eq(utils.array.toHex(utils.array.XOR({ 1, 2 }, { 3, 3 })), "0201")
  eq(utils.stream.toString(utils.stream.fromArray({ 104, 105 })), "hi")
  eq(utils.stream.toArray(utils.stream.fromString("hi")), { 104, 105 })
  local q = utils.queue()
  q.push(1) q.push(2)
  eq(q.size(), 2) eq(q.pop(), 1) eq(q.pop(), 2) eq(q.pop(), nil)
end)

test("random bytes come from the process's one math.random stream: same seed, same bytes", function()
  local chance = require('.chance')
  chance.seed(42)
  local a = crypto.random(16)
  chance.seed(42)
  eq(crypto.random(16), a)
  eq(#a, 16)
  assert(crypto.random(16) ~= a, "the stream moves on")
end)

test("the short forms kept from the earlier library", function()
  eq(crypto.sha256("abc"), vectors.sha2_256.abc)
  eq(crypto.base64.encode("abc"), "YWJj")
end)

return finish()
