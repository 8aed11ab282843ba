//! Arweave's deep hash: a SHA-384 Merkle-style hash over nested lists of byte strings. ANS-104 signs
//! the deep hash of `["dataitem", "1", type, owner, target, anchor, tags, data]`.

use std::io::Write;

use sha2::{Digest, Sha384};

/// One node of a deep-hash input: a byte string or a list of nodes.
#[derive(Debug, Clone, Copy)]
pub enum Chunk<'a> {
    Blob(&'a [u8]),
    List(&'a [Chunk<'a>]),
}

/// The 48-byte deep hash of `chunk`.
pub fn deep_hash(chunk: Chunk<'_>) -> [u8; 48] {
    match chunk {
        Chunk::Blob(data) => blob_hash(data),
        Chunk::List(items) => {
            let mut list = ListHash::new(items.len());
            for item in items {
                list.push(*item);
            }
            list.finish()
        }
    }
}

fn blob_hash(data: &[u8]) -> [u8; 48] {
    let mut hasher = Sha384::new();
    hasher.update(Sha384::digest(tagged(b"blob", data.len()).as_slice()));
    hasher.update(Sha384::digest(data));
    hasher.finalize().into()
}

/// `name` followed by `len` in decimal, without allocating (`blob1234`, `list8`).
fn tagged(name: &[u8; 4], len: usize) -> Tag {
    let mut bytes = [0; 24];
    bytes[..4].copy_from_slice(name);
    let unused = {
        let mut rest = &mut bytes[4..];
        write!(rest, "{len}").expect("a usize has at most 20 digits");
        rest.len()
    };
    Tag {
        bytes,
        len: 24 - unused,
    }
}

struct Tag {
    bytes: [u8; 24],
    len: usize,
}

impl Tag {
    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// A list's deep hash taken one item at a time. Its state after a few items is a plain value,
/// so a list that always starts with the same items (an ANS-104 item's `"dataitem", "1", type`)
/// can start from a copy taken once.
#[derive(Clone, Copy)]
pub struct ListHash {
    acc: [u8; 48],
}

impl ListHash {
    /// The hash of a list of `len` items, before any is pushed.
    pub fn new(len: usize) -> Self {
        Self {
            acc: Sha384::digest(tagged(b"list", len).as_slice()).into(),
        }
    }

    pub fn push(&mut self, item: Chunk<'_>) {
        let mut hasher = Sha384::new();
        hasher.update(self.acc);
        hasher.update(deep_hash(item));
        self.acc = hasher.finalize().into();
    }

    /// The deep hash, once every one of the `len` items is pushed.
    pub fn finish(self) -> [u8; 48] {
        self.acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn blob_is_hash_of_tag_hash_and_data_hash() {
        let mut hasher = Sha384::new();
        hasher.update(Sha384::digest("blob3"));
        hasher.update(Sha384::digest("abc"));
        let expected: [u8; 48] = hasher.finalize().into();
        assert_eq!(deep_hash(Chunk::Blob(b"abc")), expected);
    }

    #[test]
    fn empty_list_is_hash_of_its_tag() {
        assert_eq!(
            hex(&deep_hash(Chunk::List(&[]))),
            hex(&Sha384::digest("list0"))
        );
    }

    #[test]
    fn a_list_resumed_from_a_copy_hashes_as_the_whole_list() {
        let items = [
            Chunk::Blob(b"dataitem"),
            Chunk::Blob(b"1"),
            Chunk::Blob(b"2"),
            Chunk::List(&[Chunk::Blob(b"x")]),
            Chunk::Blob(&[7; 1000]),
        ];
        let mut prefix = ListHash::new(items.len());
        for item in &items[..3] {
            prefix.push(*item);
        }
        let mut resumed = prefix;
        for item in &items[3..] {
            resumed.push(*item);
        }
        assert_eq!(resumed.finish(), deep_hash(Chunk::List(&items)));
        // Lengths of every digit count name their tag in full.
        for len in [0, 9, 10, 99_999, usize::MAX] {
            assert_eq!(
                tagged(b"blob", len).as_slice(),
                format!("blob{len}").as_bytes()
            );
        }
    }

    #[test]
    fn list_order_matters() {
        let a = deep_hash(Chunk::List(&[Chunk::Blob(b"a"), Chunk::Blob(b"b")]));
        let b = deep_hash(Chunk::List(&[Chunk::Blob(b"b"), Chunk::Blob(b"a")]));
        assert_ne!(a, b);
    }
}
