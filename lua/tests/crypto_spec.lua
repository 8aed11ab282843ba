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

-- Ciphers: NIST SP 800-38A (AES), Bob Jenkins' randvect (ISAAC), the MORUS and NORX authors'
-- vectors, and the outputs aos documents.
local cipher = crypto.cipher
local function strip(h) return (h:gsub("%s", "")) end

local sp800_38a = {
  plain = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
  keys = { [128] = "2b7e151628aed2a6abf7158809cf4f3c", [192] = "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
           [256] = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4" },
  { "ECB", { [128] = "3ad77bb40d7a3660a89ecaf32466ef97f5d3d58503b9699de785895a96fdbaaf43b1cd7f598ece23881b00e3ed0306887b0c785e27e8ad3f8223207104725dd4",
             [192] = "bd334f1d6e45f25ff712a214571fa5cc974104846d0ad3ad7734ecb3ecee4eefef7afd2270e2e60adce0ba2face6444e9a4b41ba738d6c72fb16691603c18e0e",
             [256] = "f3eed1bdb5d2a03c064b5a7e3db181f8591ccb10d410ed26dc5ba74a31362870b6ed21b99ca6f4f9f153e7b1beafed1d23304b7a39f9f3ff067d8d8f9e24ecc7" } },
  { "CBC", { [128] = "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b273bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7",
             [192] = "4f021db243bc633d7178183a9fa071e8b4d9ada9ad7dedf4e5e738763f69145a571b242012fb7ae07fa9baac3df102e008b0e27988598881d920a9e64f5615cd",
             [256] = "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b" } },
  { "CFB", { [128] = "3b3fd92eb72dad20333449f8e83cfb4ac8a64537a0b3a93fcde3cdad9f1ce58b26751f67a3cbb140b1808cf187a4f4dfc04b05357c5d1c0eeac4c66f9ff7f2e6",
             [192] = "cdc80d6fddf18cab34c25909c99a417467ce7f7f81173621961a2b70171d3d7a2e1e8a1dd59b88b1c8e60fed1efac4c9c05f9f9ca9834fa042ae8fba584b09ff",
             [256] = "dc7e84bfda79164b7ecd8486985d386039ffed143b28b1c832113c6331e5407bdf10132415e54b92a13ed0a8267ae2f975a385741ab9cef82031623d55b1e471" } },
  { "OFB", { [128] = "3b3fd92eb72dad20333449f8e83cfb4a7789508d16918f03f53c52dac54ed8259740051e9c5fecf64344f7a82260edcc304c6528f659c77866a510d9c1d6ae5e",
             [192] = "cdc80d6fddf18cab34c25909c99a4174fcc28b8d4c63837c09e81700c11004018d9a9aeac0f6596f559c6d4daf59a5f26d9f200857ca6c3e9cac524bd9acc92a",
             [256] = "dc7e84bfda79164b7ecd8486985d38604febdc6740d20b3ac88f6ad82a4fb08d71ab47a086e86eedf39d1c5bba97c4080126141d67f37be8538f5a8be740e484" } },
  { "CTR", { [128] = "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee",
             [192] = "1abc932417521ca24f2b0459fe7e6e0b090339ec0aa6faefd5ccc2c6f4ce8e941e36b26bd1ebc670d1bd1d665620abf74f78a7f6d29809585a97daec58c6b050",
             [256] = "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c52b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6" } },
}

test("aes: every mode and key size matches NIST SP 800-38A, both ways", function()
  local plain = unhex(sp800_38a.plain)
  for _, case in ipairs(sp800_38a) do
    local mode, ciphers = case[1], case[2]
    local iv = unhex(mode == "CTR" and "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff" or "000102030405060708090a0b0c0d0e0f")
    for _, bits in ipairs({ 128, 192, 256 }) do
      local key = unhex(sp800_38a.keys[bits])
      local e = cipher.aes.encrypt(plain, key, iv, mode, bits)
      eq(e.asHex(), ciphers[bits]:upper(), mode .. "-" .. bits)
      eq(e.asHex(), ciphers[bits]:upper(), "a result can be read twice")
      eq(cipher.aes.decrypt(e.asHex(), key, iv, mode, bits).asString(), plain, mode .. "-" .. bits .. " decrypt")
    end
  end
end)

test("aes: aos's defaults (CBC, 128 bits, a zero IV) and zero padding", function()
  local key = "super_secret_shh"
  local e = cipher.aes.encrypt("ao", key, key)
  eq(e.asHex(), "A3B9E6E1FBD9D46930E5F76807C84B8E", "aos's documented example")
  eq(cipher.aes.decrypt(e.asHex(), key, key).asHex(), "616F0000000000000000000000000000")
  eq(#e.asBytes(), 16)
  eq(cipher.aes.encrypt("ao", key).asHex(), cipher.aes.encrypt("ao", key, string.rep("\0", 16), "CBC", 128).asHex())
  local ok, err = pcall(cipher.aes.encrypt, "ao", key, key, "XTS")
  assert(not ok and err:find("unknown mode", 1, true), tostring(err))
  assert(not pcall(cipher.aes.encrypt, "ao", key, key, "CBC", 256), "a 16-byte key is too short for AES-256")
end)

test("issac: the reference randvect, the Rosetta Code cipher vector, aos's example", function()
  local issac = cipher.issac
  issac.seedIsaac("", true)
  for _ = 1, 256 do issac.getRandom() end
  local want = { 0xf650e4c8, 0xe448e96d, 0x98db2fb4, 0xf5fad54f, 0x433f1afb, 0xedec154a, 0xd8370487, 0x46ca4f9a }
  for i = 1, #want do eq(issac.getRandom(), want[i], "randvect word " .. i) end
  -- Rosetta Code: XOR first, then MOD, on one stream seeded with the key.
  local msg, key = "a Top Secret secret", "this is my secret key"
  issac.seedIsaac(key, true)
  for _ = 1, #msg do issac.getRandomChar() end
  local moved = {}
  for i = 1, #msg do
    local n = (msg:byte(i) - 32 + issac.getRandomChar()) % 95
    moved[i] = string.char(32 + n)
  end
  eq(utils.hex.stringToHex(table.concat(moved)):upper(), "734270227D36772A783B4F2A5F206266236978")
  local e = issac.encrypt("ao", "secret_key")
  eq(e.asHex(), "7851")
  eq(issac.decrypt(e.asString(), "secret_key"), "ao")
  eq(issac.random(0, 100, "seed"), issac.random(0, 100, "seed"), "a seed fixes the number")
  local n = crypto.random(0, 100)
  assert(math.type(n) == "integer" and n >= 0 and n <= 100, tostring(n))
end)

test("morus-1280: the authors' vectors (128- and 256-bit keys) and aos's outputs", function()
  local morus = cipher.morus
  local z = unhex("00000000000000000000000000000000")
  eq(morus.encrypt(z, z, "", "").asHex(), "5bd2cba68ea7e72f6b3d0c155f39f962")
  eq(morus.encrypt(z, z, "\1", "").asHex(), "baec1942a315a84695432a1255e6197878")
  local k16, k32 = unhex("000102030405060708090a0b0c0d0e0f"), unhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
  local iv, ones = unhex("000306090c0f1215181b1e2124272a2d"), unhex("01010101010101010101010101010101")
  eq(morus.encrypt(k16, iv, ones, ones).asHex(), "01010101010101010101010101010101b64ee39fc045475e97b41bd08277b4cbe989740eb075f75bd57a43a250f53765")
  eq(morus.encrypt(k32, iv, ones, ones).asHex(), "01010101010101010101010101010101aecb6f5991a11746831740e4d45b6c26c3107488470f05e6828472ac0264045d")
  local e = morus.encrypt("super_secret_shh", "0000000000000000", "ao", "")
  eq(e.asHex(), "514ed31473d8fb0b76c6cbb17af35ed01d0a")
  eq(morus.decrypt("super_secret_shh", "0000000000000000", e.asString(), 0), "ao")
  local ad = "additional data"
  e = morus.encrypt(k32, "0000000000000000", "ao", ad)
  eq(e.asHex(), "6164646974696f6e616c20646174616aae7a8b95c50047bea251c3b7133eec5fcc")
  eq(morus.decrypt(k32, "0000000000000000", e.asString(), #ad), "ao")
  local forged = e.asString():sub(1, -2) .. "\0"
  local out, err = morus.decrypt(k32, "0000000000000000", forged, #ad)
  eq(out, nil) eq(err, "decrypt error")
end)

test("norx64-4-1: the specification's vector, the authors' KAT, aos's example", function()
  local norx = cipher.norx
  local function seq(from, to) local t = {} for i = from, to do t[#t + 1] = string.char(i) end return table.concat(t) end
  local key, nonce, data = seq(0, 31), seq(32, 63), seq(0, 127)
  local sealed = norx.encrypt(key, nonce, data, data, data).asString()
  eq(#sealed, 160)
  eq(utils.hex.stringToHex(sealed:sub(-32)), strip("d1f2fa3305a32376e23a61d1c989303f bfbd935aa55b17e4e7254733c473408e"))
  eq(norx.decrypt(key, nonce, sealed, data, data), data)
  local function kat(m, len) local t = {} for i = 0, len - 1 do t[#t + 1] = string.char((i * m + 123) & 255) end return table.concat(t) end
  eq(norx.encrypt(kat(191, 32), kat(181, 32), kat(197, 1), kat(193, 1)).asHex(),
    strip("58 7d70d24d2b5a1f0ed26999d2736bef111adfdad6a03e9bf365fc010a7c5ded03"))
  local e = norx.encrypt("super_duper_secret_password_shhh", "00000000000000000000000000000000", "ao", "ao", "ao")
  eq(e.asHex(), "0bb35a06938e6541eccd4440adb7b46118535f60b09b4adf378807a53df19fc4ea28")
  eq(norx.decrypt("super_duper_secret_password_shhh", "00000000000000000000000000000000", e.asString(), "ao", "ao"), "ao")
  local out, err = norx.decrypt("super_duper_secret_password_shhh", "00000000000000000000000000000000", e.asString(), "ao", "no")
  eq(out, nil) eq(err, "auth failure")
end)

test("the short forms kept from the earlier library", function()
  eq(crypto.sha256("abc"), vectors.sha2_256.abc)
  eq(crypto.base64.encode("abc"), "YWJj")
end)

return finish()
