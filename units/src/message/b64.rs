//! base64url without padding: the text form of every id, address, owner and signature in AO.

use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};

/// Decoding accepts padded and unpadded input alike, because Arweave tools emit both.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Encodes bytes as base64url without padding.
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url, with or without padding.
pub fn decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    LENIENT.decode(text)
}

/// Decodes a 43-character id or address into its 32 bytes.
pub fn decode_32(text: &str) -> Option<[u8; 32]> {
    decode(text).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_43_chars_and_round_trip() {
        let bytes = [7u8; 32];
        let text = encode(bytes);
        assert_eq!(text.len(), 43);
        assert_eq!(decode_32(&text), Some(bytes));
        assert_eq!(decode(&format!("{text}=")).unwrap(), bytes);
        assert_eq!(decode_32("too-short"), None);
    }
}
