//! Property tests of the data-item format: round trips, tamper detection, no panics on garbage.

use aos_units::message::{DataItem, Ed25519Signer, ItemDraft, Signer, Tag};
use proptest::prelude::*;

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
