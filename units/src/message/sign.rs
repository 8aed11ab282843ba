//! Signing and verifying items. Ed25519 (ANS-104 type 2) is AO's compact scheme and ours by default.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use super::error::ItemError;
use super::item::{DataItem, ItemDraft, SignatureType};

/// Anything that can sign the deep hash of an item.
pub trait Signer {
    fn signature_type(&self) -> SignatureType;
    /// The public key as it goes in the item's owner field.
    fn owner(&self) -> Vec<u8>;
    fn sign_payload(&self, payload: &[u8; 48]) -> Vec<u8>;

    /// Builds and signs an item from `draft`.
    fn sign(&self, draft: ItemDraft) -> Result<DataItem, ItemError> {
        let mut item = DataItem::unsigned(self.signature_type(), self.owner(), draft)?;
        let signature = self.sign_payload(&item.signing_payload());
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

    fn sign_payload(&self, payload: &[u8; 48]) -> Vec<u8> {
        self.key.sign(payload).to_bytes().to_vec()
    }
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
                let key =
                    VerifyingKey::from_bytes(&owner).map_err(|_| ItemError::BadOwner("ed25519"))?;
                let signature =
                    Signature::from_slice(self.signature()).map_err(|_| ItemError::BadSignature)?;
                key.verify_strict(&self.signing_payload(), &signature)
                    .map_err(|_| ItemError::BadSignature)
            }
            other => Err(ItemError::UnsupportedSignatureType(
                other.code(),
                other.name(),
            )),
        }
    }
}
