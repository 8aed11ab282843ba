//! Wallets: key files in the JWK shape Arweave tools use. An ed25519 wallet is
//! `{"kty":"OKP","crv":"Ed25519","d":<secret>,"x":<public>}` with base64url values; an Arweave
//! wallet is an RSA JWK (`{"kty":"RSA","n":…,"e":"AQAB","d":…,"p":…,…}`) and signs type-1 items.
//! New wallets are ed25519: smaller items and keys that take no time to make.
//!
//! A missing wallet is created on first use, readable by its owner only (mode 0600), because whoever
//! reads it can sign as its owner.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::message::{Ed25519Signer, ItemError, RsaSigner, SignatureType, Signer, b64};

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum WalletError {
    #[error("cannot read wallet {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write wallet {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("wallet {path} is not a key file we understand: {reason}")]
    Format { path: PathBuf, reason: String },
    #[error("no randomness for a new key: {0}")]
    Random(String),
    #[error("no home directory: pass --wallet FILE")]
    NoHome,
    #[error("this needs an ed25519 wallet, not an Arweave RSA one")]
    NotEd25519,
}

#[derive(Serialize, Deserialize)]
struct Jwk {
    kty: String,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    d: Option<String>,
    #[serde(default)]
    x: Option<String>,
}

/// A signing key loaded from (or saved to) a wallet file.
#[derive(Debug, Clone)]
pub struct Wallet {
    key: Key,
}

#[derive(Debug, Clone)]
#[expect(
    clippy::large_enum_variant,
    reason = "a process holds one or two wallets; boxing would buy nothing"
)]
enum Key {
    Ed25519(Ed25519Signer),
    Rsa(RsaSigner),
}

impl Key {
    fn signer(&self) -> &dyn Signer {
        match self {
            Self::Ed25519(signer) => signer,
            Self::Rsa(signer) => signer,
        }
    }
}

impl Wallet {
    /// `~/.aos/wallet.json`.
    pub fn default_path() -> Result<PathBuf, WalletError> {
        let home = std::env::home_dir().ok_or(WalletError::NoHome)?;
        Ok(home.join(".aos").join("wallet.json"))
    }

    pub fn from_signer(signer: Ed25519Signer) -> Self {
        Self {
            key: Key::Ed25519(signer),
        }
    }

    pub fn from_rsa_signer(signer: RsaSigner) -> Self {
        Self {
            key: Key::Rsa(signer),
        }
    }

    pub fn generate() -> Result<Self, WalletError> {
        Ed25519Signer::generate()
            .map(Self::from_signer)
            .map_err(|e| WalletError::Random(e.to_string()))
    }

