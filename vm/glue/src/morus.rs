//! MORUS-1280 (Wu and Huang, CAESAR round 4, v2), written here from its specification: no
//! maintained crate implements it (the CAESAR finalists outside the final portfolio were left
//! unmaintained, and Linux dropped its MORUS in 5.3). 128- or 256-bit key, 128-bit nonce,
//! 128-bit tag; the state is five 256-bit rows of four little-endian 64-bit words.
//!
//! aos's shape (`crypto.cipher.morus`): encryption returns `ad ‖ ciphertext ‖ tag`, and
//! decryption takes that string and the length of its `ad` prefix.

type Row = [u64; 4];

/// The Fibonacci constant bytes 00 01 01 02 03 05 08 0d … as little-endian words.
const CONST: Row = [
    0x0d08_0503_0201_0100,
    0x6279_e990_5937_2215,
    0xf12f_c26d_5518_3ddb,
    0xdd28_b573_4231_1120,
];

struct State([Row; 5]);

fn rotl(row: &mut Row, bits: u32) {
    for w in row.iter_mut() {
        *w = w.rotate_left(bits);
    }
}

fn xor_and(dst: &mut Row, a: &Row, b: &Row) {
    for i in 0..4 {
        dst[i] ^= a[i] & b[i];
    }
}

fn xor(dst: &mut Row, a: &Row) {
    for i in 0..4 {
        dst[i] ^= a[i];
    }
}

