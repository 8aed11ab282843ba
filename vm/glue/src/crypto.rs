//! The native half of `.crypto`: RustCrypto's digests, HMAC and PBKDF2 over byte strings.
//! `lua/crypto.lua` wraps these in aos's API shape (streams in, digest objects out).
//!
//! Preloaded as `aos.crypto`: `digest(name, data) → bytes`, `blake2b(data, outlen?, key?) →
//! bytes`, `hmac(name, key, data) → bytes`, `pbkdf2(name, password, salt, iterations, len) →
//! bytes`; each answers `nil, message` instead when it fails (an unknown name lists the known
//! ones), and `lua/crypto.lua` raises the message.
//!
//! Ciphers: `aes(mode, encrypt, key_bits, key, iv, data)` (RustCrypto, see `cipher.rs`),
//! `isaac(seed, use_seed)` (a generator with `:next()`, `:char()`, `:caesar(text, decrypt)`),
//! `morus_encrypt(key, nonce, msg, ad)` / `morus_decrypt(key, nonce, sealed, ad_len)` and
//! `norx_encrypt(key, nonce, msg, header, trailer)` / `norx_decrypt(…)`; the decryptions answer
//! `false` when the tag does not authenticate. ISAAC, MORUS-1280 and NORX64-4-1 are written
//! here from their specifications (`isaac.rs`, `morus.rs`, `norx.rs`): no maintained crate
//! implements them.

use digest::{Digest, KeyInit};
use hmac::SimpleHmac;
use mlua::{Lua, LuaString, Result, Table, UserData, UserDataMethods, Value};

use crate::isaac::Isaac;

/// Every digest by its aos name.
pub const DIGESTS: &[&str] = &[
    "md2",
    "md4",
    "md5",
    "sha1",
    "sha2_256",
    "sha2_512",
    "sha3_256",
    "sha3_512",
    "keccak256",
    "keccak512",
];

fn unknown(kind: &str, name: &str, known: &[&str]) -> mlua::Error {
    mlua::Error::runtime(format!(
        "unknown {kind} '{name}' (known: {})",
        known.join(", ")
    ))
}

fn hash<D: Digest>(data: &[u8]) -> Vec<u8> {
    D::digest(data).to_vec()
}

/// The digest `name` of `data`, or `None` for a name that is not one of `DIGESTS`.
pub fn digest(name: &str, data: &[u8]) -> Option<Vec<u8>> {
    Some(match name {
        "md2" => hash::<md2::Md2>(data),
        "md4" => hash::<md4::Md4>(data),
        "md5" => hash::<md5::Md5>(data),
        "sha1" => hash::<sha1::Sha1>(data),
        "sha2_256" | "sha256" => hash::<sha2::Sha256>(data),
        "sha2_512" | "sha512" => hash::<sha2::Sha512>(data),
        "sha3_256" => hash::<sha3::Sha3_256>(data),
        "sha3_512" => hash::<sha3::Sha3_512>(data),
        "keccak256" => hash::<sha3::Keccak256>(data),
        "keccak512" => hash::<sha3::Keccak512>(data),
        _ => return None,
    })
}

/// HMAC names: aos's `sha1`/`sha256` and the longer digest names.
const MACS: &[&str] = &[
    "md5", "sha1", "sha256", "sha512", "sha2_256", "sha2_512", "sha3_256", "sha3_512",
];

fn mac<D: Digest + digest::common::BlockSizeUser + Clone>(key: &[u8], data: &[u8]) -> Vec<u8> {
    use digest::Mac;
    let mut m = <SimpleHmac<D> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// HMAC (RFC 2104) of `data` under `key` with the digest `name`.
pub fn hmac(name: &str, key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    Some(match name {
        "md5" => mac::<md5::Md5>(key, data),
        "sha1" => mac::<sha1::Sha1>(key, data),
        "sha256" | "sha2_256" => mac::<sha2::Sha256>(key, data),
        "sha512" | "sha2_512" => mac::<sha2::Sha512>(key, data),
        "sha3_256" => mac::<sha3::Sha3_256>(key, data),
        "sha3_512" => mac::<sha3::Sha3_512>(key, data),
        _ => return None,
    })
}

fn derive<D: Digest + digest::common::BlockSizeUser + Clone + Sync>(
    password: &[u8],
    salt: &[u8],
    rounds: u32,
    out: &mut [u8],
) {
    pbkdf2::pbkdf2::<SimpleHmac<D>>(password, salt, rounds, out).expect("HMAC takes any key");
}

/// PBKDF2 (RFC 8018) with HMAC-`name`.
pub fn pbkdf2(
    name: &str,
    password: &[u8],
    salt: &[u8],
    rounds: u32,
    len: usize,
) -> Option<Vec<u8>> {
    let mut out = vec![0u8; len];
    match name {
        "sha1" => derive::<sha1::Sha1>(password, salt, rounds, &mut out),
        "sha256" | "sha2_256" => derive::<sha2::Sha256>(password, salt, rounds, &mut out),
        "sha512" | "sha2_512" => derive::<sha2::Sha512>(password, salt, rounds, &mut out),
        _ => return None,
    }
    Some(out)
}

/// BLAKE2b (RFC 7693) with an output of 1..=64 bytes and an optional key of at most 64 bytes.
pub fn blake2b(data: &[u8], outlen: usize, key: &[u8]) -> std::result::Result<Vec<u8>, String> {
    if !(1..=64).contains(&outlen) || key.len() > 64 {
        return Err("blake2b: the output must be 1 to 64 bytes and the key at most 64".into());
    }
    let hash = blake2b_simd::Params::new()
        .hash_length(outlen)
        .key(key)
        .hash(data);
    Ok(hash.as_bytes().to_vec())
}

fn bytes(s: &LuaString) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// The `aos.crypto` table.
pub fn create(lua: &Lua) -> Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "digest",
        crate::soft_function(lua, |lua, (name, data): (String, LuaString)| {
            let out =
                digest(&name, &data.as_bytes()).ok_or_else(|| unknown("digest", &name, DIGESTS))?;
            Ok(Value::String(lua.create_string(out)?))
        })?,
    )?;
    t.set(
        "blake2b",
        crate::soft_function(
            lua,
            |lua, (data, outlen, key): (LuaString, Option<usize>, Option<LuaString>)| {
                let key = key.as_ref().map(bytes).unwrap_or_default();
                let out = blake2b(&data.as_bytes(), outlen.unwrap_or(64), &key)
                    .map_err(mlua::Error::runtime)?;
                Ok(Value::String(lua.create_string(out)?))
            },
        )?,
    )?;
    t.set(
        "hmac",
        crate::soft_function(
            lua,
            |lua, (name, key, data): (String, LuaString, LuaString)| {
                let out = hmac(&name, &key.as_bytes(), &data.as_bytes())
                    .ok_or_else(|| unknown("HMAC digest", &name, MACS))?;
                Ok(Value::String(lua.create_string(out)?))
            },
        )?,
    )?;
    t.set(
        "pbkdf2",
        crate::soft_function(
            lua,
            |lua, (name, password, salt, rounds, len): (String, LuaString, LuaString, u32, usize)| {
                if rounds == 0 || len == 0 || len > 1 << 20 {
                    return Err(mlua::Error::runtime(
                        "pbkdf2: iterations must be positive and the key 1 byte to 1 MiB",
                    ));
                }
                let out = pbkdf2(&name, &password.as_bytes(), &salt.as_bytes(), rounds, len)
                    .ok_or_else(|| unknown("PBKDF2 digest", &name, &["sha1", "sha256", "sha512"]))?;
                Ok(Value::String(lua.create_string(out)?))
            },
        )?,
    )?;
    ciphers(lua, &t)?;
    Ok(t)
}

