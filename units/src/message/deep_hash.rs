//! Arweave's deep hash: a SHA-384 Merkle-style hash over nested lists of byte strings. ANS-104 signs
//! the deep hash of `["dataitem", "1", type, owner, target, anchor, tags, data]`.

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
        Chunk::Blob(data) => {
            let tag = Sha384::digest(format!("blob{}", data.len()));
            let body = Sha384::digest(data);
            let mut hasher = Sha384::new();
            hasher.update(tag);
            hasher.update(body);
            hasher.finalize().into()
        }
        Chunk::List(items) => {
            let mut acc: [u8; 48] = Sha384::digest(format!("list{}", items.len())).into();
            for item in items {
                let mut hasher = Sha384::new();
                hasher.update(acc);
                hasher.update(deep_hash(*item));
                acc = hasher.finalize().into();
            }
            acc
        }
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
    fn list_order_matters() {
        let a = deep_hash(Chunk::List(&[Chunk::Blob(b"a"), Chunk::Blob(b"b")]));
        let b = deep_hash(Chunk::List(&[Chunk::Blob(b"b"), Chunk::Blob(b"a")]));
        assert_ne!(a, b);
    }
}