    /// Loads the wallet at `path`, creating a new one there if no file exists.
    pub fn load_or_create(path: &Path) -> Result<Self, WalletError> {
        match fs::read(path) {
            Ok(bytes) => Self::from_jwk_bytes(&bytes, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let wallet = Self::generate()?;
                wallet.save_new(path)?;
                Ok(wallet)
            }
            Err(source) => Err(WalletError::Read {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Loads an existing wallet.
    pub fn load(path: &Path) -> Result<Self, WalletError> {
        let bytes = fs::read(path).map_err(|source| WalletError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_jwk_bytes(&bytes, path)
    }

    fn from_jwk_bytes(bytes: &[u8], path: &Path) -> Result<Self, WalletError> {
        let format = |reason: &str| WalletError::Format {
            path: path.to_owned(),
            reason: reason.to_owned(),
        };
        let jwk: Jwk = serde_json::from_slice(bytes).map_err(|e| format(&e.to_string()))?;
        if jwk.kty == "RSA" {
            return RsaSigner::from_jwk(bytes)
                .map(Self::from_rsa_signer)
                .map_err(|e| format(&e.to_string()));
        }
        if jwk.kty != "OKP" || jwk.crv.as_deref() != Some("Ed25519") {
            return Err(format(&format!(
                "expected an ed25519 key (kty OKP, crv Ed25519) or an Arweave one (kty RSA), \
                 found kty {}",
                jwk.kty
            )));
        }
        let d = jwk.d.ok_or_else(|| format("no private key (d)"))?;
        let secret = b64::decode_32(&d).ok_or_else(|| format("d is not 32 bytes of base64url"))?;
        let signer = Ed25519Signer::from_secret(secret);
        if let Some(x) = jwk.x
            && b64::decode_32(&x) != Some(signer.public_key())
        {
            return Err(format("x does not match the private key"));
        }
        Ok(Self::from_signer(signer))
    }

    /// The JWK text of this wallet (it contains the secret key).
    pub fn to_jwk(&self) -> String {
        let signer = match &self.key {
            Key::Ed25519(signer) => signer,
            Key::Rsa(signer) => return signer.to_jwk(),
        };
        let jwk = Jwk {
            kty: "OKP".into(),
            crv: Some("Ed25519".into()),
            d: Some(b64::encode(signer.secret())),
            x: Some(b64::encode(signer.public_key())),
        };
        serde_json::to_string_pretty(&jwk).expect("a JWK always serialises")
    }

    /// Writes the wallet to a path that must not exist yet, owner-only.
    pub fn save_new(&self, path: &Path) -> Result<(), WalletError> {
        let write = |source| WalletError::Write {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(write)?;
        }
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(write)?;
        file.write_all(self.to_jwk().as_bytes()).map_err(write)?;
        file.sync_all().map_err(write)
    }

    /// The ed25519 key, for what signs only with ed25519 (the node's own messages).
    pub fn ed25519_signer(&self) -> Result<&Ed25519Signer, WalletError> {
        match &self.key {
            Key::Ed25519(signer) => Ok(signer),
            Key::Rsa(_) => Err(WalletError::NotEd25519),
        }
    }

    pub fn address(&self) -> String {
        crate::message::address_of(&self.owner())
    }
}

impl Signer for Wallet {
    fn signature_type(&self) -> SignatureType {
        self.key.signer().signature_type()
    }
    fn owner(&self) -> Vec<u8> {
        self.key.signer().owner()
    }
    fn sign_payload(&self, payload: &[u8; 48]) -> Result<Vec<u8>, ItemError> {
        self.key.signer().sign_payload(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_loaded_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("wallet.json");
        let first = Wallet::load_or_create(&path).unwrap();
        let again = Wallet::load_or_create(&path).unwrap();
        assert_eq!(first.address(), again.address());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let jwk: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(jwk["kty"], "OKP");
        assert_eq!(jwk["crv"], "Ed25519");
    }

    #[test]
    fn bad_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.json");
        fs::write(&path, "not json").unwrap();
        assert!(matches!(
            Wallet::load(&path),
            Err(WalletError::Format { .. })
        ));
        fs::write(&path, r#"{"kty":"EC","crv":"P-256"}"#).unwrap();
        let err = Wallet::load(&path).unwrap_err().to_string();
        assert!(err.contains("Ed25519") && err.contains("RSA"), "{err}");
        fs::write(&path, r#"{"kty":"RSA","n":"x"}"#).unwrap();
        let err = Wallet::load(&path).unwrap_err().to_string();
        assert!(err.contains("missing field `e`"), "{err}");
        let other = Wallet::generate().unwrap();
        let mut jwk: serde_json::Value = serde_json::from_str(&other.to_jwk()).unwrap();
        jwk["x"] = serde_json::Value::String(b64::encode([1u8; 32]));
        fs::write(&path, jwk.to_string()).unwrap();
        assert!(
            Wallet::load(&path)
                .unwrap_err()
                .to_string()
                .contains("does not match")
        );
    }

    /// Made by arweave-js; see the message module's tests.
    const ARWEAVE_JWK: &str = include_str!("../tests/fixtures/arweave-test-wallet.json");
    const ARWEAVE_ADDRESS: &str = "1HgA38pUrF6DJwuFidnDe3_8wvoZjVjtk51D1jxg8Ys";

    #[test]
    fn arweave_rsa_wallets_load_and_sign_type_1_items() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("arweave.json");
        fs::write(&path, ARWEAVE_JWK).unwrap();
        // An existing file is read, never replaced by a new key.
        for wallet in [
            Wallet::load(&path).unwrap(),
            Wallet::load_or_create(&path).unwrap(),
        ] {
            assert_eq!(wallet.address(), ARWEAVE_ADDRESS);
            assert_eq!(wallet.signature_type(), SignatureType::Arweave);
            let item = wallet
                .sign(crate::message::ItemDraft::new("hi").tag("Action", "Eval"))
                .unwrap();
            assert_eq!(item.signature_type(), SignatureType::Arweave);
            assert_eq!(item.owner_address(), ARWEAVE_ADDRESS);
            item.verify().unwrap();
            assert!(matches!(
                wallet.ed25519_signer(),
                Err(WalletError::NotEd25519)
            ));
            let written: serde_json::Value = serde_json::from_str(&wallet.to_jwk()).unwrap();
            let original: serde_json::Value = serde_json::from_str(ARWEAVE_JWK).unwrap();
            assert_eq!(written, original);
        }
        assert_eq!(fs::read_to_string(&path).unwrap(), ARWEAVE_JWK);
    }

    #[test]
    fn ed25519_wallets_sign_type_2_items_and_give_their_key_to_the_node() {
        let wallet = Wallet::generate().unwrap();
        let key = wallet.ed25519_signer().unwrap();
        assert_eq!(wallet.address(), key.address());
        assert_eq!(wallet.signature_type(), SignatureType::Ed25519);
        let item = wallet.sign(crate::message::ItemDraft::new("hi")).unwrap();
        assert_eq!(item.owner_address(), wallet.address());
        item.verify().unwrap();
    }
}
