//! Signing and verifying items. Ed25519 (ANS-104 type 2) is AO's compact scheme and ours by default;
//! Arweave's RSA-PSS (type 1) is what Arweave wallets hold, so items they sign are verified too and
//! their key files can sign.
//!
//! Arweave's RSA: a 4096-bit modulus `n` (the 512-byte owner, big-endian) with public exponent
//! 65537, RSASSA-PSS with SHA-256 and MGF1-SHA-256 over the 48-byte signing payload itself.

use std::collections::HashMap;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
// `try_sign` comes through ed25519-dalek's `Signer` import: both crates share the `signature` traits.
use rsa::signature::Verifier as _;
use rsa::traits::PublicKeyParts as _;
use rsa::{BoxedUint, pss};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::b64;
use super::error::{ItemError, KeyError};
use super::item::{DataItem, ItemDraft, SignatureType};

/// Anything that can sign the deep hash of an item.
pub trait Signer {
    fn signature_type(&self) -> SignatureType;
    /// The public key as it goes in the item's owner field.
    fn owner(&self) -> Vec<u8>;
    /// Fallible because RSA-PSS needs fresh randomness for every signature.
    fn sign_payload(&self, payload: &[u8; 48]) -> Result<Vec<u8>, ItemError>;

    /// Builds and signs an item from `draft`.
    fn sign(&self, draft: ItemDraft) -> Result<DataItem, ItemError> {
        let mut item = DataItem::unsigned(self.signature_type(), self.owner(), draft)?;
        let signature = self.sign_payload(&item.signing_payload())?;
        item.set_signature(signature)?;
        Ok(item)
    }
}

/// An ed25519 key that signs type-2 items.
#[derive(Clone)]
pub struct Ed25519Signer {
    key: SigningKey,
}

impl std::fmt::Debug for Ed25519Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret half.
        f.debug_struct("Ed25519Signer")
            .field("public", &super::b64::encode(self.public_key()))
            .finish()
    }
}

impl Ed25519Signer {
    pub fn from_secret(secret: [u8; 32]) -> Self {
        Self {
            key: SigningKey::from_bytes(&secret),
        }
    }

    /// A fresh key from the operating system's randomness.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret)?;
        Ok(Self::from_secret(secret))
    }

    pub fn secret(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    pub fn address(&self) -> String {
        super::item::address_of(&self.public_key())
    }
}

impl Signer for Ed25519Signer {
    fn signature_type(&self) -> SignatureType {
        SignatureType::Ed25519
    }

    fn owner(&self) -> Vec<u8> {
        self.public_key().to_vec()
    }

    fn sign_payload(&self, payload: &[u8; 48]) -> Result<Vec<u8>, ItemError> {
        Ok(self.key.sign(payload).to_bytes().to_vec())
    }
}

/// Arweave keys are 4096-bit: the owner field has room for exactly that modulus.
const RSA_BITS: u32 = 4096;
/// The exponent every Arweave key uses; items do not carry it, so no other could be verified.
const RSA_EXPONENT: u64 = 65537;
/// The salt length Arweave wallets sign with (that of SHA-256).
const RSA_SALT_LEN: usize = 32;

/// An Arweave wallet file: a JWK with base64url values. `dp`, `dq` and `qi` are kept only to
/// write the file back; the rsa crate derives its own from `p`, `q` and `d`, so stale values in a
/// file can never produce wrong signatures.
#[derive(Clone, Serialize, Deserialize)]
struct RsaJwk {
    kty: String,
    n: String,
    e: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    d: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    p: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    q: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dq: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    qi: Option<String>,
}

/// An Arweave RSA key that signs type-1 items (RSA-PSS, salt length 32, like Arweave wallets).
#[derive(Clone)]
pub struct RsaSigner {
    key: pss::SigningKey<Sha256>,
    owner: Vec<u8>,
    jwk: RsaJwk,
}

impl std::fmt::Debug for RsaSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the private parts.
        f.debug_struct("RsaSigner")
            .field("address", &self.address())
            .finish()
    }
}

