//! The ANS-104 data item: binary layout, fields, id and signing payload.
//!
//! Layout: `u16 LE signature type | signature | owner | target flag (+32) | anchor flag (+32) |
//! u64 LE tag count | u64 LE tag bytes | Avro tags | data`.

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use super::avro::{self, MAX_TAG_NAME_BYTES, MAX_TAG_VALUE_BYTES};
use super::b64;
use super::deep_hash::{Chunk, ListHash};
use super::error::ItemError;

/// The signature schemes ANS-104 defines, with their signature and owner lengths. All can be decoded;
/// [`SignatureType::Ed25519`] (with Solana, its twin) and [`SignatureType::Arweave`] can be verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureType {
    Arweave,
    Ed25519,
    Ethereum,
    Solana,
    InjectedAptos,
    MultiAptos,
    TypedEthereum,
}

impl SignatureType {
    pub fn from_u16(code: u16) -> Result<Self, ItemError> {
        Ok(match code {
            1 => Self::Arweave,
            2 => Self::Ed25519,
            3 => Self::Ethereum,
            4 => Self::Solana,
            5 => Self::InjectedAptos,
            6 => Self::MultiAptos,
            7 => Self::TypedEthereum,
            other => return Err(ItemError::UnknownSignatureType(other)),
        })
    }

    pub fn code(self) -> u16 {
        match self {
            Self::Arweave => 1,
            Self::Ed25519 => 2,
            Self::Ethereum => 3,
            Self::Solana => 4,
            Self::InjectedAptos => 5,
            Self::MultiAptos => 6,
            Self::TypedEthereum => 7,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Arweave => "arweave",
            Self::Ed25519 => "ed25519",
            Self::Ethereum => "ethereum",
            Self::Solana => "solana",
            Self::InjectedAptos => "injectedAptos",
            Self::MultiAptos => "multiAptos",
            Self::TypedEthereum => "typedEthereum",
        }
    }

    /// (signature length, owner length) in bytes.
    pub fn lengths(self) -> (usize, usize) {
        match self {
            Self::Arweave => (512, 512),
            Self::Ed25519 | Self::Solana | Self::InjectedAptos => (64, 32),
            Self::Ethereum => (65, 65),
            Self::MultiAptos => (64 * 32 + 4, 32 * 32 + 1),
            Self::TypedEthereum => (65, 42),
        }
    }
}

/// One tag. AO's tags are text; items whose tags are not UTF-8 are refused at decode.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Tag {
    pub name: String,
    pub value: String,
}

impl Tag {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }

    /// ANS-104's per-tag limits (empty values are tolerated: AO clients send them).
    pub fn check(&self) -> Result<(), ItemError> {
        if self.name.is_empty() {
            return Err(ItemError::EmptyTagName);
        }
        if self.name.len() > MAX_TAG_NAME_BYTES {
            return Err(ItemError::TagTooLong {
                which: "name",
                len: self.name.len(),
                max: MAX_TAG_NAME_BYTES,
            });
        }
        if self.value.len() > MAX_TAG_VALUE_BYTES {
            return Err(ItemError::TagTooLong {
                which: "value",
                len: self.value.len(),
                max: MAX_TAG_VALUE_BYTES,
            });
        }
        Ok(())
    }
}

/// A data item, signed or not. `tag_bytes` are kept exactly as they arrived, because the signature
/// covers those bytes and other writers may encode the same tags differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataItem {
    signature_type: SignatureType,
    signature: Vec<u8>,
    owner: Vec<u8>,
    target: Option<[u8; 32]>,
    anchor: Option<[u8; 32]>,
    tags: Vec<Tag>,
    tag_bytes: Vec<u8>,
    data: Vec<u8>,
}

/// The unsigned parts of a new item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemDraft {
    pub target: Option<[u8; 32]>,
    pub anchor: Option<[u8; 32]>,
    pub tags: Vec<Tag>,
    pub data: Vec<u8>,
}

