//! Property tests of the data-item format: round trips, tamper detection, no panics on garbage.

use std::sync::OnceLock;

use aos_units::message::{
    DataItem, Ed25519Signer, ItemDraft, RsaSigner, SignatureType, Signer, Tag,
};
use proptest::prelude::*;

/// One Arweave key for every RSA case: made once by arweave-js, since 4096-bit key generation takes
/// seconds.
fn rsa_signer() -> &'static RsaSigner {
    static SIGNER: OnceLock<RsaSigner> = OnceLock::new();
    SIGNER.get_or_init(|| {
        RsaSigner::from_jwk(include_bytes!("../fixtures/arweave-test-wallet.json"))
            .expect("the test wallet loads")
    })
}

fn tag() -> impl Strategy<Value = Tag> {
    ("[A-Za-z][A-Za-z0-9-]{0,20}", "\\PC{0,40}").prop_map(|(n, v)| Tag::new(n, v))
}

fn draft() -> impl Strategy<Value = ItemDraft> {
    (
        proptest::option::of(any::<[u8; 32]>()),
        proptest::option::of(any::<[u8; 32]>()),
        proptest::collection::vec(tag(), 0..8),
        proptest::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(|(target, anchor, tags, data)| ItemDraft {
            target,
            anchor,
            tags,
            data,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn decode_of_encode_is_identity(secret in any::<[u8; 32]>(), draft in draft()) {
        let signer = Ed25519Signer::from_secret(secret);
        let item = signer.sign(draft.clone()).unwrap();
        let bytes = item.to_bytes();
        let back = DataItem::from_bytes(&bytes).unwrap();
        prop_assert_eq!(&back, &item);
        prop_assert_eq!(back.to_bytes(), bytes);
        prop_assert_eq!(back.tags(), &draft.tags[..]);
        prop_assert_eq!(back.data(), &draft.data[..]);
        prop_assert_eq!(back.target(), draft.target.as_ref());
        prop_assert_eq!(back.anchor(), draft.anchor.as_ref());
        prop_assert!(back.verify().is_ok());
        prop_assert_eq!(back.owner_address(), signer.address());
        prop_assert_eq!(back.id().len(), 43);
    }

    #[test]
    fn any_flipped_byte_fails(secret in any::<[u8; 32]>(), draft in draft(), pick in any::<prop::sample::Index>(), bit in 0u8..8) {
        let item = Ed25519Signer::from_secret(secret).sign(draft).unwrap();
        let mut bytes = item.to_bytes();
        let at = pick.index(bytes.len());
        bytes[at] ^= 1 << bit;
        let verdict = DataItem::from_bytes(&bytes).and_then(|tampered| tampered.verify());
        prop_assert!(verdict.is_err(), "flipping bit {} of byte {} went unnoticed", bit, at);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(item) = DataItem::from_bytes(&bytes) {
            let _ = item.verify();
            prop_assert_eq!(item.to_bytes(), bytes);
        }
    }

    #[test]
    fn plausible_headers_never_panic(body in proptest::collection::vec(any::<u8>(), 0..300), flags in any::<(bool, bool)>()) {
        // Valid type and lengths up front, so the fuzzing reaches the tag section.
        let mut bytes = vec![2, 0];
        bytes.extend([0u8; 96]);
        bytes.push(u8::from(flags.0));
        if flags.0 { bytes.extend([0u8; 32]); }
        bytes.push(u8::from(flags.1));
        if flags.1 { bytes.extend([0u8; 32]); }
        bytes.extend(body);
        let _ = DataItem::from_bytes(&bytes);
    }
}

// RSA-4096 signing costs milliseconds per item, so fewer cases than ed25519.
proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn rsa_decode_of_encode_is_identity(draft in draft()) {
        let signer = rsa_signer();
        let item = signer.sign(draft.clone()).unwrap();
        let bytes = item.to_bytes();
        prop_assert_eq!(bytes[..2].to_vec(), vec![1, 0]);
        let back = DataItem::from_bytes(&bytes).unwrap();
        prop_assert_eq!(&back, &item);
        prop_assert_eq!(back.to_bytes(), bytes);
        prop_assert_eq!(back.signature_type(), SignatureType::Arweave);
        prop_assert_eq!(back.tags(), &draft.tags[..]);
        prop_assert_eq!(back.data(), &draft.data[..]);
        prop_assert_eq!(back.target(), draft.target.as_ref());
        prop_assert_eq!(back.anchor(), draft.anchor.as_ref());
        prop_assert!(back.verify().is_ok());
        prop_assert_eq!(back.owner_address(), signer.address());
        prop_assert_eq!(back.id().len(), 43);
    }

    #[test]
    fn rsa_any_flipped_bit_fails(draft in draft(), pick in any::<prop::sample::Index>(), bit in 0u8..8) {
        let item = rsa_signer().sign(draft).unwrap();
        let mut bytes = item.to_bytes();
        let at = pick.index(bytes.len());
        bytes[at] ^= 1 << bit;
        let verdict = DataItem::from_bytes(&bytes).and_then(|tampered| tampered.verify());
        prop_assert!(verdict.is_err(), "flipping bit {} of byte {} went unnoticed", bit, at);
    }

    #[test]
    fn rsa_flipped_bits_past_the_keys_fail(draft in draft(), pick in any::<prop::sample::Index>(), bit in 0u8..8) {
        // The signature and owner are 1024 of the item's bytes; aim at the rest too.
        let item = rsa_signer().sign(draft).unwrap();
        let mut bytes = item.to_bytes();
        let at = 2 + 1024 + pick.index(bytes.len() - 2 - 1024);
        bytes[at] ^= 1 << bit;
        let verdict = DataItem::from_bytes(&bytes).and_then(|tampered| tampered.verify());
        prop_assert!(verdict.is_err(), "flipping bit {} of byte {} went unnoticed", bit, at);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn rsa_garbage_keys_and_signatures_never_panic(
        signature in proptest::collection::vec(any::<u8>(), 512),
        owner in proptest::collection::vec(any::<u8>(), 512),
        odd_top_bit in any::<bool>(),
        body in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut owner = owner;
        if odd_top_bit {
            // Past the cheap modulus checks, into the RSA arithmetic.
            owner[0] |= 0x80;
            owner[511] |= 1;
        }
        let mut bytes = vec![1, 0];
        bytes.extend(signature);
        bytes.extend(owner);
        bytes.extend([0, 0]);
        bytes.extend(0u64.to_le_bytes());
        bytes.extend(0u64.to_le_bytes());
        bytes.extend(body);
        let item = DataItem::from_bytes(&bytes).unwrap();
        prop_assert!(item.verify().is_err());
    }
}
