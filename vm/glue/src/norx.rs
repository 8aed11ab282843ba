//! NORX64-4-1 (Aumasson, Jovanovic and Neves, NORX v3.0, CAESAR round 3), written here from its
//! specification: no maintained crate implements it. 64-bit words, 4 rounds, no parallelism;
//! 256-bit key, nonce and tag; header and trailer are authenticated, the payload encrypted.
//!
//! aos's shape (`crypto.cipher.norx`): encryption returns `ciphertext ‖ tag`.

const RATE_WORDS: usize = 12;
const RATE: usize = RATE_WORDS * 8;
const HEADER: u64 = 0x01;
const PAYLOAD: u64 = 0x02;
const TRAILER: u64 = 0x04;
const FINAL: u64 = 0x08;

type State = [u64; 16];

/// The non-linear "addition" H(x, y) = (x ^ y) ^ ((x & y) << 1).
fn h(x: u64, y: u64) -> u64 {
    (x ^ y) ^ ((x & y) << 1)
}

fn g(s: &mut State, a: usize, b: usize, c: usize, d: usize) {
    s[a] = h(s[a], s[b]);
    s[d] = (s[d] ^ s[a]).rotate_right(8);
    s[c] = h(s[c], s[d]);
    s[b] = (s[b] ^ s[c]).rotate_right(19);
    s[a] = h(s[a], s[b]);
    s[d] = (s[d] ^ s[a]).rotate_right(40);
    s[c] = h(s[c], s[d]);
    s[b] = (s[b] ^ s[c]).rotate_right(63);
}

/// One round F: the four columns, then the four diagonals.
fn round(s: &mut State) {
    g(s, 0, 4, 8, 12);
    g(s, 1, 5, 9, 13);
    g(s, 2, 6, 10, 14);
    g(s, 3, 7, 11, 15);
    g(s, 0, 5, 10, 15);
    g(s, 1, 6, 11, 12);
    g(s, 2, 7, 8, 13);
    g(s, 3, 4, 9, 14);
}

fn permute(s: &mut State) {
    for _ in 0..4 {
        round(s);
    }
}