impl ItemDraft {
    pub fn new(data: impl Into<Vec<u8>>) -> Self {
        Self {
            data: data.into(),
            ..Self::default()
        }
    }

    pub fn tag(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.push(Tag::new(name, value));
        self
    }

    pub fn target(mut self, target: [u8; 32]) -> Self {
        self.target = Some(target);
        self
    }

    pub fn anchor(mut self, anchor: [u8; 32]) -> Self {
        self.anchor = Some(anchor);
        self
    }
}

impl DataItem {
    /// An unsigned item (zero signature) ready for [`DataItem::set_signature`]; checks tag limits.
    pub fn unsigned(
        signature_type: SignatureType,
        owner: Vec<u8>,
        draft: ItemDraft,
    ) -> Result<Self, ItemError> {
        let (sig_len, owner_len) = signature_type.lengths();
        if owner.len() != owner_len {
            return Err(ItemError::BadOwner(signature_type.name()));
        }
        if draft.tags.len() > avro::MAX_TAGS {
            return Err(ItemError::TooManyTags(draft.tags.len()));
        }
        for tag in &draft.tags {
            tag.check()?;
        }
        Ok(Self {
            signature_type,
            signature: vec![0; sig_len],
            owner,
            target: draft.target,
            anchor: draft.anchor,
            tag_bytes: avro::encode_tags(&draft.tags),
            tags: draft.tags,
            data: draft.data,
        })
    }

    /// Parses a binary item. Never panics; every malformed input is an [`ItemError`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ItemError> {
        let mut r = Cursor { bytes, pos: 0 };
        let code = u16::from_le_bytes(r.array::<2>("signature type")?);
        let signature_type = SignatureType::from_u16(code)?;
        let (sig_len, owner_len) = signature_type.lengths();
        let signature = r.take(sig_len, "signature")?.to_vec();
        let owner = r.take(owner_len, "owner")?.to_vec();
        let target = r.optional_32("target")?;
        let anchor = r.optional_32("anchor")?;
        let tag_count = u64::from_le_bytes(r.array::<8>("tag count")?);
        let tag_len = u64::from_le_bytes(r.array::<8>("tag byte count")?);
        let tag_len = usize::try_from(tag_len).map_err(|_| ItemError::Truncated("tag bytes"))?;
        let tag_bytes = r.take(tag_len, "tag bytes")?.to_vec();
        let tags = avro::decode_tags(&tag_bytes)?;
        if tags.len() as u64 != tag_count {
            return Err(ItemError::TagCountMismatch {
                header: tag_count,
                actual: tags.len(),
            });
        }
        let data = bytes[r.pos..].to_vec();
        Ok(Self {
            signature_type,
            signature,
            owner,
            target,
            anchor,
            tags,
            tag_bytes,
            data,
        })
    }

    /// The binary form, byte for byte what [`DataItem::from_bytes`] read (or would read).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            2 + self.signature.len()
                + self.owner.len()
                + 66
                + 16
                + self.tag_bytes.len()
                + self.data.len(),
        );
        out.extend_from_slice(&self.signature_type.code().to_le_bytes());
        out.extend_from_slice(&self.signature);
        out.extend_from_slice(&self.owner);
        for field in [&self.target, &self.anchor] {
            match field {
                Some(bytes) => {
                    out.push(1);
                    out.extend_from_slice(bytes);
                }
                None => out.push(0),
            }
        }
        out.extend_from_slice(&(self.tags.len() as u64).to_le_bytes());
        out.extend_from_slice(&(self.tag_bytes.len() as u64).to_le_bytes());
        out.extend_from_slice(&self.tag_bytes);
        out.extend_from_slice(&self.data);
        out
    }

    /// The 48-byte message a signer signs: the deep hash of the item's fields.
    pub fn signing_payload(&self) -> [u8; 48] {
        let target = self.target.as_ref().map_or(&[][..], |t| &t[..]);
        let anchor = self.anchor.as_ref().map_or(&[][..], |a| &a[..]);
        let mut list = signing_prefix(self.signature_type);
        for field in [&self.owner[..], target, anchor, &self.tag_bytes, &self.data] {
            list.push(Chunk::Blob(field));
        }
        list.finish()
    }

    pub(crate) fn set_signature(&mut self, signature: Vec<u8>) -> Result<(), ItemError> {
        if signature.len() != self.signature_type.lengths().0 {
            return Err(ItemError::BadSignature);
        }
        self.signature = signature;
        Ok(())
    }

    /// The item id: base64url(sha256(signature)).
    pub fn id(&self) -> String {
        b64::encode(self.id_bytes())
    }

    pub fn id_bytes(&self) -> [u8; 32] {
        Sha256::digest(&self.signature).into()
    }

    /// The signer's address: base64url(sha256(owner key)).
    pub fn owner_address(&self) -> String {
        address_of(&self.owner)
    }

    pub fn signature_type(&self) -> SignatureType {
        self.signature_type
    }
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }
    pub fn owner(&self) -> &[u8] {
        &self.owner
    }
    pub fn target(&self) -> Option<&[u8; 32]> {
        self.target.as_ref()
    }
    pub fn anchor(&self) -> Option<&[u8; 32]> {
        self.anchor.as_ref()
    }
    pub fn tags(&self) -> &[Tag] {
        &self.tags
    }
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The value of the first tag called `name` (exact match).
    pub fn tag(&self, name: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.value.as_str())
    }
}

