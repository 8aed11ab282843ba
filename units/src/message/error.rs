//! What can be wrong with a data item.

use thiserror::Error;

/// A data item that cannot be decoded, built or signed. Decoding never panics: every malformed
/// input ends here.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ItemError {
    #[error("item is truncated: {0} missing")]
    Truncated(&'static str),
    #[error("unknown signature type {0}")]
    UnknownSignatureType(u16),
    #[error("signature type {0} ({1}) cannot be signed or verified here")]
    UnsupportedSignatureType(u16, &'static str),
    #[error("{0} presence byte is {1}, expected 0 or 1")]
    BadPresenceByte(&'static str, u8),
    #[error("the header says {header} tags but the tag list holds {actual}")]
    TagCountMismatch { header: u64, actual: usize },
    #[error("malformed tag list: {0}")]
    BadTags(&'static str),
    #[error("a {0} is not valid UTF-8")]
    TagNotUtf8(&'static str),
    #[error("too many tags: {0} (at most 128)")]
    TooManyTags(usize),
    #[error("tag {which} is {len} bytes long (at most {max})")]
    TagTooLong {
        which: &'static str,
        len: usize,
        max: usize,
    },
    #[error("a tag name is empty")]
    EmptyTagName,
    #[error("{0} must be 32 bytes")]
    BadLength(&'static str),
    #[error("owner key is not a valid {0} public key")]
    BadOwner(&'static str),
    #[error("signature does not verify")]
    BadSignature,
    #[error("signing failed: {0}")]
    SigningFailed(String),
}

/// Key material that cannot sign: a wallet file of the wrong shape or an inconsistent key.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{0}")]
pub struct KeyError(String);

impl KeyError {
    pub(crate) fn new(reason: String) -> Self {
        Self(reason)
    }
}