fn le_words<const N: usize>(bytes: &[u8]) -> [u64; N] {
    let mut out = [0u64; N];
    for (i, w) in out.iter_mut().enumerate() {
        *w = u64::from_le_bytes(bytes[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
    }
    out
}

fn xor_key(s: &mut State, key: &[u64; 4]) {
    for i in 0..4 {
        s[12 + i] ^= key[i];
    }
}

fn init(key: &[u64; 4], nonce: &[u8]) -> State {
    let mut s: State = std::array::from_fn(|i| i as u64);
    round(&mut s);
    round(&mut s);
    s[..4].copy_from_slice(&le_words::<4>(nonce));
    s[4..8].copy_from_slice(key);
    // The parameters: word size, rounds, parallelism, tag size.
    s[12] ^= 64;
    s[13] ^= 4;
    s[14] ^= 1;
    s[15] ^= 256;
    permute(&mut s);
    xor_key(&mut s, key);
    s
}

/// The last block, padded with 0x01 … 0x80 to the rate (multi-rate padding).
fn pad(last: &[u8]) -> [u8; RATE] {
    let mut block = [0u8; RATE];
    block[..last.len()].copy_from_slice(last);
    block[last.len()] ^= 0x01;
    block[RATE - 1] ^= 0x80;
    block
}

fn absorb(s: &mut State, data: &[u8], tag: u64) {
    if data.is_empty() {
        return;
    }
    let full = data.len() / RATE * RATE;
    let blocks = data[..full].chunks(RATE);
    let last = pad(&data[full..]);
    for block in blocks.chain(std::iter::once(&last[..])) {
        s[15] ^= tag;
        permute(s);
        for (i, w) in le_words::<RATE_WORDS>(block).iter().enumerate() {
            s[i] ^= w;
        }
    }
}

fn state_bytes(s: &State) -> [u8; RATE] {
    let mut out = [0u8; RATE];
    for i in 0..RATE_WORDS {
        out[i * 8..i * 8 + 8].copy_from_slice(&s[i].to_le_bytes());
    }
    out
}

fn set_rate(s: &mut State, bytes: &[u8; RATE]) {
    s[..RATE_WORDS].copy_from_slice(&le_words::<RATE_WORDS>(bytes));
}

fn encrypt_payload(s: &mut State, msg: &[u8], out: &mut Vec<u8>) {
    if msg.is_empty() {
        return;
    }
    for chunk in msg
        .chunks(RATE)
        .chain(msg.len().is_multiple_of(RATE).then_some(&[][..]))
    {
        s[15] ^= PAYLOAD;
        permute(s);
        let mut block = state_bytes(s);
        let input = if chunk.len() == RATE {
            chunk.try_into().expect("a block")
        } else {
            pad(chunk)
        };
        for (b, m) in block.iter_mut().zip(input) {
            *b ^= m;
        }
        set_rate(s, &block);
        out.extend_from_slice(&block[..chunk.len()]);
    }
}

fn decrypt_payload(s: &mut State, cipher: &[u8], out: &mut Vec<u8>) {
    if cipher.is_empty() {
        return;
    }
    for chunk in cipher
        .chunks(RATE)
        .chain(cipher.len().is_multiple_of(RATE).then_some(&[][..]))
    {
        s[15] ^= PAYLOAD;
        permute(s);
        let keystream = state_bytes(s);
        // The new rate is the ciphertext, and past a short block's end the keystream with the
        // padding applied (what encrypting the padded message would have left).
        let mut next = keystream;
        next[..chunk.len()].copy_from_slice(chunk);
        if chunk.len() < RATE {
            next[chunk.len()] ^= 0x01;
            next[RATE - 1] ^= 0x80;
        }
        out.extend(chunk.iter().zip(keystream).map(|(c, k)| c ^ k));
        set_rate(s, &next);
    }
}

fn finalise(mut s: State, key: &[u64; 4]) -> [u8; 32] {
    s[15] ^= FINAL;
    permute(&mut s);
    xor_key(&mut s, key);
    permute(&mut s);
    xor_key(&mut s, key);
    let mut tag = [0u8; 32];
    for i in 0..4 {
        tag[i * 8..i * 8 + 8].copy_from_slice(&s[12 + i].to_le_bytes());
    }
    tag
}

fn check(key: &[u8], nonce: &[u8]) -> Result<[u64; 4], String> {
    if key.len() != 32 || nonce.len() != 32 {
        return Err(format!(
            "norx: the key and the nonce must be 32 bytes each, got {} and {}",
            key.len(),
            nonce.len()
        ));
    }
    Ok(le_words::<4>(key))
}

/// `ciphertext ‖ tag` of `msg`, authenticating `header` and `trailer` too.
pub fn encrypt(
    key: &[u8],
    nonce: &[u8],
    msg: &[u8],
    header: &[u8],
    trailer: &[u8],
) -> Result<Vec<u8>, String> {
    let k = check(key, nonce)?;
    let mut s = init(&k, nonce);
    absorb(&mut s, header, HEADER);
    let mut out = Vec::with_capacity(msg.len() + 32);
    encrypt_payload(&mut s, msg, &mut out);
    absorb(&mut s, trailer, TRAILER);
    out.extend_from_slice(&finalise(s, &k));
    Ok(out)
}

/// The message inside `sealed` (`ciphertext ‖ tag`), or `Ok(None)` when the tag is wrong.
pub fn decrypt(
    key: &[u8],
    nonce: &[u8],
    sealed: &[u8],
    header: &[u8],
    trailer: &[u8],
) -> Result<Option<Vec<u8>>, String> {
    let k = check(key, nonce)?;
    if sealed.len() < 32 {
        return Err("norx: the ciphertext is shorter than its 32-byte tag".into());
    }
    let (cipher, tag) = sealed.split_at(sealed.len() - 32);
    let mut s = init(&k, nonce);
    absorb(&mut s, header, HEADER);
    let mut msg = Vec::with_capacity(cipher.len());
    decrypt_payload(&mut s, cipher, &mut msg);
    absorb(&mut s, trailer, TRAILER);
    let want = finalise(s, &k);
    let diff = want.iter().zip(tag).fold(0u8, |acc, (a, b)| acc | (a ^ b));
    Ok((diff == 0).then_some(msg))
}

#[cfg(test)]
mod tests {
    use super::{decrypt, encrypt};

    fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn the_specification_test_vector() {
        // NORX v3.0 appendix: K = 00..1f, N = 20..3f, header = payload = trailer = 00..7f.
        let key: Vec<u8> = (0..32).collect();
        let nonce: Vec<u8> = (32..64).collect();
        let data: Vec<u8> = (0..128).collect();
        let sealed = encrypt(&key, &nonce, &data, &data, &data).unwrap();
        assert_eq!(sealed.len(), 128 + 32);
        assert_eq!(
            sealed[128..],
            unhex("D1F2FA3305A32376E23A61D1C989303F BFBD935AA55B17E4E7254733C473408E")[..]
        );
        assert_eq!(
            decrypt(&key, &nonce, &sealed, &data, &data).unwrap(),
            Some(data)
        );
    }

    #[test]
    fn the_authors_kat_first_entries() {
        // The reference package's KAT: w[i] = i*197+123, h[i] = i*193+123, k[i] = i*191+123,
        // n[i] = i*181+123 (mod 256); entry i encrypts w[..i] with header h[..i], no trailer.
        let seq = |m: u32, len: u32| -> Vec<u8> {
            (0..len).map(|i| ((i * m + 123) & 255) as u8).collect()
        };
        let (w, h, k, n) = (seq(197, 256), seq(193, 256), seq(191, 32), seq(181, 32));
        let kat = [
            "9C8902438E99528ED86128948BB6972FF1A6778631362 44B4F80E92ED8F6B5AA",
            "58 7D70D24D2B5A1F0ED26999D2736BEF111ADFDAD6A03E9BF365FC010A7C5DED03",
            "B69D 4B6C8422BCB145E84749A798718D17E35DF2FD7E7F52DD69680EC42735E0AD51",
        ];
        for (i, want) in kat.iter().enumerate() {
            let sealed = encrypt(&k, &n, &w[..i], &h[..i], &[]).unwrap();
            assert_eq!(sealed, unhex(want), "entry {i}");
            assert_eq!(
                decrypt(&k, &n, &sealed, &h[..i], &[]).unwrap(),
                Some(w[..i].to_vec())
            );
        }
    }

    #[test]
    fn aos_documented_example_block_edges_and_forgeries() {
        let key = b"super_duper_secret_password_shhh";
        let nonce = b"00000000000000000000000000000000";
        let sealed = encrypt(key, nonce, b"ao", b"ao", b"ao").unwrap();
        assert_eq!(
            sealed,
            unhex("0bb35a06938e6541eccd4440adb7b46118535f60b09b4adf378807a53df19fc4ea28")
        );
        for len in [0, 1, 95, 96, 97, 191, 192, 200] {
            let msg = vec![b'p'; len];
            let sealed = encrypt(key, nonce, &msg, b"A", b"Z").unwrap();
            assert_eq!(
                decrypt(key, nonce, &sealed, b"A", b"Z").unwrap(),
                Some(msg),
                "len {len}"
            );
            assert_eq!(
                decrypt(key, nonce, &sealed, b"B", b"Z").unwrap(),
                None,
                "len {len}"
            );
        }
        assert!(encrypt(&key[..16], nonce, b"", b"", b"").is_err());
    }
}