/// base64url(sha256(owner key)): the address of whoever holds that key.
pub fn address_of(owner: &[u8]) -> String {
    b64::encode(Sha256::digest(owner))
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, len: usize, what: &'static str) -> Result<&'a [u8], ItemError> {
        let end = self
            .pos
            .checked_add(len)
            .filter(|end| *end <= self.bytes.len())
            .ok_or(ItemError::Truncated(what))?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], ItemError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    fn optional_32(&mut self, what: &'static str) -> Result<Option<[u8; 32]>, ItemError> {
        match self.array::<1>(what)?[0] {
            0 => Ok(None),
            1 => Ok(Some(self.array::<32>(what)?)),
            other => Err(ItemError::BadPresenceByte(what, other)),
        }
    }
}

/// The deep hash of an item's field list after its three fixed fields (`"dataitem"`, `"1"`, the
/// signature type): the same for every item of a type, so taken once per type.
fn signing_prefix(kind: SignatureType) -> ListHash {
    static PREFIXES: [OnceLock<ListHash>; 8] = [const { OnceLock::new() }; 8];
    let start = || {
        let code = kind.code().to_string();
        let mut list = ListHash::new(8);
        for fixed in [&b"dataitem"[..], b"1", code.as_bytes()] {
            list.push(Chunk::Blob(fixed));
        }
        list
    };
    match PREFIXES.get(usize::from(kind.code())) {
        Some(cell) => *cell.get_or_init(start),
        None => start(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Ed25519Signer, ItemDraft, Signer, deep_hash};

    #[test]
    fn the_signing_payload_is_the_deep_hash_of_every_field() {
        let signer = Ed25519Signer::from_secret([3; 32]);
        for draft in [
            ItemDraft::new("data").tag("Action", "Eval").target([9; 32]),
            ItemDraft::new(vec![0u8; 5000]).anchor([4; 32]),
            ItemDraft::new(""),
        ] {
            let item = signer.sign(draft).unwrap();
            let code = item.signature_type.code().to_string();
            let target = item.target.as_ref().map_or(&[][..], |t| &t[..]);
            let anchor = item.anchor.as_ref().map_or(&[][..], |a| &a[..]);
            let whole = deep_hash(Chunk::List(&[
                Chunk::Blob(b"dataitem"),
                Chunk::Blob(b"1"),
                Chunk::Blob(code.as_bytes()),
                Chunk::Blob(&item.owner),
                Chunk::Blob(target),
                Chunk::Blob(anchor),
                Chunk::Blob(&item.tag_bytes),
                Chunk::Blob(&item.data),
            ]));
            assert_eq!(item.signing_payload(), whole);
            assert!(item.verify().is_ok());
        }
    }
}
