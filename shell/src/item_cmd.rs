//! `aos item sign` and `aos item inspect`: the data-item tools outside checks rely on.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use aos_units::message::{DataItem, ItemDraft, Signer, Tag, b64};
use aos_units::wallet::Wallet;
use serde_json::{Value, json};

use crate::cli::SignArgs;

/// Exit codes of `inspect` (contract).
const VALID: u8 = 0;
const INVALID: u8 = 1;
const UNREADABLE: u8 = 2;

pub fn sign(args: &SignArgs) -> ExitCode {
    match try_sign(args) {
        Ok(id) => {
            println!("{id}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("aos item sign: {e:#}");
            ExitCode::from(UNREADABLE)
        }
    }
}

fn try_sign(args: &SignArgs) -> Result<String> {
    let wallet_path = match &args.wallet {
        Some(path) => path.clone(),
        None => Wallet::default_path()?,
    };
    let wallet = Wallet::load_or_create(&wallet_path)?;
    let data = match (&args.data, &args.data_file) {
        (Some(text), _) => text.clone().into_bytes(),
        (None, Some(path)) => {
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))?
        }
        (None, None) => Vec::new(),
    };
    let mut draft = ItemDraft::new(data);
    if let Some(target) = &args.target {
        draft.target = Some(
            b64::decode_32(target)
                .with_context(|| format!("--target {target:?} is not a 43-character id"))?,
        );
    }
    if let Some(anchor) = &args.anchor {
        draft.anchor = Some(parse_anchor(anchor)?);
    }
    for tag in &args.tags {
        let Some((name, value)) = tag.split_once('=') else {
            bail!("--tag {tag:?} is not NAME=VALUE");
        };
        draft.tags.push(Tag::new(name, value));
    }
    let item = wallet.sign(draft)?;
    std::fs::write(&args.out, item.to_bytes())
        .with_context(|| format!("writing {}", args.out.display()))?;
    Ok(item.id())
}

/// AO clients put 32 characters of text in the anchor; binary anchors travel as base64url.
fn parse_anchor(anchor: &str) -> Result<[u8; 32]> {
    if let Ok(raw) = <[u8; 32]>::try_from(anchor.as_bytes()) {
        return Ok(raw);
    }
    b64::decode_32(anchor).with_context(|| {
        format!("--anchor must be 32 bytes: 32 characters, or 43 of base64url (got {anchor:?})")
    })
}

pub fn inspect(file: &Path) -> ExitCode {
    let bytes = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("aos item inspect: cannot read {}: {e}", file.display());
            return ExitCode::from(UNREADABLE);
        }
    };
    let item = match DataItem::from_bytes(&bytes) {
        Ok(item) => item,
        Err(e) => {
            eprintln!(
                "aos item inspect: {} is not a data item: {e}",
                file.display()
            );
            return ExitCode::from(UNREADABLE);
        }
    };
    let verdict = item.verify();
    println!("{}", describe(&item, verdict.is_ok()));
    match verdict {
        Ok(()) => ExitCode::from(VALID),
        Err(e) => {
            eprintln!("aos item inspect: {}: {e}", file.display());
            ExitCode::from(INVALID)
        }
    }
}

/// The JSON description `inspect` prints (contract: field names are relied on outside).
pub fn describe(item: &DataItem, valid: bool) -> Value {
    let (data, data_encoding) = text_or_base64(item.data());
    let mut out = json!({
        "id": item.id(),
        "signature_type": item.signature_type().code(),
        "signature_scheme": item.signature_type().name(),
        "signature": b64::encode(item.signature()),
        "owner": b64::encode(item.owner()),
        "address": item.owner_address(),
        "target": item.target().map(b64::encode),
        "anchor": Value::Null,
        "tags": item.tags(),
        "data": data,
        "data_encoding": data_encoding,
        "valid": valid,
    });
    if let Some(anchor) = item.anchor() {
        let (text, encoding) = text_or_base64(anchor);
        out["anchor"] = Value::String(text);
        out["anchor_encoding"] = Value::String(encoding.to_owned());
    }
    out
}

fn text_or_base64(bytes: &[u8]) -> (String, &'static str) {
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_owned(), "utf8"),
        Err(_) => (b64::encode(bytes), "base64url"),
    }
}
