//! Messages on the wire: ANS-104 data items (Arweave's bundle format, the one AO uses), their ids,
//! addresses and signatures.
//!
//! An item is decoded from untrusted bytes without panicking, verified against its owner key, and
//! signed through the [`Signer`] trait. Ids and addresses are 43-character base64url strings.

mod avro;
pub mod b64;
mod deep_hash;
mod error;
mod item;
mod sign;

pub use avro::{MAX_TAG_NAME_BYTES, MAX_TAG_VALUE_BYTES, MAX_TAGS};
pub use deep_hash::{Chunk, deep_hash};
pub use error::{ItemError, KeyError};
pub use item::{DataItem, ItemDraft, SignatureType, Tag, address_of};
pub use sign::{Ed25519Signer, RsaSigner, Signer};