impl RsaSigner {
    /// Reads an Arweave JWK (`{"kty":"RSA","n":…,"e":…,"d":…,"p":…,"q":…,…}`).
    pub fn from_jwk(json: &[u8]) -> Result<Self, KeyError> {
        let jwk: RsaJwk =
            serde_json::from_slice(json).map_err(|e| KeyError::new(format!("bad JWK: {e}")))?;
        if jwk.kty != "RSA" {
            return Err(KeyError::new(format!(
                "expected kty RSA, found kty {}",
                jwk.kty
            )));
        }
        let n = rsa_number(&jwk.n, "n")?;
        if n.bit_width() != RSA_BITS {
            return Err(KeyError::new(format!(
                "n is a {}-bit modulus; Arweave keys are {RSA_BITS}-bit",
                n.bit_width()
            )));
        }
        let e = rsa_number(&jwk.e, "e")?;
        if e != BoxedUint::from(RSA_EXPONENT) {
            return Err(KeyError::new(format!(
                "e must be {RSA_EXPONENT} (AQAB): items do not carry the exponent"
            )));
        }
        let d = jwk
            .d
            .as_deref()
            .ok_or_else(|| KeyError::new("no private key (d): this is a public key only".into()))?;
        let d = rsa_number(d, "d")?;
        // Without both primes the rsa crate recovers them from n, e and d.
        let primes = match (&jwk.p, &jwk.q) {
            (Some(p), Some(q)) => vec![rsa_number(p, "p")?, rsa_number(q, "q")?],
            _ => Vec::new(),
        };
        let private = rsa::PrivateKey::from_components(n, e, d, primes)
            .map_err(|e| KeyError::new(format!("not a consistent RSA key: {e}")))?;
        // Exactly 4096 bits, checked above: 512 bytes, as the owner field wants.
        let owner = private
            .n()
            .as_ref()
            .to_be_bytes_trimmed_vartime()
            .into_vec();
        Ok(Self {
            key: pss::SigningKey::new_with_salt_len(private, RSA_SALT_LEN),
            owner,
            jwk,
        })
    }

    /// The JWK text of this key, as it was read (it contains the private key).
    pub fn to_jwk(&self) -> String {
        serde_json::to_string_pretty(&self.jwk).expect("a JWK always serialises")
    }

    pub fn address(&self) -> String {
        super::item::address_of(&self.owner)
    }
}

impl Signer for RsaSigner {
    fn signature_type(&self) -> SignatureType {
        SignatureType::Arweave
    }

    fn owner(&self) -> Vec<u8> {
        self.owner.clone()
    }

    fn sign_payload(&self, payload: &[u8; 48]) -> Result<Vec<u8>, ItemError> {
        // The rsa crate draws the salt and the blinding factor from the operating system.
        let signature = self
            .key
            .try_sign(payload)
            .map_err(|e| ItemError::SigningFailed(e.to_string()))?;
        Ok(Box::<[u8]>::from(signature).into_vec())
    }
}

/// A positive big-endian integer from a JWK field.
fn rsa_number(text: &str, field: &str) -> Result<BoxedUint, KeyError> {
    let bytes =
        b64::decode(text).map_err(|_| KeyError::new(format!("{field} is not base64url")))?;
    if bytes.iter().all(|b| *b == 0) {
        return Err(KeyError::new(format!("{field} is zero or empty")));
    }
    Ok(BoxedUint::from_be_slice_vartime(&bytes))
}

/// The public key in a type-1 owner field, or `None` if it is not a 4096-bit RSA modulus.
fn rsa_owner_key(owner: &[u8]) -> Option<rsa::PublicKey> {
    let n = BoxedUint::from_be_slice(owner, RSA_BITS).ok()?;
    let bits = RSA_BITS as usize;
    rsa::PublicKey::new_with_size_limits(n, BoxedUint::from(RSA_EXPONENT), bits..=bits).ok()
}

