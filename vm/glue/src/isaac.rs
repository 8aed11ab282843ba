//! ISAAC, Bob Jenkins' generator (1996), written here from its specification (`rand.c` /
//! `readable.c`): no well-kept crate offers it with the seeding aos uses (the key's bytes, one
//! per word, in `randrsl`, then `randinit`), and it is forty lines.
//!
//! aos's `crypto.cipher.issac` is the Rosetta Code "ISAAC cipher" on top of it: a Vigenère over
//! printable ASCII (32..=126) whose shift for each byte is the next output mod 95 plus 32.

/// One generator: the 256-word state, its three registers and the current batch of results.
#[derive(Clone)]
pub struct Isaac {
    mm: [u32; 256],
    rsl: [u32; 256],
    aa: u32,
    bb: u32,
    cc: u32,
    cnt: usize,
}

fn mix(a: &mut [u32; 8]) {
    a[0] ^= a[1] << 11;
    a[3] = a[3].wrapping_add(a[0]);
    a[1] = a[1].wrapping_add(a[2]);
    a[1] ^= a[2] >> 2;
    a[4] = a[4].wrapping_add(a[1]);
    a[2] = a[2].wrapping_add(a[3]);
    a[2] ^= a[3] << 8;
    a[5] = a[5].wrapping_add(a[2]);
    a[3] = a[3].wrapping_add(a[4]);
    a[3] ^= a[4] >> 16;
    a[6] = a[6].wrapping_add(a[3]);
    a[4] = a[4].wrapping_add(a[5]);
    a[4] ^= a[5] << 10;
    a[7] = a[7].wrapping_add(a[4]);
    a[5] = a[5].wrapping_add(a[6]);
    a[5] ^= a[6] >> 4;
    a[0] = a[0].wrapping_add(a[5]);
    a[6] = a[6].wrapping_add(a[7]);
    a[6] ^= a[7] << 8;
    a[1] = a[1].wrapping_add(a[6]);
    a[7] = a[7].wrapping_add(a[0]);
    a[7] ^= a[0] >> 9;
    a[2] = a[2].wrapping_add(a[7]);
    a[0] = a[0].wrapping_add(a[1]);
}

impl Isaac {
    /// Seeded as aos seeds it: byte `i` of `seed` (the first 256) becomes result word `i`, the
    /// rest are zero; `use_seed = false` is `randinit(FALSE)`, which ignores them.
    pub fn new(seed: &[u8], use_seed: bool) -> Self {
        let mut rsl = [0u32; 256];
        for (word, byte) in rsl.iter_mut().zip(seed) {
            *word = u32::from(*byte);
        }
        Self::from_words(rsl, use_seed)
    }

    /// `randinit` over a seed of 256 words, then the first batch (`isaac()`), as `rand.c` does.
    pub fn from_words(rsl: [u32; 256], use_seed: bool) -> Self {
        let mut me = Isaac {
            mm: [0; 256],
            rsl,
            aa: 0,
            bb: 0,
            cc: 0,
            cnt: 0,
        };
        let mut a = [0x9e37_79b9u32; 8];
        for _ in 0..4 {
            mix(&mut a);
        }
        for pass in 0..if use_seed { 2 } else { 1 } {
            for i in (0..256).step_by(8) {
                if use_seed {
                    let from = if pass == 0 { &me.rsl } else { &me.mm };
                    for j in 0..8 {
                        a[j] = a[j].wrapping_add(from[i + j]);
                    }
                }
                mix(&mut a);
                me.mm[i..i + 8].copy_from_slice(&a);
            }
        }
        me.batch();
        me
    }

