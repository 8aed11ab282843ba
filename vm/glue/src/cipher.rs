//! AES (FIPS 197) in the five modes of NIST SP 800-38A, from RustCrypto's `aes`, `cbc`,
//! `cfb-mode`, `ofb` and `ctr` crates; ECB is the bare block cipher applied block by block (the
//! `ecb` crate would add nothing but a dependency).
//!
//! aos's shape, which `lua/crypto.lua` keeps: the data is zero-padded to whole blocks in every
//! mode (so decryption returns the padding too), CFB feeds back whole blocks (CFB-128), and CTR
//! counts in the IV's last 8 bytes, big-endian (SP 800-38A's counter blocks).

use aes::{Aes128, Aes192, Aes256};
use cipher::{
    Array, BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt, KeyInit,
    KeyIvInit, StreamCipher, consts::U16,
};

/// The modes by aos's names.
pub const MODES: &[&str] = &["CBC", "ECB", "CFB", "OFB", "CTR"];

/// `data` zero-padded to a whole number of 16-byte blocks (nothing added when it is already).
fn padded(data: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    out.resize(data.len().div_ceil(16) * 16, 0);
    out
}

fn run<C>(mode: &str, encrypt: bool, key: &[u8], iv: &[u8], buf: &mut [u8]) -> Result<(), String>
where
    C: BlockCipherEncrypt + BlockCipherDecrypt + KeyInit + cipher::BlockSizeUser<BlockSize = U16>,
{
    let bad = |e: cipher::InvalidLength| format!("aes: {e}");
    let (blocks, rest) = Array::<u8, U16>::slice_as_chunks_mut(buf);
    debug_assert!(rest.is_empty(), "the data is padded to whole blocks");
    match (mode, encrypt) {
        ("ECB", true) => C::new_from_slice(key).map_err(bad)?.encrypt_blocks(blocks),
        ("ECB", false) => C::new_from_slice(key).map_err(bad)?.decrypt_blocks(blocks),
        ("CBC", true) => cbc::Encryptor::<C>::new_from_slices(key, iv)
            .map_err(bad)?
            .encrypt_blocks(blocks),
        ("CBC", false) => cbc::Decryptor::<C>::new_from_slices(key, iv)
            .map_err(bad)?
            .decrypt_blocks(blocks),
        ("CFB", true) => cfb_mode::Encryptor::<C>::new_from_slices(key, iv)
            .map_err(bad)?
            .encrypt_blocks(blocks),
        ("CFB", false) => cfb_mode::Decryptor::<C>::new_from_slices(key, iv)
            .map_err(bad)?
            .decrypt_blocks(blocks),
        // Stream modes: encryption and decryption are the same keystream.
        ("OFB", _) => ofb::Ofb::<C>::new_from_slices(key, iv)
            .map_err(bad)?
            .apply_keystream(Array::slice_as_flattened_mut(blocks)),
        ("CTR", _) => ctr::Ctr64BE::<C>::new_from_slices(key, iv)
            .map_err(bad)?
            .apply_keystream(Array::slice_as_flattened_mut(blocks)),
        _ => {
            return Err(format!(
                "aes: unknown mode '{mode}' (known: {})",
                MODES.join(", ")
            ));
        }
    }
    Ok(())
}