/// Ed25519 owner keys decompressed lately. Decompressing a key (a field square root) is about a
/// fifth of a verification, and a node sees the same few signers over and over: its users and
/// the nodes that forward to it.
static ED25519_KEYS: std::sync::Mutex<Option<HashMap<[u8; 32], VerifyingKey>>> =
    std::sync::Mutex::new(None);

/// Keys kept at most; the cache starts over when full (an attacker with many keys only costs the
/// decompression they would cost anyway).
const ED25519_KEYS_KEPT: usize = 4096;

fn ed25519_key(owner: &[u8; 32]) -> Result<VerifyingKey, ItemError> {
    let mut cache = ED25519_KEYS.lock().unwrap_or_else(|e| e.into_inner());
    let keys = cache.get_or_insert_with(HashMap::new);
    if let Some(key) = keys.get(owner) {
        return Ok(*key);
    }
    let key = VerifyingKey::from_bytes(owner).map_err(|_| ItemError::BadOwner("ed25519"))?;
    if keys.len() >= ED25519_KEYS_KEPT {
        keys.clear();
    }
    keys.insert(*owner, key);
    Ok(key)
}

impl DataItem {
    /// Checks the signature against the owner key. `Ok(())` means the item is authentic.
    pub fn verify(&self) -> Result<(), ItemError> {
        match self.signature_type() {
            // Solana items are ed25519 too, with the same layout.
            SignatureType::Ed25519 | SignatureType::Solana => {
                let owner: [u8; 32] = self
                    .owner()
                    .try_into()
                    .map_err(|_| ItemError::BadOwner("ed25519"))?;
                let key = ed25519_key(&owner)?;
                let signature =
                    Signature::from_slice(self.signature()).map_err(|_| ItemError::BadSignature)?;
                key.verify_strict(&self.signing_payload(), &signature)
                    .map_err(|_| ItemError::BadSignature)
            }
            SignatureType::Arweave => {
                let key = rsa_owner_key(self.owner()).ok_or(ItemError::BadOwner("arweave RSA"))?;
                let signature = pss::Signature::try_from(self.signature())
                    .map_err(|_| ItemError::BadSignature)?;
                // Any salt length is accepted, as Arweave's own verifier (OpenSSL's auto-detection)
                // does: arweave-js and arbundles sign with the longest salt (478 bytes), wallets
                // with 32.
                pss::VerifyingKey::<Sha256>::new_with_auto_salt_len(key)
                    .verify(&self.signing_payload(), &signature)
                    .map_err(|_| ItemError::BadSignature)
            }
            other => Err(ItemError::UnsupportedSignatureType(
                other.code(),
                other.name(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Arweave wallet made once by arweave-js (`wallets.generate()`), so no test waits for
    /// 4096-bit key generation.
    const TEST_JWK: &str = include_str!("../../tests/fixtures/arweave-test-wallet.json");
    /// Its address, as arweave-js's `wallets.jwkToAddress` computed it.
    const TEST_ADDRESS: &str = "1HgA38pUrF6DJwuFidnDe3_8wvoZjVjtk51D1jxg8Ys";
    /// An item arbundles' `ArweaveSigner` signed with that wallet (`arbundles.mjs sign-rsa`).
    const ARBUNDLES_ITEM: &[u8] = include_bytes!("../../tests/fixtures/arbundles-rsa-item.bin");
    const ARBUNDLES_ID: &str = "noq732azXDlh8_zK5ctCuNF8bmeiCzK3mzIwUqJyU6E";

    fn test_signer() -> RsaSigner {
        RsaSigner::from_jwk(TEST_JWK.as_bytes()).unwrap()
    }

    fn jwk_with(field: &str, value: serde_json::Value) -> Vec<u8> {
        let mut jwk: serde_json::Value = serde_json::from_str(TEST_JWK).unwrap();
        match value {
            serde_json::Value::Null => {
                jwk.as_object_mut().unwrap().remove(field);
            }
            value => jwk[field] = value,
        }
        jwk.to_string().into_bytes()
    }

    #[test]
    fn a_known_ed25519_signer_is_still_checked_on_every_item() {
        let signer = Ed25519Signer::from_secret([41; 32]);
        let first = signer.sign(ItemDraft::new("one")).unwrap();
        first.verify().unwrap();
        // The owner's key is cached now; a forged signature under it must still fail.
        let mut bytes = first.to_bytes();
        bytes[10] ^= 1; // inside the 64-byte signature, after the 2-byte type
        let forged = DataItem::from_bytes(&bytes).unwrap();
        assert!(matches!(forged.verify(), Err(ItemError::BadSignature)));
        // And an item whose content changed after signing.
        let other = signer.sign(ItemDraft::new("two")).unwrap();
        let mut bytes = other.to_bytes();
        let last = bytes.len() - 1;
        bytes[last] ^= 1; // the data
        assert!(DataItem::from_bytes(&bytes).unwrap().verify().is_err());
        other.verify().unwrap();
        // A key that is not a curve point is refused as before.
        let mut bytes = first.to_bytes();
        bytes[66..98].copy_from_slice(&[0xff; 32]);
        assert!(DataItem::from_bytes(&bytes).unwrap().verify().is_err());
    }

    #[test]
    fn rsa_signs_type_1_items_that_verify_and_round_trip() {
        let signer = test_signer();
        assert_eq!(signer.address(), TEST_ADDRESS);
        let item = signer
            .sign(
                ItemDraft::new("hello")
                    .tag("Action", "Eval")
                    .anchor([3; 32]),
            )
            .unwrap();
        assert_eq!(item.signature_type(), SignatureType::Arweave);
        assert_eq!(item.signature().len(), 512);
        assert_eq!(item.owner().len(), 512);
        assert_eq!(item.owner_address(), TEST_ADDRESS);
        item.verify().unwrap();
        let back = DataItem::from_bytes(&item.to_bytes()).unwrap();
        assert_eq!(back, item);
        back.verify().unwrap();

        // A random salt: the same draft never signs to the same id twice.
        let again = signer
            .sign(
                ItemDraft::new("hello")
                    .tag("Action", "Eval")
                    .anchor([3; 32]),
            )
            .unwrap();
        assert_ne!(again.id(), item.id());
        again.verify().unwrap();
    }

    #[test]
    fn rsa_signatures_use_a_32_byte_salt() {
        let item = test_signer().sign(ItemDraft::new("salt")).unwrap();
        let key = rsa_owner_key(item.owner()).unwrap();
        let signature = pss::Signature::try_from(item.signature()).unwrap();
        let payload = item.signing_payload();
        pss::VerifyingKey::<Sha256>::new_with_salt_len(key.clone(), 32)
            .verify(&payload, &signature)
            .unwrap();
        assert!(
            pss::VerifyingKey::<Sha256>::new_with_salt_len(key, 478)
                .verify(&payload, &signature)
                .is_err()
        );
    }

    #[test]
    fn arbundles_rsa_items_verify_with_their_id_and_address() {
        let item = DataItem::from_bytes(ARBUNDLES_ITEM).unwrap();
        assert_eq!(item.signature_type(), SignatureType::Arweave);
        assert_eq!(item.id(), ARBUNDLES_ID);
        assert_eq!(item.owner_address(), TEST_ADDRESS);
        assert_eq!(item.tag("Action"), Some("Eval"));
        item.verify().unwrap();

        // arbundles signs with the longest salt, not 32: only salt auto-detection accepts it.
        let key = rsa_owner_key(item.owner()).unwrap();
        let signature = pss::Signature::try_from(item.signature()).unwrap();
        assert!(
            pss::VerifyingKey::<Sha256>::new_with_salt_len(key, RSA_SALT_LEN)
                .verify(&item.signing_payload(), &signature)
                .is_err()
        );

        let mut tampered = ARBUNDLES_ITEM.to_vec();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(
            DataItem::from_bytes(&tampered).unwrap().verify(),
            Err(ItemError::BadSignature)
        );
    }

    #[test]
    fn bad_rsa_signatures_and_owners_are_refused_without_panicking() {
        let item = test_signer().sign(ItemDraft::new("x")).unwrap();
        let with = |signature: Vec<u8>, owner: Vec<u8>| {
            let mut bytes = vec![1, 0];
            bytes.extend(signature);
            bytes.extend(owner);
            bytes.extend(&item.to_bytes()[2 + 1024..]);
            DataItem::from_bytes(&bytes).unwrap().verify()
        };
        let signature = item.signature().to_vec();
        let owner = item.owner().to_vec();
        assert_eq!(with(signature.clone(), owner.clone()), Ok(()));

        let bad_owner = Err(ItemError::BadOwner("arweave RSA"));
        assert_eq!(with(signature.clone(), vec![0; 512]), bad_owner);
        let mut even = owner.clone();
        even[511] &= !1;
        assert_eq!(with(signature.clone(), even), bad_owner);
        let mut short = owner.clone();
        short[0] = 0;
        assert_eq!(with(signature.clone(), short), bad_owner);

        let bad = Err(ItemError::BadSignature);
        assert_eq!(with(vec![0; 512], owner.clone()), bad);
        assert_eq!(with(vec![0xff; 512], owner.clone()), bad);
        // The modulus itself is one past the largest valid signature value.
        assert_eq!(with(owner.clone(), owner.clone()), bad);
        let mut flipped = signature;
        flipped[100] ^= 0x10;
        assert_eq!(with(flipped, owner), bad);
    }

    #[test]
    fn rsa_wallet_files_of_the_wrong_shape_are_clear_errors() {
        let err = |json: &[u8]| RsaSigner::from_jwk(json).unwrap_err().to_string();
        assert!(err(b"not json").contains("bad JWK"));
        assert!(err(&jwk_with("kty", "OKP".into())).contains("kty RSA"));
        assert!(err(&jwk_with("d", serde_json::Value::Null)).contains("no private key"));
        assert!(err(&jwk_with("e", "Aw".into())).contains("65537"));
        assert!(err(&jwk_with("n", "AQAB".into())).contains("4096"));
        assert!(err(&jwk_with("n", "!!".into())).contains("not base64url"));
        assert!(err(&jwk_with("d", "AAAA".into())).contains("zero"));
        assert!(err(&jwk_with("d", "AQAB".into())).contains("not a consistent"));
        let q: serde_json::Value = serde_json::from_str(TEST_JWK).unwrap();
        assert!(err(&jwk_with("p", q["q"].clone())).contains("not a consistent"));
    }

    #[test]
    fn rsa_primes_are_recovered_when_the_file_has_none() {
        let mut jwk: serde_json::Value = serde_json::from_str(TEST_JWK).unwrap();
        for field in ["p", "q", "dp", "dq", "qi"] {
            jwk.as_object_mut().unwrap().remove(field);
        }
        let signer = RsaSigner::from_jwk(jwk.to_string().as_bytes()).unwrap();
        assert_eq!(signer.address(), TEST_ADDRESS);
        signer.sign(ItemDraft::new("x")).unwrap().verify().unwrap();
    }

    #[test]
    fn rsa_jwk_text_round_trips_and_debug_hides_the_key() {
        let signer = test_signer();
        let again = RsaSigner::from_jwk(signer.to_jwk().as_bytes()).unwrap();
        assert_eq!(again.owner(), signer.owner());
        let original: serde_json::Value = serde_json::from_str(TEST_JWK).unwrap();
        let written: serde_json::Value = serde_json::from_str(&signer.to_jwk()).unwrap();
        assert_eq!(written, original);
        let debug = format!("{signer:?}");
        assert!(debug.contains(TEST_ADDRESS));
        assert!(!debug.contains(original["d"].as_str().unwrap()));
    }
}