fn words(block: &[u8; 32]) -> Row {
    let mut row = [0u64; 4];
    for (i, w) in row.iter_mut().enumerate() {
        *w = u64::from_le_bytes(block[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
    }
    row
}

fn bytes(row: &Row) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, w) in row.iter().enumerate() {
        out[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
    }
    out
}

impl State {
    /// The state update: each row absorbs `m`, is mixed with two others and rotated bitwise,
    /// and one other row is rotated by whole words (the spec's b0..b4 and w0..w4).
    fn update(&mut self, m: &Row) {
        let [s0, s1, s2, s3, s4] = &mut self.0;
        xor(s0, s3);
        xor_and(s0, s1, s2);
        rotl(s0, 13);
        s3.rotate_right(1);

        xor(s1, m);
        xor(s1, s4);
        xor_and(s1, s2, s3);
        rotl(s1, 46);
        s4.rotate_right(2);

        xor(s2, m);
        xor(s2, s0);
        xor_and(s2, s3, s4);
        rotl(s2, 38);
        s0.rotate_left(1);

        xor(s3, m);
        xor(s3, s1);
        xor_and(s3, s4, s0);
        rotl(s3, 7);
        s1.rotate_right(2);

        xor(s4, m);
        xor(s4, s2);
        xor_and(s4, s0, s1);
        rotl(s4, 4);
        s2.rotate_right(1);
    }

    fn new(key: &[u8], nonce: &[u8]) -> Self {
        let mut k = [0u8; 32];
        k[..key.len()].copy_from_slice(key);
        if key.len() == 16 {
            k.copy_within(..16, 16);
        }
        let k = words(&k);
        let mut n = [0u8; 32];
        n[..16].copy_from_slice(nonce);
        let mut s = State([words(&n), k, [u64::MAX; 4], [0; 4], CONST]);
        for _ in 0..16 {
            s.update(&[0; 4]);
        }
        xor(&mut s.0[1], &k);
        s
    }

    /// The keystream word mix: S0 ^ (S1 <<< 192) ^ (S2 & S3).
    fn keystream(&self) -> Row {
        let [s0, s1, s2, s3, _] = &self.0;
        let mut out = *s0;
        for i in 0..4 {
            out[i] ^= s1[(i + 1) % 4] ^ (s2[i] & s3[i]);
        }
        out
    }

    fn absorb(&mut self, data: &[u8]) {
        for chunk in data.chunks(32) {
            let mut block = [0u8; 32];
            block[..chunk.len()].copy_from_slice(chunk);
            self.update(&words(&block));
        }
    }

    fn tag(mut self, ad_len: usize, msg_len: usize) -> [u8; 16] {
        let [s0, .., s4] = &mut self.0;
        xor(s4, s0);
        let lengths = [(ad_len as u64) << 3, (msg_len as u64) << 3, 0, 0];
        for _ in 0..10 {
            self.update(&lengths);
        }
        let t = bytes(&self.keystream());
        t[..16].try_into().expect("16 bytes")
    }
}

fn check(key: &[u8], nonce: &[u8]) -> Result<(), String> {
    if key.len() != 16 && key.len() != 32 {
        return Err(format!(
            "morus: the key must be 16 or 32 bytes, got {}",
            key.len()
        ));
    }
    if nonce.len() != 16 {
        return Err(format!(
            "morus: the nonce must be 16 bytes, got {}",
            nonce.len()
        ));
    }
    Ok(())
}

/// `ad ‖ ciphertext ‖ tag` of `msg` under `key` (16 or 32 bytes) and `nonce` (16 bytes).
pub fn encrypt(key: &[u8], nonce: &[u8], msg: &[u8], ad: &[u8]) -> Result<Vec<u8>, String> {
    check(key, nonce)?;
    let mut s = State::new(key, nonce);
    s.absorb(ad);
    let mut out = Vec::with_capacity(ad.len() + msg.len() + 16);
    out.extend_from_slice(ad);
    for chunk in msg.chunks(32) {
        let mut block = [0u8; 32];
        block[..chunk.len()].copy_from_slice(chunk);
        let m = words(&block);
        let mut c = s.keystream();
        xor(&mut c, &m);
        out.extend_from_slice(&bytes(&c)[..chunk.len()]);
        s.update(&m);
    }
    out.extend_from_slice(&s.tag(ad.len(), msg.len()));
    Ok(out)
}

/// The message inside `sealed` (`ad ‖ ciphertext ‖ tag`, the `ad` being `ad_len` bytes), or
/// `Ok(None)` when the tag does not authenticate it.
pub fn decrypt(
    key: &[u8],
    nonce: &[u8],
    sealed: &[u8],
    ad_len: usize,
) -> Result<Option<Vec<u8>>, String> {
    check(key, nonce)?;
    if sealed.len() < ad_len + 16 {
        return Err("morus: the ciphertext is shorter than its additional data and tag".into());
    }
    let (ad, rest) = sealed.split_at(ad_len);
    let (cipher, tag) = rest.split_at(rest.len() - 16);
    let mut s = State::new(key, nonce);
    s.absorb(ad);
    let mut msg = Vec::with_capacity(cipher.len());
    for chunk in cipher.chunks(32) {
        let mut block = [0u8; 32];
        block[..chunk.len()].copy_from_slice(chunk);
        let c = words(&block);
        let mut m = s.keystream();
        xor(&mut m, &c);
        let mut plain = bytes(&m);
        plain[chunk.len()..].fill(0);
        msg.extend_from_slice(&plain[..chunk.len()]);
        s.update(&words(&plain));
    }
    let want = s.tag(ad_len, cipher.len());
    // Constant-time comparison: no early exit on the first differing byte.
    let diff = want.iter().zip(tag).fold(0u8, |acc, (a, b)| acc | (a ^ b));
    Ok((diff == 0).then_some(msg))
}

#[cfg(test)]
mod tests {
    //! The MORUS authors' reference implementation vectors (MORUS-1280-128 and -256), and
    //! aos's own published outputs.
    use super::{decrypt, encrypt};

    fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn check(key: &str, nonce: &str, msg: &str, ad: &str, want_after_ad: &str) {
        let (key, nonce, msg, ad) = (unhex(key), unhex(nonce), unhex(msg), unhex(ad));
        let sealed = encrypt(&key, &nonce, &msg, &ad).unwrap();
        let mut want = ad.clone();
        want.extend(unhex(want_after_ad));
        assert_eq!(sealed, want);
        assert_eq!(decrypt(&key, &nonce, &sealed, ad.len()).unwrap(), Some(msg));
    }

    const Z16: &str = "00000000000000000000000000000000";
    const K16: &str = "000102030405060708090a0b0c0d0e0f";
    const K32: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const N: &str = "000306090c0f1215181b1e2124272a2d";
    const LONG_M: &str = "00070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9
                          e0e7eef5fc030a11181f262d343b424950575e656c737a81888f969da4abb2b9
                          c0c7ced5dce3eaf1f8";
    const LONG_AD: &str = "00050a0f14191e23282d32373c41464b50555a5f64696e73787d82878c91969b
                           a0a5aaafb4b9be";
    const ONES: &str = "01010101010101010101010101010101";

    #[test]
    fn morus_1280_128_reference_vectors() {
        check(Z16, Z16, "", "", "5bd2cba68ea7e72f6b3d0c155f39f962");
        check(Z16, Z16, "01", "", "ba ec1942a315a84695432a1255e6197878");
        check(Z16, Z16, "", "01", "590caa148b848d7614315685377a0d42");
        check(
            "01000000000000000000000000000000",
            Z16,
            "00",
            "00",
            "cf f9f0a331e3de3293b9dd2e65ba820009",
        );
        check(
            Z16,
            "01000000000000000000000000000000",
            "00",
            "00",
            "09 c957f9ca617876b5205155cd936eb9bb",
        );
        check(
            K16,
            N,
            ONES,
            ONES,
            "b64ee39fc045475e97b41bd08277b4cb e989740eb075f75bd57a43a250f53765",
        );
        check(
            K16,
            N,
            LONG_M,
            LONG_AD,
            "0861b4924850e8a945e60ec08a1b04f3c77dd2b05ccb05c05c567be8cdfd4582
             28a390c4117b66d71fade7f89902e4d500389a275cb0ce5685f3a21beb6d6519
             f465b96f1eaf9eeea2 5e43f30fa0adb318083a795fc23df52c",
        );
    }

    #[test]
    fn morus_1280_256_reference_vectors() {
        check(
            K32,
            N,
            ONES,
            ONES,
            "aecb6f5991a11746831740e4d45b6c26 c3107488470f05e6828472ac0264045d",
        );
        check(
            K32,
            N,
            LONG_M,
            LONG_AD,
            "3e440c73993c55074d4749d6cd8ceddebb95ea8d2387062237349123c75959bf
             a3ff44b18395a0bfc834d5f2de24845bffdba576afab00e798ad5a1666892883
             73f84ead85eb77aa2d f3166bbf6f94a1932b4b2471e8437206",
        );
    }

    #[test]
    fn aos_published_outputs_and_a_forged_tag() {
        let sealed = encrypt(b"super_secret_shh", b"0000000000000000", b"ao", b"").unwrap();
        assert_eq!(sealed, unhex("514ed31473d8fb0b76c6cbb17af35ed01d0a"));
        let mut forged = sealed.clone();
        forged[0] ^= 1;
        assert_eq!(
            decrypt(b"super_secret_shh", b"0000000000000000", &forged, 0).unwrap(),
            None
        );
        assert!(encrypt(b"short", &[0; 16], b"", b"").is_err());
        assert!(decrypt(&[0; 16], &[0; 16], b"tiny", 0).is_err());
    }
}