/// AES-`key_bits` in `mode` over `data` zero-padded to whole blocks; `key` supplies the first
/// `key_bits / 8` bytes (aos reads no further), `iv` must be one block (ECB ignores it).
pub fn aes(
    mode: &str,
    encrypt: bool,
    key_bits: u32,
    key: &[u8],
    iv: &[u8],
    data: &[u8],
) -> Result<Vec<u8>, String> {
    let key_len = match key_bits {
        128 | 192 | 256 => key_bits as usize / 8,
        _ => {
            return Err(format!(
                "aes: the key length must be 128, 192 or 256 bits, not {key_bits}"
            ));
        }
    };
    if key.len() < key_len {
        return Err(format!(
            "aes: a {key_bits}-bit key needs {key_len} bytes, got {}",
            key.len()
        ));
    }
    if iv.len() != 16 && mode != "ECB" {
        return Err(format!("aes: the IV must be 16 bytes, got {}", iv.len()));
    }
    let key = &key[..key_len];
    let iv = if mode == "ECB" { &[0u8; 16][..] } else { iv };
    let mut buf = padded(data);
    match key_bits {
        128 => run::<Aes128>(mode, encrypt, key, iv, &mut buf)?,
        192 => run::<Aes192>(mode, encrypt, key, iv, &mut buf)?,
        _ => run::<Aes256>(mode, encrypt, key, iv, &mut buf)?,
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    //! NIST SP 800-38A appendix F: every mode with every key size, both directions.
    use super::aes;

    fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    const PLAIN: &str = "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51
                         30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710";
    const KEYS: [(u32, &str); 3] = [
        (128, "2b7e151628aed2a6abf7158809cf4f3c"),
        (192, "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b"),
        (
            256,
            "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
        ),
    ];
    const IV: &str = "000102030405060708090a0b0c0d0e0f";
    const COUNTER: &str = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

    /// (mode, [ciphertext for 128, 192, 256-bit keys]) from F.1–F.5.
    const VECTORS: [(&str, [&str; 3]); 5] = [
        (
            "ECB",
            [
                "3ad77bb40d7a3660a89ecaf32466ef97 f5d3d58503b9699de785895a96fdbaaf 43b1cd7f598ece23881b00e3ed030688 7b0c785e27e8ad3f8223207104725dd4",
                "bd334f1d6e45f25ff712a214571fa5cc 974104846d0ad3ad7734ecb3ecee4eef ef7afd2270e2e60adce0ba2face6444e 9a4b41ba738d6c72fb16691603c18e0e",
                "f3eed1bdb5d2a03c064b5a7e3db181f8 591ccb10d410ed26dc5ba74a31362870 b6ed21b99ca6f4f9f153e7b1beafed1d 23304b7a39f9f3ff067d8d8f9e24ecc7",
            ],
        ),
        (
            "CBC",
            [
                "7649abac8119b246cee98e9b12e9197d 5086cb9b507219ee95db113a917678b2 73bed6b8e3c1743b7116e69e22229516 3ff1caa1681fac09120eca307586e1a7",
                "4f021db243bc633d7178183a9fa071e8 b4d9ada9ad7dedf4e5e738763f69145a 571b242012fb7ae07fa9baac3df102e0 08b0e27988598881d920a9e64f5615cd",
                "f58c4c04d6e5f1ba779eabfb5f7bfbd6 9cfc4e967edb808d679f777bc6702c7d 39f23369a9d9bacfa530e26304231461 b2eb05e2c39be9fcda6c19078c6a9d1b",
            ],
        ),
        (
            "CFB",
            [
                "3b3fd92eb72dad20333449f8e83cfb4a c8a64537a0b3a93fcde3cdad9f1ce58b 26751f67a3cbb140b1808cf187a4f4df c04b05357c5d1c0eeac4c66f9ff7f2e6",
                "cdc80d6fddf18cab34c25909c99a4174 67ce7f7f81173621961a2b70171d3d7a 2e1e8a1dd59b88b1c8e60fed1efac4c9 c05f9f9ca9834fa042ae8fba584b09ff",
                "dc7e84bfda79164b7ecd8486985d3860 39ffed143b28b1c832113c6331e5407b df10132415e54b92a13ed0a8267ae2f9 75a385741ab9cef82031623d55b1e471",
            ],
        ),
        (
            "OFB",
            [
                "3b3fd92eb72dad20333449f8e83cfb4a 7789508d16918f03f53c52dac54ed825 9740051e9c5fecf64344f7a82260edcc 304c6528f659c77866a510d9c1d6ae5e",
                "cdc80d6fddf18cab34c25909c99a4174 fcc28b8d4c63837c09e81700c1100401 8d9a9aeac0f6596f559c6d4daf59a5f2 6d9f200857ca6c3e9cac524bd9acc92a",
                "dc7e84bfda79164b7ecd8486985d3860 4febdc6740d20b3ac88f6ad82a4fb08d 71ab47a086e86eedf39d1c5bba97c408 0126141d67f37be8538f5a8be740e484",
            ],
        ),
        (
            "CTR",
            [
                "874d6191b620e3261bef6864990db6ce 9806f66b7970fdff8617187bb9fffdff 5ae4df3edbd5d35e5b4f09020db03eab 1e031dda2fbe03d1792170a0f3009cee",
                "1abc932417521ca24f2b0459fe7e6e0b 090339ec0aa6faefd5ccc2c6f4ce8e94 1e36b26bd1ebc670d1bd1d665620abf7 4f78a7f6d29809585a97daec58c6b050",
                "601ec313775789a5b7a7f504bbf3d228 f443e3ca4d62b59aca84e990cacaf5c5 2b0930daa23de94ce87017ba2d84988d dfc9c58db67aada613c2dd08457941a6",
            ],
        ),
    ];

    #[test]
    fn every_mode_and_key_size_matches_sp_800_38a() {
        let plain = unhex(PLAIN);
        for (mode, ciphers) in VECTORS {
            let iv = unhex(if mode == "CTR" { COUNTER } else { IV });
            for ((bits, key), cipher) in KEYS.iter().zip(ciphers) {
                let key = unhex(key);
                let want = unhex(cipher);
                assert_eq!(
                    aes(mode, true, *bits, &key, &iv, &plain).unwrap(),
                    want,
                    "{mode}-{bits} encrypt"
                );
                assert_eq!(
                    aes(mode, false, *bits, &key, &iv, &want).unwrap(),
                    plain,
                    "{mode}-{bits} decrypt"
                );
            }
        }
    }

    #[test]
    fn short_data_is_zero_padded_to_a_block_as_aos_does() {
        // aos's documented example: "ao" under key = IV = "super_secret_shh", CBC, 128 bits.
        let key = b"super_secret_shh";
        let out = aes("CBC", true, 128, key, key, b"ao").unwrap();
        assert_eq!(out, unhex("a3b9e6e1fbd9d46930e5f76807c84b8e"));
        let back = aes("CBC", false, 128, key, key, &out).unwrap();
        assert_eq!(back, b"ao\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
        assert!(aes("CBC", true, 128, key, key, b"").unwrap().is_empty());
    }

    #[test]
    fn bad_keys_ivs_and_modes_are_refused() {
        assert!(aes("CBC", true, 256, b"too short", &[0; 16], b"x").is_err());
        assert!(aes("CBC", true, 128, &[0; 16], &[0; 8], b"x").is_err());
        assert!(
            aes("XTS", true, 128, &[0; 16], &[0; 16], b"x")
                .unwrap_err()
                .contains("unknown mode")
        );
        assert!(aes("CBC", true, 100, &[0; 16], &[0; 16], b"x").is_err());
    }
}