impl UserData for Isaac {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method_mut("next", |_, me, ()| Ok(i64::from(me.next_u32())));
        methods.add_method_mut("char", |_, me, ()| Ok(i64::from(me.next_char())));
        methods.add_method_mut("caesar", |lua, me, (text, decrypt): (LuaString, bool)| {
            lua.create_string(me.caesar(&text.as_bytes(), decrypt))
        });
    }
}

/// A decryption's answer: the message, or `false` when it does not authenticate.
fn opened(lua: &Lua, out: std::result::Result<Option<Vec<u8>>, String>) -> Result<Value> {
    match out.map_err(mlua::Error::runtime)? {
        Some(msg) => Ok(Value::String(lua.create_string(msg)?)),
        None => Ok(Value::Boolean(false)),
    }
}

fn sealed(lua: &Lua, out: std::result::Result<Vec<u8>, String>) -> Result<Value> {
    Ok(Value::String(
        lua.create_string(out.map_err(mlua::Error::runtime)?)?,
    ))
}

type Bytes = LuaString;

fn ciphers(lua: &Lua, t: &Table) -> Result<()> {
    t.set(
        "aes",
        crate::soft_function(
            lua,
            |lua, (mode, encrypt, bits, key, iv, data): (String, bool, u32, Bytes, Bytes, Bytes)| {
                let out = crate::cipher::aes(
                    &mode,
                    encrypt,
                    bits,
                    &key.as_bytes(),
                    &iv.as_bytes(),
                    &data.as_bytes(),
                );
                sealed(lua, out)
            },
        )?,
    )?;
    t.set(
        "isaac",
        lua.create_function(|_, (seed, use_seed): (Bytes, bool)| {
            Ok(Isaac::new(&seed.as_bytes(), use_seed))
        })?,
    )?;
    t.set(
        "morus_encrypt",
        crate::soft_function(lua, |lua, (k, n, m, ad): (Bytes, Bytes, Bytes, Bytes)| {
            let out =
                crate::morus::encrypt(&k.as_bytes(), &n.as_bytes(), &m.as_bytes(), &ad.as_bytes());
            sealed(lua, out)
        })?,
    )?;
    t.set(
        "morus_decrypt",
        crate::soft_function(
            lua,
            |lua, (k, n, c, ad_len): (Bytes, Bytes, Bytes, usize)| {
                opened(
                    lua,
                    crate::morus::decrypt(&k.as_bytes(), &n.as_bytes(), &c.as_bytes(), ad_len),
                )
            },
        )?,
    )?;
    t.set(
        "norx_encrypt",
        crate::soft_function(
            lua,
            |lua, (k, n, m, h, z): (Bytes, Bytes, Bytes, Bytes, Bytes)| {
                let (k, n, m, h, z) = (
                    k.as_bytes(),
                    n.as_bytes(),
                    m.as_bytes(),
                    h.as_bytes(),
                    z.as_bytes(),
                );
                sealed(lua, crate::norx::encrypt(&k, &n, &m, &h, &z))
            },
        )?,
    )?;
    t.set(
        "norx_decrypt",
        crate::soft_function(
            lua,
            |lua, (k, n, c, h, z): (Bytes, Bytes, Bytes, Bytes, Bytes)| {
                let (k, n, c, h, z) = (
                    k.as_bytes(),
                    n.as_bytes(),
                    c.as_bytes(),
                    h.as_bytes(),
                    z.as_bytes(),
                );
                opened(lua, crate::norx::decrypt(&k, &n, &c, &h, &z))
            },
        )?,
    )?;
    Ok(())
}