    /// `isaac()`: the next 256 results.
    fn batch(&mut self) {
        self.cc = self.cc.wrapping_add(1);
        self.bb = self.bb.wrapping_add(self.cc);
        for i in 0..256 {
            let x = self.mm[i];
            self.aa = match i % 4 {
                0 => self.aa ^ (self.aa << 13),
                1 => self.aa ^ (self.aa >> 6),
                2 => self.aa ^ (self.aa << 2),
                _ => self.aa ^ (self.aa >> 16),
            };
            self.aa = self.mm[(i + 128) % 256].wrapping_add(self.aa);
            let y = self.mm[((x >> 2) & 255) as usize]
                .wrapping_add(self.aa)
                .wrapping_add(self.bb);
            self.mm[i] = y;
            self.bb = self.mm[((y >> 10) & 255) as usize].wrapping_add(x);
            self.rsl[i] = self.bb;
        }
        self.cnt = 0;
    }

    /// The next result, in the order aos's `getRandom` reads them (`randrsl[0]` first).
    pub fn next_u32(&mut self) -> u32 {
        let out = self.rsl[self.cnt];
        self.cnt += 1;
        if self.cnt > 255 {
            self.batch();
        }
        out
    }

    /// A printable character code, 32..=126 (`getRandomChar`).
    pub fn next_char(&mut self) -> u8 {
        (self.next_u32() % 95 + 32) as u8
    }

    /// The Vigenère over printable ASCII: each byte shifted by the next character, mod 95.
    pub fn caesar(&mut self, text: &[u8], decrypt: bool) -> Vec<u8> {
        text.iter()
            .map(|&byte| {
                let shift = i64::from(self.next_char());
                let shift = if decrypt { -shift } else { shift };
                (32 + (i64::from(byte) - 32 + shift).rem_euclid(95)) as u8
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Isaac;

    #[test]
    fn a_seed_of_zeros_gives_the_reference_randvect() {
        // randvect.txt (rand.c's test driver prints the batches after randinit's own): its first
        // 32 words, so the 257th..288th values read.
        let want: [u32; 32] = [
            0xf650e4c8, 0xe448e96d, 0x98db2fb4, 0xf5fad54f, 0x433f1afb, 0xedec154a, 0xd8370487,
            0x46ca4f9a, 0x5de3743e, 0x88381097, 0xf1d444eb, 0x823cedb6, 0x6a83e1e0, 0x4a5f6355,
            0xc7442433, 0x25890e2e, 0x7452e319, 0x57161df6, 0x38a824f3, 0x002ed713, 0x29f55449,
            0x51c08d83, 0xd78cb99e, 0xa0cc74f3, 0x8f651659, 0xcbc8b7c2, 0xf5f71c69, 0x12ad6419,
            0xe5792e1b, 0x860536b8, 0x09b3ce98, 0xd45d6d81,
        ];
        let mut isaac = Isaac::new(&[], true);
        for _ in 0..256 {
            isaac.next_u32();
        }
        let got: Vec<u32> = (0..32).map(|_| isaac.next_u32()).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn the_rosetta_code_isaac_cipher_vectors() {
        // Rosetta Code "The ISAAC Cipher": one stream seeded with the key gives first the XOR
        // (Vernam) ciphertext, then, reading on, the MOD (Vigenère) one.
        let hex = |b: &[u8]| -> String { b.iter().map(|b| format!("{b:02X}")).collect() };
        let (key, msg) = (b"this is my secret key", b"a Top Secret secret");
        let mut isaac = Isaac::new(key, true);
        let xor: Vec<u8> = msg.iter().map(|b| b ^ isaac.next_char()).collect();
        assert_eq!(hex(&xor), "1C0636190B1260233B35125F1E1D0E2F4C5422");
        let modded = isaac.caesar(msg, false);
        assert_eq!(hex(&modded), "734270227D36772A783B4F2A5F206266236978");
        let mut again = Isaac::new(key, true);
        for _ in msg {
            again.next_char();
        }
        assert_eq!(again.caesar(&modded, true), msg);
    }

    #[test]
    fn aos_documented_example() {
        // aos's docs and tests: encrypt("ao", "secret_key").asHex() == "7851".
        assert_eq!(
            Isaac::new(b"secret_key", true).caesar(b"ao", false),
            [0x78, 0x51]
        );
    }
}
